// Events under "e" + 8-byte big-endian offset (so keys sort by offset); the next offset under
// "next".
#include "ledger/service/ledger_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace claimgate::ledger {
namespace {

constexpr char kNextKey[] = "next";

std::string EventKey(int64_t offset) {
  std::string key = "e";
  for (int shift = 56; shift >= 0; shift -= 8)
    key.push_back(static_cast<char>((static_cast<uint64_t>(offset) >> shift) & 0xff));
  return key;
}

int64_t OffsetOf(const rocksdb::Slice& key) {
  uint64_t v = 0;
  for (size_t i = 1; i < 9 && i < key.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(key[i]);
  return static_cast<int64_t>(v);
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("ledger store: ", what, ": ", s.ToString()));
}

}  // namespace

LedgerStore::~LedgerStore() = default;

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::DB::Open(options, path, &raw), "open " + path); !s.ok())
    return s;
  std::unique_ptr<LedgerStore> store(new LedgerStore());
  store->db_.reset(raw);
  std::string next;
  const rocksdb::Status got = store->db_->Get(rocksdb::ReadOptions(), kNextKey, &next);
  if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read the next offset");
  if (got.ok() && !absl::SimpleAtoi(next, &store->next_offset_))
    return absl::DataLossError("ledger store: the next offset does not parse");
  return store;
}

absl::Status LedgerStore::Append(const std::vector<std::pair<int64_t, std::string>>& events,
                                 int64_t next_offset) {
  rocksdb::WriteBatch batch;
  for (const auto& [offset, bytes] : events) batch.Put(EventKey(offset), bytes);
  batch.Put(kNextKey, absl::StrCat(next_offset));
  rocksdb::WriteOptions options;
  options.sync = true;
  if (absl::Status s = FromRocks(db_->Write(options, &batch), "append"); !s.ok()) return s;
  next_offset_ = next_offset;
  return absl::OkStatus();
}

absl::Status LedgerStore::ForEach(const std::function<void(int64_t, absl::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("e"); it->Valid() && it->key().starts_with("e"); it->Next()) {
    fn(OffsetOf(it->key()), absl::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "read the events");
}

}  // namespace claimgate::ledger
