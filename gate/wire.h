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
#include "gate/byte_sink.h"
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
// Writes `v` as a varint at `p` (room for 10 bytes); returns the end.
inline char* WriteVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  out->append(buf, static_cast<size_t>(WriteVarint(buf, v) - buf));
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
// The Protobuf wire form on a ByteSink, for the hot encoders: a nested message is written in place
// (one byte reserved for its length, moved along in the rare case it needs more). The string holds
// the bytes once the writer goes out of scope (or Finish() is called).
class Out : public ByteSink {
 public:
  explicit Out(std::string* s) : ByteSink(s) {}

  void Varint(uint64_t v) {
    Room(10);
    Advance(WriteVarint(end(), v));
  }
  void Tag(uint32_t field, WireType type) { Varint((static_cast<uint64_t>(field) << 3) | type); }
  // A length-delimited field, even empty (repeated strings).
  void Len(uint32_t field, absl::string_view bytes) {
    Tag(field, kLen);
    Varint(bytes.size());
    Room(bytes.size());
    Put(bytes);
  }
  void String(uint32_t field, absl::string_view s) {  // singular: empty is absent
    if (!s.empty()) Len(field, s);
  }
  void Int(uint32_t field, int64_t v) {  // int32, int64 and enums
    if (v == 0) return;
    Tag(field, kVarint);
    Varint(static_cast<uint64_t>(v));
  }
  void Timestamp(uint32_t field, absl::Time t);

  // A nested message: Begin writes its tag and returns a mark; the fields follow; End(mark) writes
  // the length before them.
  size_t Begin(uint32_t field) {
    Tag(field, kLen);
    Room(1);
    Put('\0');
    return size();
  }
  void End(size_t mark);
};

// Structural UTF-8 check (what Protobuf enforces on proto3 string fields); one implementation with
// the JSON checker's.
using ledger::IsValidUtf8;

}  // namespace claimgate::gate::wire

#endif  // CLAIMGATE_GATE_WIRE_H_
