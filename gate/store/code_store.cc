// RocksDB adapter of the settled-code store. rocksdb::Status is converted to absl::Status here.
#include "gate/store/code_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/decision.h"
#include "gate/wire.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace claimgate::gate {
namespace {

constexpr char kFamilyPrefix[] = "expire-";
constexpr int kKeyBytes = 9;
const absl::TimeZone& Zone() {
  static const absl::TimeZone* zone = new absl::TimeZone(absl::FixedTimeZone(8 * 3600));
  return *zone;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat("code store: ", what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::UnavailableError(msg);
}

void PutFixed64(std::string* out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

int64_t GetFixed64(const char* p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) {
    u |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return static_cast<int64_t>(u);
}

void PutBytes(std::string* out, absl::string_view s) {
  wire::PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

// claim id, institution id (length-prefixed), service time (8-byte seconds, 4-byte nanos), expiry
// (8-byte seconds).
void EncodeValue(const SettledCode& s, std::string* out) {
  out->clear();
  PutBytes(out, s.claim_id);
  PutBytes(out, s.institution_id);
  const int64_t seconds = absl::ToUnixSeconds(s.service_time);
  const auto nanos = static_cast<int32_t>(
      absl::ToInt64Nanoseconds(s.service_time - absl::FromUnixSeconds(seconds)));
  PutFixed64(out, seconds);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((nanos >> (8 * i)) & 0xff));
  PutFixed64(out, absl::ToUnixSeconds(s.expires));
}

bool DecodeValue(absl::string_view bytes, SettledCode* s) {
  wire::Reader r(bytes);
  absl::string_view claim, institution;
  if (!r.ReadLen(&claim) || !r.ReadLen(&institution)) return false;
  const char* p = r.position();
  if (bytes.data() + bytes.size() - p != 20) return false;
  s->claim_id.assign(claim.data(), claim.size());
  s->institution_id.assign(institution.data(), institution.size());
  int32_t nanos = 0;
  for (int i = 0; i < 4; ++i)
    nanos |= static_cast<int32_t>(static_cast<unsigned char>(p[8 + i])) << (8 * i);
  s->service_time = absl::FromUnixSeconds(GetFixed64(p)) + absl::Nanoseconds(nanos);
  s->expires = absl::FromUnixSeconds(GetFixed64(p + 12));
  return true;
}

rocksdb::ColumnFamilyOptions FamilyOptions(const CodeStoreOptions& o,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Ribbon filters (about 7 bits a key for a 1% false-positive rate, 30% less than Bloom),
  // partitioned with the index so that only the partitions in use are in memory, all of it charged
  // to the block cache: memory stays the cache's bound at any number of codes.
  table.filter_policy.reset(rocksdb::NewRibbonFilterPolicy(10));
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 16 * 1024;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.block_size = 16 * 1024;
  table.format_version = 5;
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.write_buffer_size = o.write_buffer_bytes;
  cf.max_write_buffer_number = 2;
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  cf.level_compaction_dynamic_level_bytes = true;
  // A miss is the common case (a new code): the last level keeps its filters too.
  cf.optimize_filters_for_hits = false;
  return cf;
}

}  // namespace

std::optional<std::string> CodeStore::Key(absl::string_view code) {
  if (!IsValidTraceabilityCode(code)) return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : code) v = v * 10 + static_cast<unsigned>(c - '0');
  std::string key(kKeyBytes, '\0');
  for (int i = kKeyBytes - 1; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v & 0xff));
    v >>= 8;
  }
  return key;
}

int CodeStore::ExpiryYear(absl::Time expires) {
  return static_cast<int>(absl::ToCivilYear(expires, Zone()).year());
}

