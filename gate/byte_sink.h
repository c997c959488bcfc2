// Bytes appended to a std::string through a raw pointer, for the hot writers (wire::Out for the
// Protobuf wire form, the decision JSON writer): room is made once per value (Room), so writing a
// byte is a store rather than a call into std::string (libstdc++ does not inline its members).
// The bytes go to the thread's scratch buffer and are appended to the string by Finish() (or when
// the sink goes out of scope). The scratch is kept between sinks (shrunk only past 1 MiB), so a
// warm sink neither allocates nor zero-fills; a second sink alive on the same thread writes to a
// buffer of its own.
#ifndef CLAIMGATE_GATE_BYTE_SINK_H_
#define CLAIMGATE_GATE_BYTE_SINK_H_

#include <cstddef>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace claimgate::gate {

class ByteSink {
 public:
  explicit ByteSink(std::string* out);
  ~ByteSink() { Finish(); }
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  // Appends what was written to the string; the sink is done.
  void Finish();
  // Drops what was written: Finish() then appends nothing.
  void Discard() { n_ = 0; }

  void Room(size_t k) {
    if (n_ + k > buf_->size()) Grow(k);
  }
  // The callers below made room first.
  void Put(char c) { (*buf_)[n_++] = c; }
  void Put(absl::string_view bytes) {
    if (!bytes.empty()) std::memcpy(buf_->data() + n_, bytes.data(), bytes.size());
    n_ += bytes.size();
  }
  // Writing in place: end() is where the next byte goes, Advance(to) takes what was written to
  // `to`; data() is the start of what this sink wrote (valid until the next Room).
  char* end() { return buf_->data() + n_; }
  void Advance(const char* to) { n_ = static_cast<size_t>(to - buf_->data()); }
  char* data() { return buf_->data(); }
  size_t size() const { return n_; }

 private:
  void Grow(size_t k);

  std::string* out_;
  std::string* buf_;  // the thread's scratch, or own_ when another sink holds it
  std::string own_;
  bool holds_scratch_ = false;
  size_t n_ = 0;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_BYTE_SINK_H_
