// Protobuf's JSON form of a message (MessageToJsonString with preserve_proto_field_names, default
// values left out), written by walking the set fields directly: `claimgate check` spent a third of
// its time in Protobuf's printer (issue 17), which goes through a type resolver and the binary
// form. Only what reads one way is written here: strings of printable ASCII that no JSON escaper
// changes, integers, booleans, enums, messages and Timestamps. Anything else (other characters,
// floats, bytes, maps, other well-known types) is left to Protobuf's printer, the authority;
// tests/ledger/proto_json_test.cc holds the two to the same bytes.
#ifndef CLAIMGATE_LEDGER_PROTO_JSON_H_
#define CLAIMGATE_LEDGER_PROTO_JSON_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "google/protobuf/message.h"

namespace claimgate::ledger {

// Appends `message` as JSON to `out`; false (and `out` as it was) when it holds something only
// Protobuf's printer may write.
bool AppendProtoJson(const google::protobuf::Message& message, std::string* out);

// The pieces, for writers of one message type (gate/decision_json.h) that must give the same bytes:
// whether Protobuf's printer writes `s` between quotes as it is (printable ASCII, no quote,
// backslash, HTML-sensitive character or DEL), and a Timestamp's quoted form (false when outside
// years 1-9999 or nanos out of range: only Protobuf's printer may say what then).
bool IsPlainJsonString(absl::string_view s);
bool AppendJsonTimestamp(int64_t seconds, int32_t nanos, std::string* out);
// The same written at `out`, which has room for kJsonTimestampBytes: the end of what was written,
// or null (nothing written) outside the range.
inline constexpr size_t kJsonTimestampBytes = 32;
char* WriteJsonTimestamp(int64_t seconds, int32_t nanos, char* out);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_PROTO_JSON_H_
