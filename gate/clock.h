// The clock, an edge dependency: the decision core never reads it; adapters stamp processing times
// with it.
#ifndef CLAIMGATE_GATE_CLOCK_H_
#define CLAIMGATE_GATE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace claimgate::gate {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

// Always the same instant: reproducible output (tests, `check --processing-time`).
class FixedClock final : public Clock {
 public:
  explicit FixedClock(absl::Time t) : t_(t) {}
  absl::Time Now() override { return t_; }

 private:
  absl::Time t_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CLOCK_H_
