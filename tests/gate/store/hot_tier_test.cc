// The hot tier stays within its byte bound under churn, keeps what is used, never evicts what is
// pinned.
#include "gate/store/hot_tier.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "claimgate/v1/status.pb.h"
#include "gtest/gtest.h"

namespace claimgate::gate {
namespace {

std::unique_ptr<v1::PersonStatus> Record(const std::string& id, int registrations = 1) {
  auto p = std::make_unique<v1::PersonStatus>();
  p->set_person_id(id);
  for (int i = 0; i < registrations; ++i) {
    auto* r = p->add_registrations();
    r->set_institution_id(absl::StrCat("INSTITUTION-", i));
    r->mutable_since()->set_seconds(1735689600);
  }
  return p;
}

TEST(HotTierTest, StaysWithinItsByteBoundUnderChurn) {
  HotTier<v1::PersonStatus> tier(64 << 10);
  std::mt19937 rng(7);
  for (int k = 0; k < 20000; ++k) {
    const std::string id = absl::StrCat("P", rng() % 5000);
    if (!tier.Find(id).found) tier.Put(id, k % 10 == 0 ? nullptr : Record(id, 1 + rng() % 4));
    ASSERT_LE(tier.stats().bytes, tier.capacity_bytes());
  }
  EXPECT_GT(tier.stats().evictions, 0u);
  EXPECT_GT(tier.stats().hits, 0u);
  EXPECT_GT(tier.stats().entries, 50u);
  EXPECT_EQ(tier.stats().inserts - tier.stats().evictions, tier.stats().entries);
}

TEST(HotTierTest, FrequentlyUsedEntriesSurviveAScan) {
  HotTier<v1::PersonStatus> tier(32 << 10);
  tier.Put("HOT", Record("HOT"));
  for (int k = 0; k < 5000; ++k) {
    ASSERT_TRUE(tier.Find("HOT").found) << "evicted after " << k << " inserts";
    const std::string id = absl::StrCat("COLD", k);
    tier.Put(id, Record(id));
  }
}

TEST(HotTierTest, PinnedEntriesAreNeverEvicted) {
  HotTier<v1::PersonStatus> tier(16 << 10);
  const v1::PersonStatus* pinned = tier.Put("PIN", Record("PIN"));
  tier.Pin("PIN");
  for (int k = 0; k < 2000; ++k) tier.Put(absl::StrCat("X", k), Record("X"));
  auto again = tier.Find("PIN");
  ASSERT_TRUE(again.found);
  EXPECT_EQ(again.value, pinned);
  tier.UnpinAll();
  for (int k = 0; k < 2000; ++k) tier.Put(absl::StrCat("Y", k), Record("Y"));
  EXPECT_FALSE(tier.Find("PIN").found);
}

TEST(HotTierTest, AbsenceIsRememberedAndUpdatesOnlyReplace) {
  HotTier<v1::PersonStatus> tier(1 << 20);
  tier.Put("GONE", nullptr);
  auto gone = tier.Find("GONE");
  EXPECT_TRUE(gone.found);
  EXPECT_EQ(gone.value, nullptr);
  tier.Update("NEW", Record("NEW"));
  EXPECT_FALSE(tier.Find("NEW").found);
  tier.Update("GONE", Record("GONE", 2));
  ASSERT_NE(tier.Find("GONE").value, nullptr);
  EXPECT_EQ(tier.Find("GONE").value->registrations_size(), 2);
}

TEST(HotTierTest, AnEntryLargerThanTheTierIsNotKept) {
  HotTier<v1::PersonStatus> tier(256);
  EXPECT_EQ(tier.Put("BIG", Record("BIG", 50)), nullptr);
  EXPECT_FALSE(tier.Find("BIG").found);
  EXPECT_EQ(tier.stats().bytes, 0u);
}

}  // namespace
}  // namespace claimgate::gate
