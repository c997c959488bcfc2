// The published status of one person as of a time, as JSON: the answer of
// `GET /v1/persons/{id}/status?at=RFC3339` (SPEC §4, publication to registration platforms).
#ifndef CLAIMGATE_GATE_SERVICE_STATUS_API_H_
#define CLAIMGATE_GATE_SERVICE_STATUS_API_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/claimgate/v1/status.pb.h"

namespace claimgate::gate {

// A person id the endpoint accepts: 1-64 characters of [A-Za-z0-9._:-].
bool ValidPersonId(absl::string_view id);

// {"person_id", "at", "state", "since", "until", "year", "year_points", "registrations": [{
// "institution_id", "role", "standing", "registered_since", "registered_until"}],
// "ledger_position"}; absent bounds are null.
std::string PersonStatusJson(const v1::PersonStatus& person, absl::Time at);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_STATUS_API_H_
