// Randomized properties of the ledger:
//  1. incremental application equals recomputation from scratch after every event;
//  2. two ledgers fed the same events agree on every status-at-time question;
//  3. assessments and credits decide the same history whatever order they arrive in (SPEC §4.3);
//  4. settlement suspensions of insured persons and institutions (SPEC §8.1, §8.2) agree with an
//     oracle written from SPEC's sentences, and the §8.5 notice comes at most once an institution
//     and year.
#include <algorithm>
#include <map>
#include <set>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "ledger/render.h"
#include "ledger/status_query.h"
#include "tests/testing/events.h"
#include "tests/testing/random_events.h"

namespace claimgate::ledger {
namespace {

using claimgate::testing::EventBuilder;

constexpr int kSeeds = 150;

using claimgate::testing::Random;
using claimgate::testing::RandomStream;

std::unique_ptr<ProfileSet> Profiles() { return std::move(*ProfileSet::Builtin()); }

std::string RenderAll(const Ledger& l) {
  std::string out;
  for (const std::string& id : l.PersonIds())
    absl::StrAppend(&out, RenderPerson(*l.FindPerson(id)), "\n");
  for (const std::string& id : l.InstitutionIds()) {
    absl::StrAppend(&out, RenderInstitution(*l.FindInstitution(id)), "\n");
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
          ASSERT_EQ(PersonStateAt(pa, sa.until - absl::Seconds(1)).state, sa.state)
              << "seed " << seed;
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

// Issue 12.1: after any history, registering again once every bar is over (and signing the
// commitment) makes the person payable there again; a registration elsewhere is never TERMINATED
// or NOT_REGISTERED. The random streams end in 2026: bars end by 2029.
TEST(LedgerPropertyTest, ReRegistrationAfterTheBarRestoresEligibility) {
  auto profiles = Profiles();
  int terminated_before = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random r(9000 + seed);
    std::vector<v1::Event> stream = RandomStream(r, 120);
    EventBuilder ev;
    for (const char* p : {"D1", "D2", "D3", "D4", "D5"}) {
      const std::string again = r.Pick(std::vector<std::string>{"H1", "H2", "H3"});
      stream.push_back(ev.Register(p, again, "2031-01-01T00:00"));
      stream.push_back(ev.Commit(p, again, "2031-01-01T01:00"));
      stream.push_back(ev.Register(p, again == "H1" ? "H2" : "H1", "2031-02-01T00:00"));
    }
    for (size_t k = stream.size() - 15; k < stream.size(); ++k)
      stream[k].set_event_id(absl::StrCat("again-", k));  // RandomStream's builder used E1...
    auto ledger = std::move(*Ledger::Create(profiles.get(), "national"));
    for (size_t k = 0; k < stream.size(); ++k) {
      const ApplyResult res = ledger->Apply(stream[k]);
      if (k + 15 >= stream.size()) {  // the registrations and commitments added above
        ASSERT_FALSE(res.refused) << "seed " << seed << " " << stream[k].ShortDebugString() << ": "
                                  << res.message;
      }
    }
    ASSERT_TRUE(ledger->RecomputeAllForTest().empty()) << "seed " << seed;
    for (int k = 0; k < 5; ++k) {
      const std::string p = absl::StrCat("D", k + 1);
      const v1::PersonStatus& status = *ledger->FindPerson(p);
      if (status.terminations_size() > 0) ++terminated_before;
      const absl::Time t = claimgate::testing::T("2031-06-01T00:00");
      const size_t n = stream.size();
      const std::string committed = stream[n - 15 + 3 * k].person_registered().institution_id();
      const std::string uncommitted = stream[n - 13 + 3 * k].person_registered().institution_id();
      const Standing a = StandingAt(&status, committed, t);
      ASSERT_EQ(a.registration, v1::REASON_CODE_UNSPECIFIED)
          << "seed " << seed << " " << RenderPerson(status);
      ASSERT_NE(a.sanction.state, v1::PersonStatus::TERMINATED)
          << "seed " << seed << " " << RenderPerson(status);
      // A commitment from the random history may count for it (D11); a termination never does.
      const Standing b = StandingAt(&status, uncommitted, t);
      ASSERT_NE(b.registration, v1::PRACTITIONER_NOT_REGISTERED)
          << "seed " << seed << " " << RenderPerson(status);
      ASSERT_NE(b.sanction.state, v1::PersonStatus::TERMINATED)
          << "seed " << seed << " " << RenderPerson(status);
      ASSERT_NE(PersonStateAt(status, t).state, v1::PersonStatus::TERMINATED) << "seed " << seed;
    }
  }
  EXPECT_GT(terminated_before, kSeeds / 2);  // the property is exercised after terminations
}

// Registrations first, then assessments (distinct decision times) and credits (within caps) in any
// order.
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
      body.push_back(ev.Score(absl::StrCat("A", k),
                              r.Pick(std::vector<std::string>{"D1", "D2", "D3"}),
                              r.Int(0, 1) ? "H1" : "H2", r.Int(1, 12), fresh_time()));
    }
    for (const char* p : {"D1", "D2", "D3"}) {
      body.push_back(
          ev.Credit(p, v1::RestorationCredited::TRAINING_EXAM, r.Int(1, 3), fresh_time()));
      body.push_back(ev.Credit(p, v1::RestorationCredited::RESEARCH, 1, fresh_time()));
    }
    std::vector<v1::Event> tail = {ev.Revoke("A3", "2027-01-01T00:00"),
                                   ev.Adjust("A5", r.Int(1, 12), "2027-01-02T00:00")};

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

// An oracle of §8.1 and §8.2 kept beside the ledger: each decision id's interval, as SPEC words it.
TEST(LedgerPropertyTest, SettlementSuspensionsAgreeWithAnOracle) {
  auto profiles = Profiles();
  const Calendar calendar;
  int suspended_seen = 0, institution_suspended_seen = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    Random r(5000 + seed);
    const std::vector<v1::Event> stream = RandomStream(r, 160);
    auto ledger = std::move(*Ledger::Create(profiles.get(), "national"));
    struct Interval {
      std::string subject;  // insured or institution id
      absl::Time since, until;
      bool lifted = false;
      bool insured = true;
    };
    std::map<std::string, Interval> decisions;  // decision id -> its interval (spent once used)
    std::set<std::pair<std::string, int>> noticed;
    for (const v1::Event& e : stream) {
      const ApplyResult result = ledger->Apply(e);
      for (const v1::LedgerNotice& n : result.notices) {
        if (n.notice() != "INSTITUTION_SANCTION_RATIO_EXCEEDED") continue;
        ASSERT_TRUE(noticed.emplace(n.institution_id(), n.year()).second) << "seed " << seed;
      }
      const absl::Time t = FromProto(e.time());
      if (e.has_insured_settlement_suspended()) {
        const auto& b = e.insured_settlement_suspended();
        const bool valid = b.months() >= 3 && b.months() <= 12;
        const bool fresh = !decisions.contains(b.decision_id());
        ASSERT_EQ(result.refused, !valid || !fresh) << "seed " << seed;
        ASSERT_EQ(result.error, !valid ? v1::INVALID_MONTHS
                                : !fresh ? v1::DUPLICATE_EVENT
                                         : v1::LEDGER_ERROR_UNSPECIFIED);
        if (valid && fresh) {
          decisions[b.decision_id()] = {b.insured_id(), t, calendar.AddMonths(t, b.months())};
        }
      } else if (e.has_settlement_suspended()) {
        const auto& b = e.settlement_suspended();
        const bool fresh = !decisions.contains(b.decision_id());
        ASSERT_EQ(result.refused, !fresh);
        if (fresh) {
          decisions[b.decision_id()] = {b.institution_id(), t, absl::InfiniteFuture(), false,
                                        false};
        }
      } else if (e.has_insured_suspension_revoked() || e.has_settlement_resumed()) {
        const std::string& id = e.has_insured_suspension_revoked()
                                    ? e.insured_suspension_revoked().decision_id()
                                    : e.settlement_resumed().decision_id();
        auto it = decisions.find(id);
        const bool known = it != decisions.end() && !it->second.lifted &&
                           it->second.insured == e.has_insured_suspension_revoked();
        ASSERT_EQ(result.refused, !known) << "seed " << seed << " " << e.ShortDebugString();
        if (known) {
          ASSERT_EQ(result.error, v1::LEDGER_ERROR_UNSPECIFIED);
          it->second.lifted = true;
          if (!it->second.insured) it->second.until = std::max(t, it->second.since);
        } else {
          ASSERT_EQ(result.error, v1::UNKNOWN_DECISION);
        }
      }
    }
    // At random instants: suspended exactly when a live interval covers the instant.
    for (int k = 0; k < 200; ++k) {
      const absl::Time t = claimgate::testing::T(r.Time());
      for (const char* subject : {"P1", "P2", "P3", "H1", "H2", "H3"}) {
        bool want = false;
        for (const auto& [id, iv] : decisions) {
          if (iv.subject != subject || (iv.insured && iv.lifted)) continue;
          want |= iv.since <= t && t < iv.until;
        }
        bool got = false;
        if (subject[0] == 'P') {
          const v1::InsuredStatus* s = ledger->FindInsured(subject);
          for (int i = 0; s != nullptr && i < s->suspensions_size(); ++i) {
            const auto& sus = s->suspensions(i);
            got |= FromProto(sus.since()) <= t && t < FromProto(sus.until());
          }
          suspended_seen += got;
        } else {
          const v1::InstitutionStatus* s = ledger->FindInstitution(subject);
          for (int i = 0; s != nullptr && i < s->settlement_suspensions_size(); ++i) {
            const auto& sus = s->settlement_suspensions(i);
            got |= FromProto(sus.since()) <= t &&
                   (!sus.has_until() || t < FromProto(sus.until()));
          }
          institution_suspended_seen += got;
        }
        ASSERT_EQ(got, want) << "seed " << seed << " " << subject << " at " << RenderTime(t);
      }
    }
  }
  EXPECT_GT(suspended_seen, 100);  // the property is exercised
  EXPECT_GT(institution_suspended_seen, 100);
}

}  // namespace
}  // namespace claimgate::ledger
