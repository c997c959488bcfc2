// The JSON Lines interchange of SPEC §7: one `Event` a line, Protobuf JSON mapping with proto field
// names. Also the structural checks every event gets whatever its wire format (JSON or Protobuf).
#ifndef CLAIMGATE_LEDGER_CODEC_H_
#define CLAIMGATE_LEDGER_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/events.pb.h"
#include "google/protobuf/message.h"

namespace claimgate::ledger {

// Parses one line into `event`. InvalidArgument (SPEC: MALFORMED) when the line is not JSON, is not
// an Event, or fails ValidateEvent; `event` then holds what could be read (its event_id, for the
// refusal). Unknown fields are ignored (forward compatibility; docs/assumptions.md D16).
absl::Status ParseEventJson(absl::string_view line, v1::Event* event);

// Parses Protobuf bytes, then ValidateEvent. InvalidArgument when the bytes are not an Event.
absl::StatusOr<v1::Event> ParseEventBinary(absl::string_view bytes);

// Structure only: event_id, time, exactly one body, the ids a body needs; for a claim also
// claim_id, institution_id, service_time, visit_type and at least one practitioner. Rule checks
// (points ranges, caps) belong to the ledger.
absl::Status ValidateEvent(const v1::Event& event);

bool IsLedgerEvent(const v1::Event& event);
// The body's name as in SPEC §7 ("score_assessed", ...); "none" when unset.
absl::string_view BodyName(const v1::Event& event);

// One line of JSON, proto field names; default values omitted unless `print_defaults` (for records
// whose consumers expect every key, such as refusals).
std::string ToJson(const google::protobuf::Message& message, bool print_defaults = false);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_CODEC_H_
