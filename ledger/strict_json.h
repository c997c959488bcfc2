// One reading of every JSON line (issue 12 item 6). Protobuf's JSON parser (3.21) is the authority
// on what a line means, but it lets through what SPEC §7 refuses and what other readers would read
// otherwise: a key given twice (it keeps the last; a field's proto name and its lowerCamelCase JSON
// name count as one), single quotes, trailing commas, and a Timestamp with text after a NUL
// ("2025-03-20T10:30:00Z\u0000garbage"). Every JSON input (the file path, the streaming path with
// JSON input, audit verify, replay) is checked here first, then parsed by Protobuf.
#ifndef CLAIMGATE_LEDGER_STRICT_JSON_H_
#define CLAIMGATE_LEDGER_STRICT_JSON_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace claimgate::ledger {

// Whether `text` is one RFC 8259 JSON object, with only whitespace around it, that `type` can be
// read from without ambiguity. InvalidArgument naming the first problem (and its byte offset) when:
// - it is not JSON (RFC 8259: double quotes, no trailing comma, no raw control characters in
//   strings, no lone surrogate escapes, valid UTF-8, numbers without leading zeros), or there is
//   anything after the object;
// - an object holds a key twice, at any depth (keys compared unescaped), or, where `type` says
//   which message an object is, two keys that name one field (its proto and its JSON name);
// - a google.protobuf.Timestamp field holds a string that is not ParseRfc3339Parts' form and range.
// Objects nest at most 100 deep (Protobuf's own limit). Thread-safe.
absl::Status CheckStrictJson(absl::string_view text, const google::protobuf::Descriptor& type);

// CheckStrictJson, then Protobuf's JSON parser into `message` (cleared first). Unknown fields are
// ignored when `ignore_unknown_fields`, else refused. InvalidArgument on either failure. With
// `ignore_unknown_fields`, the check builds the message itself when the text reads one way only
// (strict_json.cc); the result is ParseStrictJsonWithProtobuf's.
absl::Status ParseStrictJson(absl::string_view text, google::protobuf::Message* message,
                             bool ignore_unknown_fields);
// The same through Protobuf's parser always (the reference the builder is tested against).
absl::Status ParseStrictJsonWithProtobuf(absl::string_view text,
                                         google::protobuf::Message* message,
                                         bool ignore_unknown_fields);

// Structural UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): what Protobuf enforces on
// proto3 string fields and RFC 8259 on JSON text.
bool IsValidUtf8(absl::string_view s);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_STRICT_JSON_H_
