#include "gate/byte_sink.h"

#include <algorithm>

namespace claimgate::gate {
namespace {

struct Scratch {
  std::string bytes = std::string(4096, '\0');
  bool in_use = false;
};
thread_local Scratch scratch;

}  // namespace

ByteSink::ByteSink(std::string* out) : out_(out) {
  if (!scratch.in_use) {
    scratch.in_use = true;
    holds_scratch_ = true;
    buf_ = &scratch.bytes;
  } else {
    own_.resize(256);
    buf_ = &own_;
  }
}

void ByteSink::Finish() {
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

void ByteSink::Grow(size_t k) { buf_->resize(std::max(n_ + k, 2 * buf_->size())); }

}  // namespace claimgate::gate
