// Randomized properties of the ledger:
//  1. incremental application equals recomputation from scratch after every event;
//  2. two ledgers fed the same events agree on every status-at-time question;
//  3. assessments and credits decide the same history whatever order they arrive in (SPEC §4.3).
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "ledger/render.h"
#include "ledger/status_query.h"
#include "tests/testing/events.h"

namespace claimgate::ledger {
namespace {

using claimgate::testing::EventBuilder;

constexpr int kSeeds = 150;

class Random {
 public:
  explicit Random(uint32_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Int(0, static_cast<int>(v.size()) - 1)]; }
  // A time in 2025-2026 on a minute grid, rendered for the event builder.
  std::string Time() {
    const absl::Time t = absl::FromUnixSeconds(1735660800 + 60LL * Int(0, 2 * 365 * 24 * 60));  // from 2025-01-01 CST
    return absl::FormatTime("%Y-%m-%dT%H:%M", t, absl::FixedTimeZone(8 * 3600));
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

std::unique_ptr<ProfileSet> Profiles() { return std::move(*ProfileSet::Builtin()); }

std::string RenderAll(const Ledger& l) {
  std::string out;
  for (const std::string& id : l.PersonIds()) absl::StrAppend(&out, RenderPerson(*l.FindPerson(id)), "\n");
  for (const std::string& id : l.InstitutionIds()) {
    absl::StrAppend(&out, RenderInstitution(*l.FindInstitution(id)), "\n");
  }
  return out;
}

// A random stream of every kind of ledger event, times out of order.
std::vector<v1::Event> RandomStream(Random& r, int n) {
  EventBuilder ev;
  const std::vector<std::string> persons = {"D1", "D2", "D3", "D4", "D5"};
  const std::vector<std::string> insts = {"H1", "H2", "H3"};
  const std::vector<std::string> profiles = {"national", "hebei", "tibet", "guizhou"};
  std::vector<v1::Event> out;
  for (const std::string& i : insts) {
    out.push_back(ev.Institution(i, r.Pick(profiles), v1::InstitutionRegistered::HOSPITAL, r.Int(0, 3),
                                 r.Int(0, 1) ? "R1" : "R2", "2025-01-01T00:00"));
  }
  int assessments = 0;
  for (int k = 0; k < n; ++k) {
    const std::string& p = r.Pick(persons);
    const std::string& i = r.Pick(insts);
    const std::string t = r.Time();
    const std::string some_assessment = absl::StrCat("A", r.Int(1, std::max(1, assessments)));
    switch (r.Int(0, 11)) {
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
        out.push_back(ev.Score(absl::StrCat("A", ++assessments), p, i, fraud ? r.Int(9, 12) : r.Int(0, 13), t,
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
        out.push_back(ev.Credit(p, static_cast<v1::RestorationCredited::Kind>(r.Int(1, 5)), r.Int(0, 3), t));
        break;
      case 10:
        out.push_back(ev.Shorten(p, r.Int(1, 200), t));
        break;
      case 11: {
        std::vector<std::string> named;
        for (const std::string& q : persons) {
          if (r.Int(0, 2) == 0) named.push_back(q);
        }
        out.push_back(ev.Agreement(i, static_cast<v1::AgreementChanged::State>(r.Int(1, 3)), named, t));
        break;
      }
    }
  }
  return out;
}

TEST(LedgerPropertyTest, IncrementalEqualsRecomputedAfterEveryEvent) {
  auto profiles = Profiles();
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random r(seed);
    const std::vector<v1::Event> stream = RandomStream(r, 120);
    auto ledger = std::move(*Ledger::Create(profiles.get(), "national"));
    for (size_t k = 0; k < stream.size(); ++k) {
      ledger->Apply(stream[k]);
      const std::vector<std::string> changed = ledger->RecomputeAllForTest();
      ASSERT_TRUE(changed.empty()) << "seed " << seed << " event " << k << " "
                                   << stream[k].ShortDebugString() << ": " << changed[0];
    }
  }
}

TEST(LedgerPropertyTest, SameEventsSameAnswersAtEveryInstant) {
  auto profiles = Profiles();
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random r(1000 + seed);
    const std::vector<v1::Event> stream = RandomStream(r, 120);
    auto a = std::move(*Ledger::Create(profiles.get(), "national"));
    auto b = std::move(*Ledger::Create(profiles.get(), "hebei"));
    for (const v1::Event& e : stream) a->Apply(e);
    for (const v1::Event& e : stream) b->Apply(e);
    // Institutions all name their profile, so the default does not matter to registered ones...
    for (const std::string& id : a->PersonIds()) {
      const v1::PersonStatus& pa = *a->FindPerson(id);
      const v1::PersonStatus& pb = *b->FindPerson(id);
      for (int k = 0; k < 40; ++k) {
        const absl::Time t = claimgate::testing::T(r.Time());
        const StateAt sa = PersonStateAt(pa, t), sb = PersonStateAt(pb, t);
        ASSERT_EQ(sa.state, sb.state) << "seed " << seed << " " << id;
        ASSERT_EQ(sa.since, sb.since);
        ASSERT_EQ(sa.until, sb.until);
        // ...and the state's interval really contains the instant.
        ASSERT_LE(sa.since, t);
        ASSERT_LT(t, sa.until);
        ASSERT_EQ(PersonStateAt(pa, sa.since).state, sa.state) << "seed " << seed << " " << id;
        if (sa.until != absl::InfiniteFuture()) {
          ASSERT_EQ(PersonStateAt(pa, sa.until - absl::Seconds(1)).state, sa.state) << "seed " << seed;
          // Intervals partition time: the next one starts where this one ends.
          ASSERT_EQ(PersonStateAt(pa, sa.until).since, sa.until)
              << "seed " << seed << " " << RenderPerson(pa) << " at " << RenderTime(t) << " state "
              << sa.state << " " << RenderTime(sa.since) << ".." << RenderTime(sa.until);
        }
        for (const char* inst : {"H1", "H2", "H3"}) {
          const Standing x = StandingAt(&pa, inst, t), y = StandingAt(&pb, inst, t);
          ASSERT_EQ(x.registration, y.registration);
          ASSERT_EQ(x.sanction.state, y.sanction.state);
        }
      }
    }
  }
}

// Registrations first, then assessments (distinct decision times) and credits (within caps) in any order.
TEST(LedgerPropertyTest, ArrivalOrderDoesNotChangeHistory) {
  auto profiles = Profiles();
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random r(5000 + seed);
    EventBuilder ev;
    std::vector<v1::Event> head;
    const std::vector<std::string> profile_names = {"national", "hebei", "tibet"};
    head.push_back(ev.Institution("H1", r.Pick(profile_names)));
    head.push_back(ev.Institution("H2", r.Pick(profile_names)));
    for (const char* p : {"D1", "D2", "D3"}) {
      head.push_back(ev.Register(p, "H1", "2024-12-01T00:00"));
      head.push_back(ev.Register(p, "H2", "2024-12-01T00:00"));
    }
    std::vector<v1::Event> body;
    std::vector<std::string> used_times;
    auto fresh_time = [&] {
      std::string t;
      do {
        t = r.Time();
      } while (std::find(used_times.begin(), used_times.end(), t) != used_times.end());
      used_times.push_back(t);
      return t;
    };
    for (int k = 0; k < 25; ++k) {
      body.push_back(ev.Score(absl::StrCat("A", k), r.Pick(std::vector<std::string>{"D1", "D2", "D3"}),
                              r.Int(0, 1) ? "H1" : "H2", r.Int(1, 12), fresh_time()));
    }
    for (const char* p : {"D1", "D2", "D3"}) {
      body.push_back(ev.Credit(p, v1::RestorationCredited::TRAINING_EXAM, r.Int(1, 3), fresh_time()));
      body.push_back(ev.Credit(p, v1::RestorationCredited::RESEARCH, 1, fresh_time()));
    }
    std::vector<v1::Event> tail = {ev.Revoke("A3", "2027-01-01T00:00"), ev.Adjust("A5", r.Int(1, 12), "2027-01-02T00:00")};

    std::string first;
    for (int round = 0; round < 3; ++round) {
      if (round > 0) std::shuffle(body.begin(), body.end(), r.rng());
      auto ledger = std::move(*Ledger::Create(profiles.get(), "national"));
      for (const auto* part : {&head, &body, &tail}) {
        for (const v1::Event& e : *part) {
          const ApplyResult res = ledger->Apply(e);
          ASSERT_FALSE(res.refused) << res.message;
        }
      }
      const std::string rendered = RenderAll(*ledger);
      if (round == 0) {
        first = rendered;
      } else {
        ASSERT_EQ(rendered, first) << "seed " << seed << " round " << round;
      }
    }
  }
}

}  // namespace
}  // namespace claimgate::ledger
