// The gate's status store: every person's and institution's status timeline (the records the ledger
// publishes), durable in RocksDB, with an in-memory hot tier in front. Answers "status of X at time
// T" from the hot tier without allocating; misses read through with one MultiGet per claim.
//
// RocksDB layout: column family "persons" and "institutions" (key: the id's bytes; value: the
// claimgate.v1.PersonStatus / InstitutionStatus Protobuf bytes), and "default" holding the source
// positions
// ("pos/" + source name -> 8-byte little-endian offset). Every Write() is one WriteBatch: records
// and the positions they bring the store to land together or not at all, so a restart resumes
// exactly where the data is.
#ifndef CLAIMGATE_GATE_STORE_STATUS_STORE_H_
#define CLAIMGATE_GATE_STORE_STATUS_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "gate/claim_view.h"
#include "gate/decision.h"
#include "gate/store/hot_tier.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace claimgate::gate {

// Defaults suit a 2-core, 24 GiB machine holding a country (10M persons): see docs/status-store.md.
struct StatusStoreOptions {
  std::string path;                           // a directory; created when missing
  uint64_t hot_tier_bytes = 768ull << 20;     // persons; institutions get 1/8 of this on top
  uint64_t block_cache_bytes = 256ull << 20;  // RocksDB block cache (data, index and filter blocks)
  uint64_t write_buffer_bytes = 64ull << 20;  // per column family memtable
  bool sync_writes = false;  // fsync the WAL on every Write (power-loss durability)
  // false: FindInsured answers null without looking (claimgate-bench insured measures what SPEC
  // §8.1's check costs against this).
  bool check_insured = true;
};

// One atomic update.
struct StatusBatch {
  std::vector<v1::PersonStatus> persons;
  std::vector<v1::InstitutionStatus> institutions;
  std::vector<v1::InsuredStatus> insured;
  std::map<std::string, int64_t>
      positions;  // source (e.g. "person-status/3") -> next offset to read
};

struct StatusStoreStats {
  HotTierStats persons;  // flat PersonRecords
  HotTierStats institutions;
  uint64_t rocksdb_reads = 0;  // keys read from RocksDB (misses)
  uint64_t insured_filtered = 0;  // insured lookups the in-memory filter answered (never suspended)
  uint64_t insured_reads = 0;     // insured lookups that read RocksDB
  uint64_t writes = 0;         // batches written
};

// Not thread-safe: one store per thread that decides (lookups update the hot tier).
class StatusStore final : public StatusLookup {
 public:
  // Opens or creates the store. InvalidArgument / IOError / Corruption from RocksDB, converted.
  static absl::StatusOr<std::unique_ptr<StatusStore>> Open(const StatusStoreOptions& options);
  ~StatusStore() override;
  StatusStore(const StatusStore&) = delete;
  StatusStore& operator=(const StatusStore&) = delete;

  // Writes records and positions atomically; records already in the hot tier are replaced there
  // too.
  absl::Status Write(const StatusBatch& batch);

  // The positions stored by the last Write() (empty for a new store).
  absl::StatusOr<std::map<std::string, int64_t>> Positions() const;

  // Makes the institution and every practitioner of `claim` resident (one MultiGet for the misses)
  // and pins them until the next Resolve(), so the pointers FindPerson/FindInstitution return for
  // them stay valid while the claim is decided. An IOError from RocksDB is returned; absent ids are
  // not an error.
  absl::Status Resolve(const ClaimView& claim) override;
  absl::Status Resolve(const v1::Claim& claim);

  // StatusLookup. After Resolve() these are hot-tier hits; otherwise they read through (one Get).
  // A returned pointer is valid until the next Resolve() or Write().
  const ledger::PersonRecord* FindPerson(absl::string_view person_id) const override;
  const v1::InstitutionStatus* FindInstitution(absl::string_view institution_id) const override;
  // Answered by the in-memory filter of ever-suspended insured ids for everyone else (SPEC §8.1:
  // no store read that misses); the record of a filtered-in id is read from RocksDB.
  const v1::InsuredStatus* FindInsured(absl::string_view insured_id) const override;
  void set_check_insured(bool on) { check_insured_ = on; }
  // Insured persons with a record (the filter's size).
  uint64_t InsuredCount() const { return insured_filter_.size(); }

