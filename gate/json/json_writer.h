// The JSON claimgate writes that is not a Protobuf message: replay's difference lines and summary,
// `audit verify`'s chain lines and summary, the status query's answer and error answers, progress
// lines and benchmark figures. Each is built as a `Json` value (nlohmann-json's ordered_json: keys
// print in the order they were added) and printed by JsonText() alone, so that all of it is valid
// UTF-8 whatever bytes the input carried. Protobuf messages (decisions, audit records, refusals,
// notices) go through Protobuf's JSON mapping instead (ledger::ToJson). docs/dependencies.md says
// why nlohmann-json.
#ifndef CLAIMGATE_GATE_JSON_JSON_WRITER_H_
#define CLAIMGATE_GATE_JSON_JSON_WRITER_H_

#include <cstddef>
#include <string>

#include "nlohmann/json.hpp"

namespace claimgate::gate {

// Strings go in as std::string: an absl::string_view (not std::string_view in this Abseil build)
// would be taken for an array of characters.
using Json = nlohmann::ordered_json;

// `value` as compact JSON on one line, without a newline. UTF-8 passes unescaped; each byte
// sequence that is not UTF-8 becomes U+FFFD, so the text is valid UTF-8 whatever the strings held.
// Quotes, backslashes and control characters are escaped (\b \t \n \f \r by name, the others
// \u00xx).
std::string JsonText(const Json& value);

// An empty object with room for `keys` keys, to be filled with operator[]: one allocation, where
// growing key by key takes one per doubling.
Json JsonObject(size_t keys);

// A figure (seconds, a rate, a ratio) as printf's "%.Nf" writes it, as a JSON number: an integer
// when `decimals` is 0; otherwise the same digits without the zeros that end a fraction ("%.3f"
// writes 0.500, this 0.5; one zero stays: 2.0). null when `x` is not finite.
Json Fixed(double x, int decimals);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_JSON_JSON_WRITER_H_
