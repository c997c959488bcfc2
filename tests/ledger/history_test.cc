// LedgerHistory: every version of every status record, looked up by the ledger position that
// produced it (what replay uses to see a record as the gate saw it).
#include "ledger/history.h"

#include "gtest/gtest.h"
#include "ledger/status_query.h"
#include "tests/testing/events.h"

namespace claimgate::ledger {
namespace {

using claimgate::testing::EventBuilder;
using claimgate::testing::T;

TEST(LedgerHistoryTest, RecordsAsTheyStoodAtEachPosition) {
  auto profiles = ProfileSet::Builtin();
  ASSERT_TRUE(profiles.ok());
  auto history = LedgerHistory::Create(profiles->get(), "hebei");
  ASSERT_TRUE(history.ok());
  LedgerHistory& h = **history;
  EventBuilder ev;
  h.Apply(ev.Institution("H1", "hebei"));                      // 1
  h.Apply(ev.Register("D1", "H1", "2025-01-02T09:00"));        // 2
  h.Apply(ev.Commit("D1", "H1", "2025-01-02T10:00"));          // 3
  h.Apply(ev.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));  // 4: suspended
  h.Apply(ev.Score("A1", "D1", "H1", 9, "2025-03-11T10:00"));  // 5: refused (duplicate id)
  h.Apply(ev.Revoke("A1", "2025-04-01T09:00"));                // 6: appeal upheld
  ASSERT_EQ(h.position(), 6);

  const absl::Time during = T("2025-03-20T10:30");
  auto state_at = [&](int64_t position) {
    const PersonRecord* p = h.PersonAt("D1", position);
    return p == nullptr ? v1::PersonStatus::STATE_UNSPECIFIED
                        : StandingAt(p, "H1", during).sanction.state;
  };
  EXPECT_EQ(h.PersonAt("D1", 0), nullptr);  // before any event
  EXPECT_EQ(h.PersonAt("D1", 1), nullptr);  // registered at 2
  EXPECT_EQ(h.PersonAt("D1", 2)->ledger_position(), 2);
  EXPECT_EQ(state_at(3), v1::PersonStatus::NORMAL);
  EXPECT_EQ(state_at(4), v1::PersonStatus::SUSPENDED);
  EXPECT_EQ(h.PersonAt("D1", 5)->ledger_position(), 4);  // the refused event changed nothing
  EXPECT_EQ(state_at(6), v1::PersonStatus::NORMAL);
  EXPECT_EQ(state_at(LedgerHistory::kNow), v1::PersonStatus::NORMAL);
  EXPECT_EQ(h.PersonAt("D1", LedgerHistory::kNow)->ledger_position(), 6);
  EXPECT_EQ(h.PersonAt("nobody", LedgerHistory::kNow), nullptr);
  EXPECT_EQ(h.InstitutionAt("H1", 0), nullptr);
  EXPECT_EQ(h.InstitutionAt("H1", 1)->ledger_position(), 1);
  EXPECT_EQ(h.InstitutionAt("H1", LedgerHistory::kNow)->profile(), "hebei");
  // Each version equals what the ledger published at its position.
  EXPECT_EQ(h.PersonAt("D1", LedgerHistory::kNow)->bytes(),
            h.ledger().FindPersonRecord("D1")->bytes());
}

}  // namespace
}  // namespace claimgate::ledger
