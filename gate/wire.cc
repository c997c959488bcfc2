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

namespace {
struct Scratch {
  std::string bytes = std::string(4096, '\0');
  bool in_use = false;
};
thread_local Scratch scratch;
}  // namespace

Out::Out(std::string* s) : out_(s) {
  if (!scratch.in_use) {
    scratch.in_use = true;
    holds_scratch_ = true;
    buf_ = &scratch.bytes;
  } else {
    own_.resize(256);
    buf_ = &own_;
  }
}

void Out::Finish() {
  if (buf_ == nullptr) return;
  out_->append(buf_->data(), n_);
  n_ = 0;
  if (holds_scratch_) {
    // A claim of a hundred thousand items grows the scratch to megabytes: give them back.
    constexpr size_t kKept = 1 << 20;
    if (buf_->size() > kKept) {
      buf_->resize(4096);
      buf_->shrink_to_fit();
    }
    scratch.in_use = false;
  }
  holds_scratch_ = false;
  buf_ = nullptr;
}

void Out::Grow(size_t k) { buf_->resize(std::max(n_ + k, 2 * buf_->size())); }

void Out::End(size_t mark) {
  const size_t len = n_ - mark;
  if (len < 0x80) {
    (*buf_)[mark - 1] = static_cast<char>(len);
    return;
  }
  size_t extra = 0;
  for (uint64_t v = len; v >= 0x80; v >>= 7) ++extra;
  Room(extra);
  char* data = buf_->data();
  std::memmove(data + mark + extra, data + mark, len);
  char* p = data + mark - 1;
  uint64_t v = len;
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p = static_cast<char>(v);
  n_ += extra;
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
