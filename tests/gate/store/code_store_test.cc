// The settled-code store (gate/store/code_store.h): keys, settle / look up / release, expiry by
// the compaction filter, bulk load, reopen.
#include "gate/store/code_store.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"

namespace claimgate::gate {
namespace {

absl::Time T(const std::string& text) { return *ledger::ParseRfc3339(text); }

std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/code_store_", name, "_", getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<CodeStore> Open(const std::string& dir) {
  CodeStoreOptions o;
  o.path = dir;
  o.block_cache_bytes = 8 << 20;
  auto store = CodeStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status();
  return std::move(*store);
}

SettledCode Settler(const std::string& claim, const std::string& served,
                    const std::string& expires) {
  return SettledCode{claim, "H1", T(served), T(expires)};
}

std::vector<std::string> Found(CodeStore& store, const std::vector<absl::string_view>& codes) {
  std::vector<std::optional<SettledCode>> out;
  EXPECT_TRUE(store.Lookup(codes, &out).ok());
  std::vector<std::string> ids;
  for (const auto& s : out) ids.push_back(s.has_value() ? s->claim_id : "-");
  return ids;
}

TEST(CodeStoreTest, KeysKeepTheCodesOrderAndRefuseInvalidCodes) {
  const auto a = CodeStore::Key("00000000000000000001");
  const auto b = CodeStore::Key("00000000000000000010");
  const auto c = CodeStore::Key("99999999999999999999");
  ASSERT_TRUE(a.has_value() && b.has_value() && c.has_value());
  EXPECT_EQ(a->size(), 9u);
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  EXPECT_FALSE(CodeStore::Key("123").has_value());
  EXPECT_FALSE(CodeStore::Key("1234567890123456789x").has_value());
  EXPECT_FALSE(CodeStore::Key("123456789012345678901").has_value());
}

TEST(CodeStoreTest, SettleLookUpReleaseAndReopen) {
  const std::string dir = FreshDir("settle");
  const std::string x = "81234560000000000001", y = "81234560000000000002";
  {
    auto store = Open(dir);
    EXPECT_EQ(Found(*store, {x, y, "bad"}), (std::vector<std::string>{"-", "-", "-"}));
    const std::vector<std::pair<std::string, SettledCode>> settle = {
        {x, Settler("C1", "2025-03-02T10:00:00+08:00", "2028-03-02T10:00:00+08:00")},
        {y, Settler("C1", "2025-03-02T10:00:00+08:00", "2028-03-02T10:00:00+08:00")}};
    ASSERT_TRUE(store->Settle(settle).ok());
    std::vector<std::optional<SettledCode>> out;
    ASSERT_TRUE(store->Lookup(std::vector<absl::string_view>{x}, &out).ok());
    ASSERT_TRUE(out[0].has_value());
    EXPECT_EQ(out[0]->institution_id, "H1");
    EXPECT_EQ(out[0]->service_time, T("2025-03-02T10:00:00+08:00"));
    EXPECT_EQ(out[0]->expires, T("2028-03-02T10:00:00+08:00"));
    const std::vector<std::string> release = {y};
    ASSERT_TRUE(store->Release(release).ok());
    EXPECT_EQ(Found(*store, {x, y}), (std::vector<std::string>{"C1", "-"}));
  }
  auto store = Open(dir);
  EXPECT_EQ(Found(*store, {x, y}), (std::vector<std::string>{"C1", "-"}));
}

// Expiry: a code whose expiry is more than the grace in the past is dropped by compaction; one
// within the grace, or not expired, stays (the decision judges Remembered() itself).
TEST(CodeStoreTest, CompactionForgetsCodesExpiredLongerThanTheGrace) {
  const std::string dir = FreshDir("expire");
  auto store = Open(dir);  // grace: 366 days
  const std::string old = "81234560000000000001", recent = "81234560000000000002",
                    live = "81234560000000000003";
  const absl::Time now = absl::Now();
  const std::vector<std::pair<std::string, SettledCode>> settle = {
      {old, SettledCode{"C1", "H1", now - absl::Hours(24 * 2000), now - absl::Hours(24 * 400)}},
      {recent, SettledCode{"C2", "H1", now - absl::Hours(24 * 1200), now - absl::Hours(24 * 30)}},
      {live, SettledCode{"C3", "H1", now - absl::Hours(24 * 10), now + absl::Hours(24 * 1000)}}};
  ASSERT_TRUE(store->Settle(settle).ok());
  EXPECT_EQ(Found(*store, {old, recent, live}), (std::vector<std::string>{"C1", "C2", "C3"}));
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_TRUE(store->CompactAll().ok());
  EXPECT_EQ(Found(*store, {old, recent, live}), (std::vector<std::string>{"-", "C2", "C3"}));
  // A newer settler replaces the record.
  const std::vector<std::pair<std::string, SettledCode>> again = {
      {recent, SettledCode{"C4", "H2", now, now + absl::Hours(24 * 1000)}}};
  ASSERT_TRUE(store->Settle(again).ok());
  EXPECT_EQ(Found(*store, {recent}), (std::vector<std::string>{"C4"}));
}

TEST(CodeStoreTest, ForgettableReadsTheExpiryOfAValue) {
  std::string value;
  // The value's last 8 bytes are the expiry in Unix seconds (code_store.cc).
  value.assign(12, 'x');
  const int64_t expires = absl::ToUnixSeconds(T("2028-01-01T00:00:00Z"));
  for (int i = 0; i < 8; ++i) value.push_back(static_cast<char>((expires >> (8 * i)) & 0xff));
  const absl::Duration grace = absl::Hours(24);
  EXPECT_FALSE(CodeStore::Forgettable(value, T("2028-01-01T23:59:59Z"), grace));
  EXPECT_TRUE(CodeStore::Forgettable(value, T("2028-01-02T00:00:00Z"), grace));
  EXPECT_FALSE(CodeStore::Forgettable("short", T("2100-01-01T00:00:00Z"), grace));
}

TEST(CodeStoreTest, BulkLoadIsFoundAndLookupPrefetchesAClaimsCodes) {
  const std::string dir = FreshDir("bulk");
  auto store = Open(dir);
  int i = 0;
  const absl::Status loaded = store->BulkLoad([&](std::string* code, SettledCode* s) {
    if (i == 1000) return false;
    *code = absl::StrCat("8123456", 1000000000000LL + 7 * i);
    *s = Settler(absl::StrCat("B", i), "2027-01-01T00:00:00+08:00", "2030-01-01T00:00:00+08:00");
    ++i;
    return true;
  });
  ASSERT_TRUE(loaded.ok()) << loaded;
  EXPECT_EQ(Found(*store, {"81234561000000000000", "81234561000000000007",
                           "81234561000000000008"}),
            (std::vector<std::string>{"B0", "B1", "-"}));
  ClaimView claim;
  claim.claim_id = "C9";
  ClaimView::Item& item = claim.items.emplace_back();
  item.traceability_codes = {"81234561000000000014", "81234561000000000014", "bad"};
  CodeStoreLookup lookup(store.get());
  ASSERT_TRUE(lookup.Prefetch(claim).ok());
  ASSERT_NE(lookup.FindSettled("81234561000000000014"), nullptr);
  EXPECT_EQ(lookup.FindSettled("81234561000000000014")->claim_id, "B2");
  EXPECT_EQ(lookup.FindSettled("bad"), nullptr);
  EXPECT_EQ(store->stats().lookups, 4u);  // 3 + the claim's one distinct valid code
}

}  // namespace
}  // namespace claimgate::gate
