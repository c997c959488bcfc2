// RocksDB adapter of the status store. rocksdb::Status is converted to absl::Status here and
// nowhere else.
#include "gate/store/status_store.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace claimgate::gate {
namespace {

constexpr char kPersonsCf[] = "persons";
constexpr char kInstitutionsCf[] = "institutions";
constexpr char kInsuredCf[] = "insured";
constexpr char kPositionPrefix[] = "pos/";

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

std::string EncodeFixed64(int64_t v) {
  std::string out(8, '\0');
  const uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  return out;
}

int64_t DecodeFixed64(const rocksdb::Slice& s) {
  uint64_t u = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(s.size()); ++i) {
    u |= static_cast<uint64_t>(static_cast<unsigned char>(s.data()[i])) << (8 * i);
  }
  return static_cast<int64_t>(u);
}

rocksdb::ColumnFamilyOptions CfOptions(const StatusStoreOptions& o,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;  // memory stays within the block cache bound
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.block_size = 4096;
  table.format_version = 5;
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = 3;
  // LZ4 everywhere: measured at 10M persons, ZSTD at the bottom level cost 20% of MultiGet
  // throughput and no compression gained nothing (the cold path is bound by block-cache misses, not
  // decompression).
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kLZ4Compression;
  cf.level_compaction_dynamic_level_bytes = true;
  return cf;
}

uint64_t InsuredHash(absl::string_view id) { return absl::Hash<absl::string_view>{}(id); }

}  // namespace

absl::StatusOr<std::unique_ptr<StatusStore>> StatusStore::Open(const StatusStoreOptions& o) {
  if (o.path.empty()) return absl::InvalidArgumentError("status store: empty path");
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.max_open_files = -1;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  const rocksdb::ColumnFamilyOptions cf = CfOptions(o, cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf},
      {kPersonsCf, cf},
      {kInstitutionsCf, cf},
      {kInsuredCf, cf}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::DB::Open(db_options, o.path, families, &handles, &raw),
                                 absl::StrCat("opening status store ", o.path));
      !s.ok()) {
    return s;
  }
  std::unique_ptr<StatusStore> store(new StatusStore());
  store->db_.reset(raw);
  store->default_ = handles[0];
  store->persons_ = handles[1];
  store->institutions_ = handles[2];
  store->insured_ = handles[3];
  if (absl::Status s = store->LoadInsuredFilter(); !s.ok()) return s;
  store->sync_writes_ = o.sync_writes;
  store->check_insured_ = o.check_insured;
  store->person_tier_ = std::make_unique<HotTier<ledger::PersonRecord>>(o.hot_tier_bytes);
  store->institution_tier_ = std::make_unique<HotTier<v1::InstitutionStatus>>(o.hot_tier_bytes / 8);
  return store;
}

StatusStore::~StatusStore() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : {default_, persons_, institutions_, insured_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::Status StatusStore::Write(const StatusBatch& batch) {
  // Updates below may replace records the last Resolve() handed out.
  resolved_persons_.clear();
  resolved_institution_ = nullptr;
  resolved_institution_id_ = {};
  rocksdb::WriteBatch wb;
  std::string bytes;
  for (const v1::PersonStatus& p : batch.persons) {
    p.SerializeToString(&bytes);
    wb.Put(persons_, p.person_id(), bytes);
  }
  for (const v1::InstitutionStatus& i : batch.institutions) {
    i.SerializeToString(&bytes);
    wb.Put(institutions_, i.institution_id(), bytes);
  }
  for (const v1::InsuredStatus& i : batch.insured) {
    i.SerializeToString(&bytes);
    wb.Put(insured_, i.insured_id(), bytes);
  }
  for (const auto& [source, offset] : batch.positions) {
    wb.Put(default_, absl::StrCat(kPositionPrefix, source), EncodeFixed64(offset));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_writes_;
  if (absl::Status s = FromRocks(db_->Write(wo, &wb), "writing status batch"); !s.ok()) return s;
  ++writes_;
  // Keep the hot tier coherent: replace what it holds; do not pull in what nobody asked for.
  for (const v1::PersonStatus& p : batch.persons) {
    person_tier_->Update(p.person_id(), std::make_unique<ledger::PersonRecord>(p));
  }
  for (const v1::InstitutionStatus& i : batch.institutions) {
    institution_tier_->Update(i.institution_id(), std::make_unique<v1::InstitutionStatus>(i));
  }
  for (const v1::InsuredStatus& i : batch.insured) {
    insured_filter_.insert(InsuredHash(i.insured_id()));
  }
  read_insured_.clear();
  resolved_insured_id_ = {};
  resolved_insured_ = nullptr;
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, int64_t>> StatusStore::Positions() const {
  std::map<std::string, int64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_));
  for (it->Seek(kPositionPrefix); it->Valid() && it->key().starts_with(kPositionPrefix);
       it->Next()) {
    out[it->key().ToString().substr(std::strlen(kPositionPrefix))] = DecodeFixed64(it->value());
  }
  if (absl::Status s = FromRocks(it->status(), "reading positions"); !s.ok()) return s;
  return out;
}

template <typename T>
const T* StatusStore::Keep(HotTier<T>& tier, absl::string_view id, std::unique_ptr<T> value) const {
  if (value == nullptr || tier.WouldKeep(id, value.get())) return tier.Put(id, std::move(value));
  const T* kept = value.get();
  if constexpr (std::is_same_v<T, ledger::PersonRecord>) {
    oversized_persons_.push_back(std::move(value));
  } else {
    oversized_institutions_.push_back(std::move(value));
  }
  return kept;
}

namespace {

// What the tier keeps, from what RocksDB stores.
std::unique_ptr<ledger::PersonRecord> ToTier(std::unique_ptr<v1::PersonStatus> p) {
  return std::make_unique<ledger::PersonRecord>(*p);
}
std::unique_ptr<v1::InstitutionStatus> ToTier(std::unique_ptr<v1::InstitutionStatus> i) {
  return i;
}

}  // namespace

template <typename Stored, typename T>
const T* StatusStore::ReadThrough(HotTier<T>& tier, rocksdb::ColumnFamilyHandle* cf,
                                  absl::string_view id) const {
  const auto hit = tier.Find(id);
  return hit.found ? hit.value : Load<Stored>(tier, cf, id);
}

template <typename Stored, typename T>
const T* StatusStore::Load(HotTier<T>& tier, rocksdb::ColumnFamilyHandle* cf,
                           absl::string_view id) const {
  std::string bytes;
  ++rocksdb_reads_;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(id.data(), id.size()), &bytes);
  if (!s.ok()) {
    // NotFound is a known absence; any other error is not cached, and the id reads as unknown now.
    if (s.IsNotFound()) tier.Put(id, nullptr);
    return nullptr;
  }
  auto value = std::make_unique<Stored>();
  if (!value->ParseFromString(bytes)) return nullptr;  // corrupt value: unknown, not cached
  return Keep(tier, id, ToTier(std::move(value)));
}