absl::StatusOr<std::unique_ptr<CodeStore>> CodeStore::Open(const CodeStoreOptions& o) {
  if (o.path.empty()) return absl::InvalidArgumentError("code store: empty path");
  std::error_code ec;
  std::filesystem::create_directories(o.path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("code store ", o.path, ": ", ec.message()));
  std::unique_ptr<CodeStore> store(new CodeStore());
  store->options_ = o;
  // HyperClockCache: lookups without a lock or a chained hash table walk (a lookup per filter
  // partition and family is most of a check; against the LRU cache: docs/duplicate-codes.md).
  store->cache_ = rocksdb::HyperClockCacheOptions(o.block_cache_bytes, 8 * 1024).MakeSharedCache();
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  const rocksdb::ColumnFamilyOptions cf = FamilyOptions(o, store->cache_);
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(db_options, o.path, &names).ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // a new store
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, cf);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::DB::Open(db_options, o.path, families, &handles, &raw),
                                 absl::StrCat("opening ", o.path));
      !s.ok()) {
    return s;
  }
  store->db_.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    int year = 0;
    if (names[i] == rocksdb::kDefaultColumnFamilyName) {
      store->default_ = handles[i];
    } else if (absl::StartsWith(names[i], kFamilyPrefix) &&
               absl::SimpleAtoi(names[i].substr(sizeof(kFamilyPrefix) - 1), &year)) {
      store->families_[year] = handles[i];
    } else {
      store->db_->DestroyColumnFamilyHandle(handles[i]);  // not ours: left alone
    }
  }
  return store;
}

