// The ledger service's own RocksDB: every ledger event it applied, in ledger-events order, and the
// next offset to read, written together in one batch after each transaction commits. The ledger is
// event-sourced (status is a function of the ordered events), so these events are its state: a
// restart re-applies them from local disk and reads only the tail of ledger-events beyond them.
#ifndef CLAIMGATE_LEDGER_SERVICE_LEDGER_STORE_H_
#define CLAIMGATE_LEDGER_SERVICE_LEDGER_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rocksdb {
class DB;
}

namespace claimgate::ledger {

class LedgerStore {
 public:
  // Opens (creating) the store at `path`.
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& path);
  ~LedgerStore();

  // The next ledger-events offset after the events stored (0 when empty).
  int64_t next_offset() const { return next_offset_; }

  // Stores the events at the given offsets (well-formed ledger events, binary) and the new next
  // offset, atomically and durably (fsync of the write-ahead log).
  absl::Status Append(const std::vector<std::pair<int64_t, std::string>>& events,
                      int64_t next_offset);

  // Calls `fn(offset, event_bytes)` for every stored event, in offset order.
  absl::Status ForEach(const std::function<void(int64_t, absl::string_view)>& fn) const;

 private:
  LedgerStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  int64_t next_offset_ = 0;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_SERVICE_LEDGER_STORE_H_
