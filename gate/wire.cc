// Timestamps for the wire helpers.
#include "gate/wire.h"

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

void PutTimestamp(std::string* out, uint32_t field, absl::Time t) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  const int64_t nanos = (t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1);
  size_t size = 0;
  auto varint_size = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  if (seconds != 0) size += 1 + varint_size(static_cast<uint64_t>(seconds));
  if (nanos != 0) size += 1 + varint_size(static_cast<uint64_t>(nanos));
  PutTag(out, field, kLen);
  PutVarint(out, size);
  PutInt(out, 1, seconds);
  PutInt(out, 2, nanos);
}

}  // namespace claimgate::gate::wire
