// Randomized ledger streams for property tests: every kind of ledger event, times out of order,
// some refusals. Deterministic for a seed.
#ifndef CLAIMGATE_TESTS_TESTING_RANDOM_EVENTS_H_
#define CLAIMGATE_TESTS_TESTING_RANDOM_EVENTS_H_

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "claimgate/v1/events.pb.h"
#include "tests/testing/events.h"

namespace claimgate::testing {

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Int(0, static_cast<int>(v.size()) - 1)];
  }
  // A time in 2025-2026 on a minute grid, rendered for the event builder.
  std::string Time() {
    const absl::Time t = absl::FromUnixSeconds(
        1735660800 + 60LL * Int(0, 2 * 365 * 24 * 60));  // from 2025-01-01 CST
    return absl::FormatTime("%Y-%m-%dT%H:%M", t, absl::FixedTimeZone(8 * 3600));
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

// A random stream of every kind of ledger event, times out of order.
inline std::vector<v1::Event> RandomStream(Random& r, int n) {
  EventBuilder ev;
  const std::vector<std::string> persons = {"D1", "D2", "D3", "D4", "D5"};
  const std::vector<std::string> insts = {"H1", "H2", "H3"};
  const std::vector<std::string> profiles = {"national", "hebei", "tibet", "guizhou"};
  std::vector<v1::Event> out;
  for (const std::string& i : insts) {
    out.push_back(ev.Institution(i, r.Pick(profiles), v1::InstitutionRegistered::HOSPITAL,
                                 r.Int(0, 3), r.Int(0, 1) ? "R1" : "R2", "2025-01-01T00:00"));
  }
  int assessments = 0;
  for (int k = 0; k < n; ++k) {
    const std::string& p = r.Pick(persons);
    const std::string& i = r.Pick(insts);
    const std::string t = r.Time();
    const std::string some_assessment = absl::StrCat("A", r.Int(1, std::max(1, assessments)));
    // Decision ids of §8.1 / §8.2: a few, so that revocations and resumptions find some and
    // repeat others.
    const std::string decision = absl::StrCat("K", r.Int(1, 8));
    switch (r.Int(0, 13)) {
      case 0:
      case 1:
        out.push_back(ev.Register(p, i, t));
        break;
      case 2:
        out.push_back(ev.Commit(p, i, t));
        break;
      case 3:
        out.push_back(ev.Deregister(p, i, t));
        break;
      case 4:
      case 5:
      case 6: {
        const bool fraud = r.Int(0, 5) == 0;
        out.push_back(ev.Score(absl::StrCat("A", ++assessments), p, i,
                               fraud ? r.Int(9, 12) : r.Int(0, 13), t,
                               fraud ? "FRAUD" : "OVER_TREATMENT",
                               static_cast<v1::ScoreAssessed::Responsibility>(r.Int(0, 3))));
        break;
      }
      case 7:
        out.push_back(r.Int(0, 1) ? ev.Confirm(some_assessment, t) : ev.Revoke(some_assessment, t));
        break;
      case 8:
        out.push_back(ev.Adjust(some_assessment, r.Int(0, 13), t));
        break;
      case 9:
        out.push_back(
            ev.Credit(p, static_cast<v1::RestorationCredited::Kind>(r.Int(1, 5)), r.Int(0, 3), t));
        break;
      case 10:
        out.push_back(ev.Shorten(p, r.Int(1, 200), t));
        break;
      case 11: {
        std::vector<std::string> named;
        for (const std::string& q : persons) {
          if (r.Int(0, 2) == 0) named.push_back(q);
        }
        out.push_back(
            ev.Agreement(i, static_cast<v1::AgreementChanged::State>(r.Int(1, 3)), named, t));
        break;
      }
      case 12:  // months 2..13: some refused INVALID_MONTHS
        out.push_back(r.Int(0, 2) != 0
                          ? ev.InsuredSuspend(absl::StrCat("P", r.Int(1, 3)), r.Int(2, 13),
                                              decision, t)
                          : ev.InsuredRevoke(decision, t));
        break;
      case 13:
        out.push_back(r.Int(0, 1) != 0
                          ? ev.SettlementSuspend(
                                i, static_cast<v1::SettlementSuspended::Scope>(r.Int(1, 2)),
                                decision, t)
                          : ev.SettlementResume(decision, t));
        break;
    }
  }
  return out;
}

// Random claims over the persons and institutions of RandomStream (and some unknown ones).
inline std::vector<v1::Claim> RandomClaims(Random& r, int n) {
  EventBuilder ev;
  const std::vector<std::string> persons = {"D1", "D2", "D3", "D4", "D5", "X9"};
  const std::vector<std::string> insts = {"H1", "H2", "H3", "H9"};
  std::vector<v1::Claim> out;
  for (int k = 0; k < n; ++k) {
    std::vector<std::string> practitioners;
    for (int j = r.Int(1, 3); j > 0; --j) practitioners.push_back(r.Pick(persons));
    v1::Event e = ev.Claim(absl::StrCat("C", k), r.Pick(insts), r.Time(), practitioners,
                           static_cast<v1::Claim::VisitType>(r.Int(1, 5)));
    // Release 2: insured persons some of whom get suspended, regions for NONLOCAL suspensions,
    // both kinds, and a few drug codes shared between claims (duplicates).
    e.mutable_claim()->set_insured_id(absl::StrCat("P", r.Int(1, 4)));
    if (r.Int(0, 1)) e.mutable_claim()->set_insured_region(r.Int(0, 1) ? "R1" : "R2");
    if (r.Int(0, 3) == 0) e.mutable_claim()->set_kind(v1::Claim::PRESCRIPTION);
    if (r.Int(0, 1)) {
      auto* item = e.mutable_claim()->add_items();
      item->set_item_code("DRUG1");
      item->set_category(r.Int(0, 4) == 0 ? v1::Claim::Item::CONSUMABLE : v1::Claim::Item::DRUG);
      for (int c = r.Int(0, 2); c > 0; --c) {
        item->add_traceability_codes(absl::StrCat("1234567890123456789", r.Int(0, 3)));
      }
    }
    out.push_back(e.claim());
  }
  return out;
}

}  // namespace claimgate::testing

#endif  // CLAIMGATE_TESTS_TESTING_RANDOM_EVENTS_H_
