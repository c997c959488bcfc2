// What the three differential fuzzers share: a failure that names the input, and an oracle for
// JSON written independently of ledger/strict_json (simdjson's DOM parser, which is strict RFC 8259,
// and a walk of every object's keys).
#ifndef CLAIMGATE_TESTS_FUZZ_ORACLE_H_
#define CLAIMGATE_TESTS_FUZZ_ORACLE_H_

#include "absl/strings/string_view.h"

namespace claimgate::fuzz {

// Aborts (a libFuzzer finding) with `what` and the input, escaped, when `ok` is false.
void Require(bool ok, absl::string_view what, absl::string_view input);

enum class Json {
  kOneObject,  // RFC 8259, one object and nothing after it, no key twice in any object
  kDuplicateKey,
  kNotAnObject,  // not JSON, not an object, or text after it
  kUnknown,  // a number simdjson cannot hold, or deeper than its 1024 levels (JSON allows both)
};
Json JudgeJson(absl::string_view text);

// Protobuf logs each invalid UTF-8 string it refuses: millions of expected refusals.
void SilenceProtobufLogs();

}  // namespace claimgate::fuzz

#endif  // CLAIMGATE_TESTS_FUZZ_ORACLE_H_
