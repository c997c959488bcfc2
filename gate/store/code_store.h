// The settled traceability codes on disk (SPEC §8.3, docs/duplicate-codes.md): code -> the claim
// that settled it first. What a code's owner keeps; memory bounded independently of the number of
// codes.
//
// RocksDB layout: one column family "codes". Key: the 20-digit code as a 9-byte big-endian integer
// (10^20 < 2^72). Value: claim id, institution id, service time and expiry (code_store.cc). A
// compaction filter forgets a code once its expiry is `expiry_grace` in the past: expiry costs no
// delete per code and no read (compactions rewrite files anyway; periodic compaction reaches the
// oldest). One family means one filter probe for a code never settled, the common case (measured
// against a family per expiry year in docs/duplicate-codes.md). Ribbon filters and partitioned
// indexes live in the block cache: memory is the cache plus memtables however many codes there are.
#ifndef CLAIMGATE_GATE_STORE_CODE_STORE_H_
#define CLAIMGATE_GATE_STORE_CODE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gate/codes.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class Slice;
}  // namespace rocksdb

namespace claimgate::gate {

struct CodeStoreOptions {
  std::string path;                            // a directory; created when missing
  uint64_t block_cache_bytes = 1024ull << 20;  // data, index and filter blocks
  uint64_t write_buffer_bytes = 64ull << 20;   // per column family memtable
  bool sync_writes = false;
  // How long after its expiry a code may still be on disk before compaction drops it: a claim
  // served before the expiry but decided later still finds the code (SPEC §8.3 judges at the
  // service time). Lookups return expired codes until then; the caller judges (Remembered()).
  absl::Duration expiry_grace = absl::Hours(24 * 366);
};

struct CodeStoreStats {
  uint64_t lookups = 0;  // codes looked up
  uint64_t found = 0;    // of which settled
};

// One code owner's transaction (gate/service/code_owner.h): the final state of each code and claim
// record it touched, and the `code-checks` positions it reached, written in one atomic batch.
struct CodeStoreWrite {
  std::vector<std::pair<std::string, std::optional<SettledCode>>> codes;  // nullopt: released
  // Claim records (what a reversal releases); nullopt: taken by a reversal.
  std::vector<std::pair<std::string, std::optional<std::vector<std::string>>>> claims;
  std::map<int32_t, int64_t> positions;  // code-checks partition -> the next offset to apply
  bool empty() const { return codes.empty() && claims.empty() && positions.empty(); }
};

class CodeStore {
 public:
  static absl::StatusOr<std::unique_ptr<CodeStore>> Open(const CodeStoreOptions& options);
  ~CodeStore();
  CodeStore(const CodeStore&) = delete;
  CodeStore& operator=(const CodeStore&) = delete;

  // The 9-byte key of a valid (20-digit) code; nullopt for anything else.
  static std::optional<std::string> Key(absl::string_view code);
  // The 20 digits of a code's value (below 10^20), leading zeros kept.
  static std::string CodeText(unsigned __int128 value);
  // Whether a record's value has expired more than `grace` before `now` (what the compaction
  // filter drops). False for a value it cannot read: kept.
  static bool Forgettable(absl::string_view value, absl::Time now, absl::Duration grace);

  // Looks the codes up in one batched read (filters answer the absent). `out[i]` is the settler of
  // `codes[i]`, or nullopt. Invalid codes are absent. Unavailable / DataLoss on a read error.
  absl::Status Lookup(absl::Span<const absl::string_view> codes,
                      std::vector<std::optional<SettledCode>>* out);
  // Records settlers in one atomic batch (a code settled again replaces the earlier record;
  // callers settle only codes Lookup found free or expired).
  absl::Status Settle(absl::Span<const std::pair<std::string, SettledCode>> codes);
  // Forgets codes (a reversal).
  absl::Status Release(absl::Span<const std::string> codes);

  // The file path's claim records: one atomic batch settles `settle` and records that `claim_id`
  // was decided holding `held` (what a reversal releases).
  absl::Status SettleClaim(absl::string_view claim_id,
                           absl::Span<const std::pair<std::string, SettledCode>> settle,
                           absl::Span<const absl::string_view> held);
  // The codes recorded for a decided claim, its record removed; nullopt when there is none (never
  // decided, or taken before).
  absl::StatusOr<std::optional<std::vector<std::string>>> TakeClaim(absl::string_view claim_id);

  // The owners' writes (see CodeStoreWrite).
  absl::Status Write(const CodeStoreWrite& write);
  // The codes recorded for a decided claim, in order; nullopt when none is recorded.
  absl::StatusOr<std::optional<std::vector<std::string>>> FindClaim(absl::string_view claim_id);
  // The code-checks positions the writes reached: partition -> next offset.
  absl::StatusOr<std::map<int32_t, int64_t>> Positions();

  // Bulk load for benchmarks and restores: `next` yields (code, settler) in ascending code order
  // and false at the end; written as SST files and ingested. Keys must not overlap the codes held.
  absl::Status BulkLoad(const std::function<bool(std::string* code, SettledCode* s)>& next);

  absl::Status Flush();
  // Compacts everything (the compaction filter forgets what has expired).
  absl::Status CompactAll();
  // SST bytes on disk plus memtables.
  uint64_t DiskBytes() const;
  // Bytes the block cache holds now, and its capacity.
  uint64_t CacheUsage() const;
  CodeStoreStats stats() const;

 private:
  CodeStore() = default;
  class ExpiryFilter;

  std::unique_ptr<ExpiryFilter> filter_;  // outlives db_ (declared first, destroyed last)
  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Cache> cache_;
  CodeStoreOptions options_;
  rocksdb::ColumnFamilyHandle* codes_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  uint64_t lookups_ = 0, found_ = 0;
  int load_files_ = 0;
  // Lookup()'s arrays, kept to avoid reallocating.
  std::vector<rocksdb::Slice> scratch_slices_;
};

// A CodeLookup over a CodeStore for one claim at a time: Prefetch() reads every code of the claim
// in one batch, FindSettled() answers from it.
class CodeStoreLookup final : public CodeLookup {
 public:
  explicit CodeStoreLookup(CodeStore* store) : store_(store) {}
  absl::Status Prefetch(const ClaimView& claim);
  const SettledCode* FindSettled(absl::string_view code) const override;

 private:
  CodeStore* store_;
  std::vector<absl::string_view> codes_;
  std::vector<std::optional<SettledCode>> found_;
};

// The file path's book on disk (`claimgate check --codes-dir`): memory bounded however many codes
// and claims the input holds.
class StoredCodeBook final : public ClaimCodeBook {
 public:
  explicit StoredCodeBook(CodeStore* store);
  const SettledCode* FindSettled(absl::string_view code) const override;
  absl::Status Prepare(const ClaimView& claim) override;
  absl::Status Record(const ClaimView& claim, absl::Span<const absl::string_view> codes,
                      const ledger::Profile& profile) override;
  absl::StatusOr<std::optional<std::vector<std::string>>> Reverse(
      absl::string_view claim_id) override;

 private:
  CodeStore* store_;
  CodeStoreLookup lookup_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_STORE_CODE_STORE_H_
