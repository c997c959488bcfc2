// The settled traceability codes on disk (SPEC §8.3, docs/duplicate-codes.md): code -> the claim
// that settled it first. What a code's owner keeps; memory bounded independently of the number of
// codes.
//
// RocksDB layout: one column family per expiry year ("expire-YYYY": the calendar year, in
// UTC+08:00, in which the code is forgotten), so forgetting a year of codes drops one family: no
// delete per code. Key: the 20-digit code as a 9-byte big-endian integer (10^20 < 2^72). Value:
// claim id, institution id, service time and expiry (code_store.cc). Ribbon filters and partitioned
// indexes live in the block cache: a code never settled is answered by a filter probe per family,
// and memory is the block cache plus memtables however many codes there are.
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
};

struct CodeStoreStats {
  uint64_t lookups = 0;  // codes looked up
  uint64_t found = 0;    // of which settled
  uint64_t families = 0;
};

class CodeStore {
 public:
  static absl::StatusOr<std::unique_ptr<CodeStore>> Open(const CodeStoreOptions& options);
  ~CodeStore();
  CodeStore(const CodeStore&) = delete;
  CodeStore& operator=(const CodeStore&) = delete;

  // The 9-byte key of a valid (20-digit) code; nullopt for anything else.
  static std::optional<std::string> Key(absl::string_view code);
  // The family a code expiring at `expires` lives in.
  static int ExpiryYear(absl::Time expires);

  // Looks the codes up (one batched read per family; filters answer the absent). `out[i]` is the
  // settler of `codes[i]`, or nullopt. Invalid codes are absent. Unavailable / DataLoss on a read
  // error.
  absl::Status Lookup(absl::Span<const absl::string_view> codes,
                      std::vector<std::optional<SettledCode>>* out);
  // Records settlers in one atomic batch (a code settled again replaces the earlier record, in its
  // family; callers settle only codes Lookup found free or expired).
  absl::Status Settle(absl::Span<const std::pair<std::string, SettledCode>> codes);
  // Forgets codes (a reversal): each is deleted from the family of its settler's expiry.
  absl::Status Release(absl::Span<const std::pair<std::string, absl::Time>> codes_and_expiry);
  // Drops every family whose year ended before `now` (all its codes are forgotten by then).
  absl::Status DropExpired(absl::Time now);

  // Bulk load for benchmarks and restores: `next` yields (code, settler) in ascending code order
  // within one expiry year and false at the end; written as SST files and ingested.
  absl::Status BulkLoad(int expiry_year,
                        const std::function<bool(std::string* code, SettledCode* s)>& next);

  absl::Status Flush();
  absl::Status CompactAll();
  // SST bytes on disk plus memtables.
  uint64_t DiskBytes() const;
  // Bytes the block cache holds now, and its capacity.
  uint64_t CacheUsage() const;
  CodeStoreStats stats() const;

 private:
  CodeStore() = default;
  // The family of year `year`, created when missing.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Family(int year);

  std::unique_ptr<rocksdb::DB> db_;
  std::shared_ptr<rocksdb::Cache> cache_;
  CodeStoreOptions options_;
  std::map<int, rocksdb::ColumnFamilyHandle*> families_;  // expiry year -> family
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  uint64_t lookups_ = 0, found_ = 0;
  // Lookup()'s arrays, kept to avoid reallocating.
  std::vector<rocksdb::ColumnFamilyHandle*> scratch_families_;
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

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_STORE_CODE_STORE_H_