  // Flushes memtables to SST files (a fast reopen needs no WAL replay).
  absl::Status Flush();
  // Approximate sizes of the column families on disk plus memtables.
  uint64_t ApproximateBytes() const;
  // The stored status of one person straight from RocksDB, bypassing the hot tier: safe to call
  // from another thread while the deciding thread uses the store (the HTTP status query). NotFound
  // for an unknown person; DataLoss for an unreadable record.
  absl::StatusOr<v1::PersonStatus> ReadPersonStatus(absl::string_view person_id) const;
  // RocksDB's estimate of the records held (rocksdb.estimate-num-keys).
  uint64_t ApproximatePersons() const;
  uint64_t ApproximateInstitutions() const;
  StatusStoreStats stats() const;
  rocksdb::DB* db_for_test() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* persons_cf_for_test() const { return persons_; }

 private:
  StatusStore() = default;

  // Reads one record through to RocksDB on a miss; `Stored` is the Protobuf stored there, `T` what
  // the tier keeps (the same message, or a PersonRecord built from it).
  template <typename Stored, typename T>
  const T* ReadThrough(HotTier<T>& tier, rocksdb::ColumnFamilyHandle* cf,
                       absl::string_view id) const;
  // The RocksDB half of ReadThrough, for a miss already counted.
  template <typename Stored, typename T>
  const T* Load(HotTier<T>& tier, rocksdb::ColumnFamilyHandle* cf, absl::string_view id) const;

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;  // owned by db_ (closed in the destructor)
  rocksdb::ColumnFamilyHandle* persons_ = nullptr;
  rocksdb::ColumnFamilyHandle* institutions_ = nullptr;
  rocksdb::ColumnFamilyHandle* insured_ = nullptr;
  bool sync_writes_ = false;
  // Hashes of the insured ids with a record (loaded at Open, grown by Write): a miss here is
  // certain, a hit is read from RocksDB.
  absl::flat_hash_set<uint64_t> insured_filter_;
  mutable uint64_t insured_filtered_ = 0, insured_reads_ = 0;
  bool check_insured_ = true;
  // The insured id of the claim Resolve() prepared (a view into it) and its answer, found or not.
  absl::string_view resolved_insured_id_;
  const v1::InsuredStatus* resolved_insured_ = nullptr;
  // The insured records read since the last Resolve() or Write() (Resolve's, and any other id asked
  // for): kept so that every pointer handed out stays valid until then.
  mutable std::vector<std::unique_ptr<v1::InsuredStatus>> read_insured_;
  absl::Status LoadInsuredFilter();
  // Reads one insured record; null when absent or unreadable (`error` set for the latter).
  const v1::InsuredStatus* ReadInsured(absl::string_view insured_id, absl::Status* error) const;
  mutable std::unique_ptr<HotTier<ledger::PersonRecord>> person_tier_;
  mutable std::unique_ptr<HotTier<v1::InstitutionStatus>> institution_tier_;
  mutable uint64_t rocksdb_reads_ = 0;
  uint64_t writes_ = 0;
  template <typename T>
  const T* Keep(HotTier<T>& tier, absl::string_view id, std::unique_ptr<T> value) const;

  // Scratch for Resolve(), kept to avoid reallocating.
  std::vector<std::string> miss_keys_;
  // The claim Resolve() prepared: lookups of its ids skip the hash table.
  absl::string_view resolved_institution_id_;
  const v1::InstitutionStatus* resolved_institution_ = nullptr;
  absl::InlinedVector<std::pair<absl::string_view, const ledger::PersonRecord*>, 4>
      resolved_persons_;
  // Records too large for their tier, held until the next Resolve() so returned pointers stay
  // valid.
  mutable std::vector<std::unique_ptr<v1::InstitutionStatus>> oversized_institutions_;
  mutable std::vector<std::unique_ptr<ledger::PersonRecord>> oversized_persons_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_STORE_STATUS_STORE_H_
