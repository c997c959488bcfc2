// Timestamps and UTF-8 for the wire helpers.
#include "gate/wire.h"

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
  // The ranges google.protobuf.Timestamp allows (0001-01-01 .. 9999-12-31).
  if (seconds < -62135596800 || seconds > 253402300799 || nanos < 0 || nanos > 999999999)
    return false;
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

bool IsValidUtf8(absl::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

}  // namespace claimgate::gate::wire
