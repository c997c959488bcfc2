// Minimal Protobuf wire-format reading and writing for the gate's hot path (claims in, decisions
// and audit records out) where building message objects costs more than the decision itself. The
// encoders write exactly what Protobuf's own serializer writes for proto3 messages (fields in
// number order, defaults omitted); tests compare the two byte for byte.
#ifndef CLAIMGATE_GATE_WIRE_H_
#define CLAIMGATE_GATE_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger/strict_json.h"

namespace claimgate::gate::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// A cursor over bytes; every read returns false on truncated or malformed input.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ >= end_; }
  const char* position() const { return p_; }
  bool ReadVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      const uint8_t byte = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool ReadTag(uint32_t* field, WireType* type) {
    uint64_t tag = 0;
    if (!ReadVarint(&tag) || tag > 0xffffffffu) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *type = static_cast<WireType>(tag & 7);
    return *field != 0;
  }
  bool ReadLen(absl::string_view* out) {
    uint64_t n = 0;
    if (!ReadVarint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = absl::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool Skip(WireType type) {
    uint64_t v = 0;
    absl::string_view s;
    switch (type) {
      case kVarint:
        return ReadVarint(&v);
      case kFixed64:
        return Advance(8);
      case kLen:
        return ReadLen(&s);
      case kFixed32:
        return Advance(4);
    }
    return false;  // groups and unknown wire types
  }

 private:
  bool Advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }
  const char* p_;
  const char* end_;
};

// Calls `on_field(field, type, reader)` for every field of a message; `on_field` reads or skips the value
// and returns false to stop. False for malformed bytes or when `on_field` stopped.
template <typename OnField>
bool ForEachField(absl::string_view bytes, OnField&& on_field) {
  Reader r(bytes);
  while (!r.done()) {
    uint32_t field = 0;
    WireType type;
    if (!r.ReadTag(&field, &type) || !on_field(field, type, r)) return false;
  }
  return true;
}

// google.protobuf.Timestamp {seconds = 1; nanos = 2}.
bool ReadTimestamp(absl::string_view bytes, absl::Time* out);

// Appends to a std::string (its capacity reused across calls).
inline void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}
inline void PutTag(std::string* out, uint32_t field, WireType type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | type);
}
// proto3 scalar fields: nothing for the default value.
inline void PutString(std::string* out, uint32_t field, absl::string_view s) {
  if (s.empty()) return;
  PutTag(out, field, kLen);
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}
inline void PutInt(std::string* out, uint32_t field, int64_t v) {  // int32, int64 and enums
  if (v == 0) return;
  PutTag(out, field, kVarint);
  PutVarint(out, static_cast<uint64_t>(v));
}
// A sub-message whose bytes are already encoded (present even when empty).
inline void PutMessage(std::string* out, uint32_t field, absl::string_view encoded) {
  PutTag(out, field, kLen);
  PutVarint(out, encoded.size());
  out->append(encoded.data(), encoded.size());
}
// A Timestamp sub-message (present).
void PutTimestamp(std::string* out, uint32_t field, absl::Time t);

// Structural UTF-8 check (what Protobuf enforces on proto3 string fields); one implementation with
// the JSON checker's.
using ledger::IsValidUtf8;

}  // namespace claimgate::gate::wire

#endif  // CLAIMGATE_GATE_WIRE_H_
