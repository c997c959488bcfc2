// Timestamps for the wire helpers.
#include "gate/wire.h"

#include <cstring>

#include "ledger/calendar.h"

namespace claimgate::gate::wire {

bool ReadTimestamp(absl::string_view bytes, absl::Time* out) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  const bool ok = ForEachField(bytes, [&](uint32_t field, WireType type, Reader& r) {
    uint64_t v = 0;
    if ((field != 1 && field != 2) || type != kVarint) return r.Skip(type);
    if (!r.ReadVarint(&v)) return false;
    if (field == 1) {
      seconds = static_cast<int64_t>(v);
    } else {
      nanos = static_cast<int32_t>(v);
    }
    return true;
  });
  if (!ok) return false;
  if (!ledger::InTimestampRange(seconds, nanos)) return false;
  *out = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  return true;
}

void Out::End(size_t mark) {
  const size_t len = size() - mark;
  if (len < 0x80) {
    data()[mark - 1] = static_cast<char>(len);
    return;
  }
  size_t extra = 0;
  for (uint64_t v = len; v >= 0x80; v >>= 7) ++extra;
  Room(extra);
  char* d = data();
  std::memmove(d + mark + extra, d + mark, len);
  WriteVarint(d + mark - 1, len);
  Advance(end() + extra);
}

void Out::Timestamp(uint32_t field, absl::Time t) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  const int64_t nanos = (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1);
  const size_t mark = Begin(field);
  Int(1, seconds);
  Int(2, nanos);
  End(mark);
}

}  // namespace claimgate::gate::wire
