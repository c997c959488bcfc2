// Fast reading of the JSON Lines replay reads by the million (claims and decisions), with simdjson
// (libsimdjson-dev, docs/dependencies.md). The strict reader (ledger/strict_json.h: RFC 8259, no
// key twice, then Protobuf's parser) stays the authority: the fast path takes only the shape
// claimgate writes (proto field names, each once; enums by name; RFC 3339 times; one object and
// nothing after it) and hands any other line to the strict reader, so a line reads the same either
// way (json_lines_test; tests/fuzz/json_lines_fuzzer compares the two on fuzzed lines).
#ifndef CLAIMGATE_GATE_REPLAY_JSON_LINES_H_
#define CLAIMGATE_GATE_REPLAY_JSON_LINES_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "gate/claim_view.h"

namespace claimgate::gate {

enum class LineKind { kBlank, kClaim, kOther };

// One reader a thread. Views it returns stay valid until its next call of the same method.
class JsonLineReader {
 public:
  JsonLineReader();
  ~JsonLineReader();
  JsonLineReader(const JsonLineReader&) = delete;
  JsonLineReader& operator=(const JsonLineReader&) = delete;

  // Whether an events line is a claim, without reading it. kClaim only when the line's one body
  // key is "claim" with an object value: ParseEventJson then reads a claim or refuses the line.
  // kOther when it may be anything else: ParseEventJson says what it is.
  LineKind Classify(absl::string_view line);

  // A claim event line as ValidateEvent accepts it. False with `error` otherwise.
  bool ReadClaim(absl::string_view line, ClaimView* claim, std::string* error);

  // A decision line as `claimgate check` writes it, or a bare audit record (then only `audit` is
  // set). False with `error` otherwise.
  bool ReadDecision(absl::string_view line, v1::Decision* decision, std::string* error);

  // Lines taken by the fast path and by Protobuf's parser (for tests and progress lines).
  int64_t fast() const { return fast_; }
  int64_t slow() const { return slow_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  v1::Event event_;  // the slow path's claim
  int64_t fast_ = 0, slow_ = 0;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_REPLAY_JSON_LINES_H_
