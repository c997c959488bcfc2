// The clock, an edge dependency: the decision core never reads it; adapters stamp processing times
// with it.
#ifndef CLAIMGATE_GATE_CLOCK_H_
#define CLAIMGATE_GATE_CLOCK_H_

#include "absl/synchronization/mutex.h"
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

// Set by hand, from any thread (tests of time-dependent behaviour in running services).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time t) : t_(t) {}
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return t_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    t_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time t_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CLOCK_H_
