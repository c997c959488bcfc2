// RocksDB adapter of the settled-code store. rocksdb::Status is converted to absl::Status here.
#include "gate/store/code_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/decision.h"
#include "gate/wire.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace claimgate::gate {
namespace {

constexpr char kCodesFamily[] = "codes";
constexpr int kKeyBytes = 9;
constexpr size_t kValueTail = 20;  // service seconds, nanos, expiry seconds

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
  if (static_cast<size_t>(bytes.data() + bytes.size() - p) != kValueTail) return false;
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
                                           const std::shared_ptr<rocksdb::Cache>& cache,
                                           const rocksdb::CompactionFilter* filter) {
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
  cf.compaction_filter = filter;
  // Every file is compacted at least monthly, so expired codes leave even the oldest level.
  cf.periodic_compaction_seconds = 30 * 24 * 3600;
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

std::string CodeStore::CodeText(unsigned __int128 value) {
  std::string text(20, '0');
  for (int i = 19; i >= 0; --i) {
    text[static_cast<size_t>(i)] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  return text;
}

bool CodeStore::Forgettable(absl::string_view value, absl::Time now, absl::Duration grace) {
  if (value.size() < kValueTail) return false;
  const absl::Time expires = absl::FromUnixSeconds(GetFixed64(value.data() + value.size() - 8));
  return expires + grace <= now;
}

// Drops the records of codes expired longer than the grace ago, as compactions pass over them. The
// clock is the wall clock: this only reclaims space; whether a code is remembered for a claim is
// decided by the claim's service time (Remembered()).
class CodeStore::ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(absl::Duration grace) : grace_(grace) {}
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    return Forgettable(absl::string_view(value.data(), value.size()), absl::Now(), grace_);
  }
  const char* Name() const override { return "claimgate.ExpiredCodes"; }

 private:
  absl::Duration grace_;
};

absl::StatusOr<std::unique_ptr<CodeStore>> CodeStore::Open(const CodeStoreOptions& o) {
  if (o.path.empty()) return absl::InvalidArgumentError("code store: empty path");
  std::error_code ec;
  std::filesystem::create_directories(o.path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("code store ", o.path, ": ", ec.message()));
  std::unique_ptr<CodeStore> store(new CodeStore());
  store->options_ = o;
  store->filter_ = std::make_unique<ExpiryFilter>(o.expiry_grace);
  // HyperClockCache: lookups without a lock or a chained hash table walk (a lookup per filter
  // partition is most of a check; against the LRU cache: docs/duplicate-codes.md).
  store->cache_ = rocksdb::HyperClockCacheOptions(o.block_cache_bytes, 8 * 1024).MakeSharedCache();
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  const rocksdb::ColumnFamilyOptions cf =
      FamilyOptions(o, store->cache_, store->filter_.get());
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf}, {kCodesFamily, cf}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::DB::Open(db_options, o.path, families, &handles, &raw),
                                 absl::StrCat("opening ", o.path));
      !s.ok()) {
    return s;
  }
  store->db_.reset(raw);
  store->default_ = handles[0];
  store->codes_ = handles[1];
  return store;
}

CodeStore::~CodeStore() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : {codes_, default_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
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
  scratch_slices_.assign(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), codes_, keys.size(), scratch_slices_.data(), values.data(),
                statuses.data());
  for (size_t k = 0; k < keys.size(); ++k) {
    if (statuses[k].IsNotFound()) continue;
    if (!statuses[k].ok()) return FromRocks(statuses[k], "reading a code");
    SettledCode s;
    if (!DecodeValue(absl::string_view(values[k].data(), values[k].size()), &s)) {
      return absl::DataLossError("code store: an unreadable record");
    }
    (*out)[index[k]] = std::move(s);
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
    EncodeValue(settler, &value);
    batch.Put(codes_, *key, value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "settling codes");
}

absl::Status CodeStore::Release(absl::Span<const std::string> codes) {
  rocksdb::WriteBatch batch;
  for (const std::string& code : codes) {
    std::optional<std::string> key = Key(code);
    if (key.has_value()) batch.Delete(codes_, *key);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "releasing codes");
}

namespace {

constexpr char kClaimPrefix[] = "claim/";

// The 20 digits of a 9-byte key.
std::string CodeOfKey(absl::string_view key) {
  unsigned __int128 v = 0;
  for (char c : key) v = v << 8 | static_cast<uint8_t>(c);
  return CodeStore::CodeText(v);
}

// The codes of a claim record (9-byte keys one after the other), in order.
std::vector<std::string> CodesOfRecord(absl::string_view record) {
  std::vector<std::string> codes;
  for (size_t at = 0; at + kKeyBytes <= record.size(); at += kKeyBytes)
    codes.push_back(CodeOfKey(record.substr(at, kKeyBytes)));
  return codes;
}

}  // namespace

absl::Status CodeStore::SettleClaim(absl::string_view claim_id,
                                    absl::Span<const std::pair<std::string, SettledCode>> settle,
                                    absl::Span<const absl::string_view> held) {
  rocksdb::WriteBatch batch;
  std::string value, record;
  for (const auto& [code, settler] : settle) {
    std::optional<std::string> key = Key(code);
    if (!key.has_value()) continue;
    EncodeValue(settler, &value);
    batch.Put(codes_, *key, value);
  }
  for (absl::string_view code : held) {
    if (std::optional<std::string> key = Key(code)) record += *key;
  }
  batch.Put(default_, absl::StrCat(kClaimPrefix, claim_id), record);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "recording a claim");
}