// Resolve() counted the hit or miss already; a lookup that Resolve() did not prepare reads through.
const ledger::PersonRecord* StatusStore::FindPerson(absl::string_view person_id) const {
  for (const auto& [id, record] : resolved_persons_) {
    if (id == person_id) return record;
  }
  const auto peek = person_tier_->Peek(person_id);
  return peek.found ? peek.value
                    : ReadThrough<v1::PersonStatus>(*person_tier_, persons_, person_id);
}

const v1::InstitutionStatus* StatusStore::FindInstitution(absl::string_view institution_id) const {
  if (resolved_institution_ != nullptr && institution_id == resolved_institution_id_) {
    return resolved_institution_;
  }
  const auto peek = institution_tier_->Peek(institution_id);
  return peek.found ? peek.value
                    : ReadThrough<v1::InstitutionStatus>(*institution_tier_, institutions_,
                                                         institution_id);
}

absl::Status StatusStore::LoadInsuredFilter() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), insured_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    insured_filter_.insert(InsuredHash(absl::string_view(it->key().data(), it->key().size())));
  }
  return FromRocks(it->status(), "reading the insured records");
}

const v1::InsuredStatus* StatusStore::ReadInsured(absl::string_view insured_id,
                                                  absl::Status* error) const {
  if (!insured_filter_.contains(InsuredHash(insured_id))) {
    ++insured_filtered_;
    return nullptr;
  }
  ++insured_reads_;
  std::string bytes;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), insured_,
                                     rocksdb::Slice(insured_id.data(), insured_id.size()), &bytes);
  if (s.IsNotFound()) return nullptr;  // a hash shared with a stored id
  if (!s.ok()) {
    *error = FromRocks(s, "reading an insured record");
    return nullptr;
  }
  auto record = std::make_unique<v1::InsuredStatus>();
  if (!record->ParseFromString(bytes)) {
    *error = absl::DataLossError("corrupt insured record");
    return nullptr;
  }
  read_insured_.push_back(std::move(record));
  return read_insured_.back().get();
}

const v1::InsuredStatus* StatusStore::FindInsured(absl::string_view insured_id) const {
  if (!check_insured_) return nullptr;
  if (!resolved_insured_id_.empty() && insured_id == resolved_insured_id_) return resolved_insured_;
  absl::Status ignored;  // Resolve() reported it; unreadable reads as never suspended here
  return ReadInsured(insured_id, &ignored);
}

absl::Status StatusStore::Resolve(const v1::Claim& claim) {
  ClaimView view;
  ViewClaim(claim, "", &view);
  return Resolve(view);
}