CodeStore::~CodeStore() {
  if (db_ == nullptr) return;
  for (auto& [year, h] : families_) db_->DestroyColumnFamilyHandle(h);
  if (default_ != nullptr) db_->DestroyColumnFamilyHandle(default_);
  db_->Close();
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> CodeStore::Family(int year) {
  if (auto it = families_.find(year); it != families_.end()) return it->second;
  rocksdb::ColumnFamilyHandle* h = nullptr;
  if (absl::Status s = FromRocks(db_->CreateColumnFamily(FamilyOptions(options_, cache_),
                                                         absl::StrCat(kFamilyPrefix, year), &h),
                                 "creating a year family");
      !s.ok()) {
    return s;
  }
  families_[year] = h;
  return h;
}

absl::Status CodeStore::Lookup(absl::Span<const absl::string_view> codes,
                               std::vector<std::optional<SettledCode>>* out) {
  out->assign(codes.size(), std::nullopt);
  std::vector<std::string> keys;
  std::vector<size_t> index;
  keys.reserve(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    std::optional<std::string> key = Key(codes[i]);
    if (!key.has_value()) continue;
    keys.push_back(std::move(*key));
    index.push_back(i);
  }
  lookups_ += keys.size();
  if (keys.empty()) return absl::OkStatus();
  // Every (family, code) pair in one MultiGet: one call's overhead for the batch. Newest expiry
  // first: a code settled anew after expiring is found in its newer family.
  const size_t n = keys.size() * families_.size();
  scratch_families_.clear();
  scratch_slices_.clear();
  for (auto it = families_.rbegin(); it != families_.rend(); ++it) {
    for (const std::string& key : keys) {
      scratch_families_.push_back(it->second);
      scratch_slices_.emplace_back(key);
    }
  }
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(rocksdb::ReadOptions(), n, scratch_families_.data(), scratch_slices_.data(),
                values.data(), statuses.data());
  for (size_t j = 0; j < n; ++j) {
    std::optional<SettledCode>& slot = (*out)[index[j % keys.size()]];
    if (slot.has_value() || statuses[j].IsNotFound()) continue;
    if (!statuses[j].ok()) return FromRocks(statuses[j], "reading a code");
    SettledCode s;
    if (!DecodeValue(absl::string_view(values[j].data(), values[j].size()), &s)) {
      return absl::DataLossError("code store: an unreadable record");
    }
    slot = std::move(s);
    ++found_;
  }
  return absl::OkStatus();
}

absl::Status CodeStore::Settle(absl::Span<const std::pair<std::string, SettledCode>> codes) {
  rocksdb::WriteBatch batch;
  std::string value;
  for (const auto& [code, settler] : codes) {
    std::optional<std::string> key = Key(code);
    if (!key.has_value()) continue;
    absl::StatusOr<rocksdb::ColumnFamilyHandle*> family = Family(ExpiryYear(settler.expires));
    if (!family.ok()) return family.status();
    EncodeValue(settler, &value);
    batch.Put(*family, *key, value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "settling codes");
}

absl::Status CodeStore::Release(
    absl::Span<const std::pair<std::string, absl::Time>> codes_and_expiry) {
  rocksdb::WriteBatch batch;
  for (const auto& [code, expires] : codes_and_expiry) {
    std::optional<std::string> key = Key(code);
    auto family = families_.find(ExpiryYear(expires));
    if (!key.has_value() || family == families_.end()) continue;
    batch.Delete(family->second, *key);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "releasing codes");
}

absl::Status CodeStore::DropExpired(absl::Time now) {
  const int current = ExpiryYear(now);
  for (auto it = families_.begin(); it != families_.end() && it->first < current;) {
    if (absl::Status s = FromRocks(db_->DropColumnFamily(it->second), "dropping a year family");
        !s.ok()) {
      return s;
    }
    db_->DestroyColumnFamilyHandle(it->second);
    it = families_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status CodeStore::BulkLoad(
    int expiry_year, const std::function<bool(std::string* code, SettledCode* s)>& next) {
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> family = Family(expiry_year);
  if (!family.ok()) return family.status();
  const rocksdb::ColumnFamilyOptions cf = FamilyOptions(options_, cache_);
  rocksdb::Options sst_options(rocksdb::DBOptions(), cf);
  std::vector<std::string> files;
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  constexpr uint64_t kPerFile = 16ull << 20;  // keys per SST file
  uint64_t in_file = 0;
  std::string code, value;
  SettledCode settler;
  auto finish = [&]() -> absl::Status {
    if (writer == nullptr) return absl::OkStatus();
    absl::Status s = FromRocks(writer->Finish(), "finishing a load file");
    writer.reset();
    return s;
  };
  while (next(&code, &settler)) {
    std::optional<std::string> key = Key(code);
    if (!key.has_value()) return absl::InvalidArgumentError("code store: load of an invalid code");
    if (writer == nullptr) {
      writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), sst_options);
      files.push_back(
          absl::StrCat(options_.path, "/load-", expiry_year, "-", files.size(), ".sst"));
      if (absl::Status s = FromRocks(writer->Open(files.back()), "opening a load file"); !s.ok())
        return s;
      in_file = 0;
    }
    EncodeValue(settler, &value);
    if (absl::Status s = FromRocks(writer->Put(*key, value), "writing a load file"); !s.ok())
      return s;
    if (++in_file == kPerFile) {
      if (absl::Status s = finish(); !s.ok()) return s;
    }
  }
  if (absl::Status s = finish(); !s.ok()) return s;
  if (files.empty()) return absl::OkStatus();
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  return FromRocks(db_->IngestExternalFile(*family, files, ingest), "ingesting load files");
}

absl::Status CodeStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  for (auto& [year, h] : families_) {
    if (absl::Status s = FromRocks(db_->Flush(fo, h), "flushing"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CodeStore::CompactAll() {
  for (auto& [year, h] : families_) {
    if (absl::Status s =
            FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr),
                      "compacting");
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

uint64_t CodeStore::DiskBytes() const {
  uint64_t total = 0;
  for (const auto& [year, h] : families_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  }
  return total;
}

uint64_t CodeStore::CacheUsage() const { return cache_->GetUsage(); }

CodeStoreStats CodeStore::stats() const {
  return CodeStoreStats{lookups_, found_, static_cast<uint64_t>(families_.size())};
}

absl::Status CodeStoreLookup::Prefetch(const ClaimView& claim) {
  codes_.clear();
  for (const ClaimView::Item& item : claim.items) {
    for (absl::string_view code : item.traceability_codes) {
      if (IsValidTraceabilityCode(code) &&
          std::find(codes_.begin(), codes_.end(), code) == codes_.end()) {
        codes_.push_back(code);
      }
    }
  }
  return store_->Lookup(codes_, &found_);
}

const SettledCode* CodeStoreLookup::FindSettled(absl::string_view code) const {
  for (size_t i = 0; i < codes_.size(); ++i) {
    if (codes_[i] == code) return found_[i].has_value() ? &*found_[i] : nullptr;
  }
  return nullptr;
}

}  // namespace claimgate::gate