absl::StatusOr<std::optional<std::vector<std::string>>> CodeStore::TakeClaim(
    absl::string_view claim_id) {
  const std::string key = absl::StrCat(kClaimPrefix, claim_id);
  std::string record;
  const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_, key, &record);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, "reading a claim");
  if (record.size() % kKeyBytes != 0) return absl::DataLossError("code store: a bad claim record");
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  if (absl::Status d = FromRocks(db_->Delete(wo, default_, key), "removing a claim"); !d.ok())
    return d;
  return CodesOfRecord(record);
}

namespace {

constexpr char kPositionPrefix[] = "position/";

}  // namespace

absl::Status CodeStore::Write(const CodeStoreWrite& write) {
  rocksdb::WriteBatch batch;
  std::string value;
  for (const auto& [code, settler] : write.codes) {
    std::optional<std::string> key = Key(code);
    if (!key.has_value()) continue;
    if (settler.has_value()) {
      EncodeValue(*settler, &value);
      batch.Put(codes_, *key, value);
    } else {
      batch.Delete(codes_, *key);
    }
  }
  for (const auto& [claim_id, codes] : write.claims) {
    const std::string key = absl::StrCat(kClaimPrefix, claim_id);
    if (!codes.has_value()) {
      batch.Delete(default_, key);
      continue;
    }
    std::string record;
    for (const std::string& code : *codes) {
      if (std::optional<std::string> k = Key(code)) record += *k;
    }
    batch.Put(default_, key, record);
  }
  for (const auto& [partition, next] : write.positions) {
    value.clear();
    PutFixed64(&value, next);
    batch.Put(default_, absl::StrCat(kPositionPrefix, partition), value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  return FromRocks(db_->Write(wo, &batch), "writing an owner's batch");
}

absl::StatusOr<std::optional<std::vector<std::string>>> CodeStore::FindClaim(
    absl::string_view claim_id) {
  std::string record;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), default_, absl::StrCat(kClaimPrefix, claim_id), &record);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return FromRocks(s, "reading a claim");
  if (record.size() % kKeyBytes != 0) return absl::DataLossError("code store: a bad claim record");
  return CodesOfRecord(record);
}

absl::StatusOr<std::map<int32_t, int64_t>> CodeStore::Positions() {
  std::map<int32_t, int64_t> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), default_));
  for (it->Seek(kPositionPrefix); it->Valid() && it->key().starts_with(kPositionPrefix);
       it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    int32_t partition = 0;
    if (it->value().size() != 8 ||
        !absl::SimpleAtoi(key.substr(sizeof(kPositionPrefix) - 1), &partition)) {
      return absl::DataLossError("code store: a bad position record");
    }
    out[partition] = GetFixed64(it->value().data());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading positions");
  return out;
}

StoredCodeBook::StoredCodeBook(CodeStore* store) : store_(store), lookup_(store) {}

const SettledCode* StoredCodeBook::FindSettled(absl::string_view code) const {
  return lookup_.FindSettled(code);
}

absl::Status StoredCodeBook::Prepare(const ClaimView& claim) { return lookup_.Prefetch(claim); }

absl::Status StoredCodeBook::Record(const ClaimView& claim,
                                    absl::Span<const absl::string_view> codes,
                                    const ledger::Profile& profile) {
  std::vector<std::pair<std::string, SettledCode>> settle;
  const absl::Time expires = ExpiryOf(claim, profile);
  for (absl::string_view code : codes) {
    const SettledCode* held = lookup_.FindSettled(code);
    if (held != nullptr && held->claim_id == claim.claim_id) continue;  // held already
    settle.emplace_back(std::string(code),
                        SettledCode{std::string(claim.claim_id), std::string(claim.institution_id),
                                    claim.service_time, expires});
  }
  return store_->SettleClaim(claim.claim_id, settle, codes);
}

absl::StatusOr<std::optional<std::vector<std::string>>> StoredCodeBook::Reverse(
    absl::string_view claim_id) {
  absl::StatusOr<std::optional<std::vector<std::string>>> recorded = store_->TakeClaim(claim_id);
  if (!recorded.ok() || !recorded->has_value()) return recorded;
  // Only the codes the claim still holds (one that expired may have a newer settler).
  const std::vector<absl::string_view> views((*recorded)->begin(), (*recorded)->end());
  std::vector<std::optional<SettledCode>> found;
  if (absl::Status s = store_->Lookup(views, &found); !s.ok()) return s;
  std::vector<std::string> released;
  for (size_t i = 0; i < views.size(); ++i) {
    if (found[i].has_value() && found[i]->claim_id == claim_id) released.emplace_back(views[i]);
  }
  if (absl::Status s = store_->Release(released); !s.ok()) return s;
  return released;
}

absl::Status CodeStore::BulkLoad(
    const std::function<bool(std::string* code, SettledCode* s)>& next) {
  const rocksdb::ColumnFamilyOptions cf = FamilyOptions(options_, cache_, filter_.get());
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
      files.push_back(absl::StrCat(options_.path, "/load-", load_files_++, ".sst"));
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
  return FromRocks(db_->IngestExternalFile(codes_, files, ingest), "ingesting load files");
}

absl::Status CodeStore::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocks(db_->Flush(fo, codes_), "flushing");
}

absl::Status CodeStore::CompactAll() {
  rocksdb::CompactRangeOptions co;
  // The last level too: that is where old codes are.
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db_->CompactRange(co, codes_, nullptr, nullptr), "compacting");
}

uint64_t CodeStore::DiskBytes() const {
  uint64_t total = 0, v = 0;
  if (db_->GetIntProperty(codes_, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
  if (db_->GetIntProperty(codes_, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) total += v;
  return total;
}

uint64_t CodeStore::CacheUsage() const { return cache_->GetUsage(); }

CodeStoreStats CodeStore::stats() const {
  return CodeStoreStats{lookups_, found_};
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