absl::Status StatusStore::Resolve(const ClaimView& claim) {
  person_tier_->UnpinAll();
  institution_tier_->UnpinAll();
  oversized_persons_.clear();
  oversized_institutions_.clear();
  resolved_persons_.clear();
  resolved_institution_ = nullptr;

  const auto inst = institution_tier_->FindAndPin(claim.institution_id);
  resolved_institution_id_ = claim.institution_id;
  if (inst.found) {
    resolved_institution_ = inst.value;
  } else {
    resolved_institution_ =
        Load<v1::InstitutionStatus>(*institution_tier_, institutions_, claim.institution_id);
    institution_tier_->Pin(claim.institution_id);
  }
  if (resolved_institution_ == nullptr)
    resolved_institution_id_ = {};  // absent: ask again (no cost)

  read_insured_.clear();
  resolved_insured_id_ = {};
  resolved_insured_ = nullptr;
  if (check_insured_ && !claim.insured_id.empty()) {
    absl::Status insured_error;
    resolved_insured_ = ReadInsured(claim.insured_id, &insured_error);
    if (!insured_error.ok()) return insured_error;
    resolved_insured_id_ = claim.insured_id;
  }

  miss_keys_.clear();
  for (const ClaimView::Practitioner& p : claim.practitioners) {
    bool seen = false;
    for (const auto& [id, record] : resolved_persons_) seen |= id == p.person_id;
    if (seen) continue;
    const auto hit = person_tier_->FindAndPin(p.person_id);
    if (hit.found) {
      // The decision reads the record's bytes next: start loading them now, so that the misses of
      // the claim's practitioners overlap instead of following one another.
      if (hit.value != nullptr) __builtin_prefetch(hit.value->bytes().data());
      resolved_persons_.emplace_back(p.person_id, hit.value);
    } else if (std::find(miss_keys_.begin(), miss_keys_.end(), p.person_id) == miss_keys_.end()) {
      miss_keys_.emplace_back(p.person_id);
    }
  }
  if (miss_keys_.empty()) return absl::OkStatus();
  std::vector<rocksdb::Slice> keys(miss_keys_.begin(), miss_keys_.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), persons_, keys.size(), keys.data(), values.data(),
                statuses.data());
  rocksdb_reads_ += keys.size();
  absl::Status first_error;
  for (size_t i = 0; i < keys.size(); ++i) {
    const ledger::PersonRecord* record = nullptr;
    if (statuses[i].IsNotFound()) {
      person_tier_->Put(miss_keys_[i], nullptr);
    } else if (statuses[i].ok()) {
      thread_local v1::PersonStatus parsed;
      if (!parsed.ParseFromArray(values[i].data(), static_cast<int>(values[i].size()))) {
        if (first_error.ok()) {
          first_error =
              absl::DataLossError(absl::StrCat("corrupt status of person ", miss_keys_[i]));
        }
        continue;
      }
      record = Keep(*person_tier_, miss_keys_[i], std::make_unique<ledger::PersonRecord>(parsed));
    } else {
      if (first_error.ok())
        first_error = FromRocks(statuses[i], absl::StrCat("reading person ", miss_keys_[i]));
      continue;
    }
    person_tier_->Pin(miss_keys_[i]);
    // The view must outlive this call: point it at the claim's own bytes, not at the scratch key.
    for (const ClaimView::Practitioner& p : claim.practitioners) {
      if (p.person_id == miss_keys_[i]) {
        resolved_persons_.emplace_back(p.person_id, record);
        break;
      }
    }
  }
  return first_error;
}

absl::Status StatusStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocks(db_->Flush(fo, {default_, persons_, institutions_, insured_}),
                   "flushing status store");
}

uint64_t StatusStore::ApproximateBytes() const {
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* h : {default_, persons_, institutions_, insured_}) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

absl::StatusOr<v1::PersonStatus> StatusStore::ReadPersonStatus(absl::string_view person_id) const {
  std::string bytes;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), persons_,
                                     rocksdb::Slice(person_id.data(), person_id.size()), &bytes);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no person ", person_id));
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("status store: ", s.ToString()));
  v1::PersonStatus status;
  if (!status.ParseFromString(bytes))
    return absl::DataLossError(absl::StrCat("status store: the record of ", person_id));
  return status;
}

uint64_t StatusStore::ApproximatePersons() const {
  uint64_t v = 0;
  return db_->GetIntProperty(persons_, rocksdb::DB::Properties::kEstimateNumKeys, &v) ? v : 0;
}

uint64_t StatusStore::ApproximateInstitutions() const {
  uint64_t v = 0;
  return db_->GetIntProperty(institutions_, rocksdb::DB::Properties::kEstimateNumKeys, &v) ? v : 0;
}

StatusStoreStats StatusStore::stats() const {
  StatusStoreStats s;
  s.persons = person_tier_->stats();
  s.institutions = institution_tier_->stats();
  s.rocksdb_reads = rocksdb_reads_;
  s.insured_filtered = insured_filtered_;
  s.insured_reads = insured_reads_;
  s.writes = writes_;
  return s;
}

}  // namespace claimgate::gate
