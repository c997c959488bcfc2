// Differential fuzzer (b): Protobuf bytes read by the gate's wire parser (gate::ParseClaimEvent,
// the streaming path) and by Protobuf's ParseFromString plus ledger::ValidateEvent. They must agree
// on whether the bytes are a valid claim event and on every field the decision reads.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "claimgate/v1/events.pb.h"
#include "gate/claim_view.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "tests/fuzz/oracle.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  claimgate::fuzz::SilenceProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace claimgate;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  v1::Event parsed;
  const bool protobuf_ok = parsed.ParseFromArray(data, static_cast<int>(size)) &&
                           ledger::ValidateEvent(parsed).ok() && parsed.has_claim();
  static gate::ClaimView* view = new gate::ClaimView();  // reused, as the gate does
  const absl::Status wire = gate::ParseClaimEvent(bytes, view);
  fuzz::Require(wire.ok() == protobuf_ok,
                absl::StrCat("ParseClaimEvent says ", wire.ok(), " (", wire.message(),
                             "), Protobuf ", protobuf_ok),
                bytes);
  if (!protobuf_ok) return 0;
  std::string canonical;
  gate::CanonicalClaimBytes(*view, &canonical);
  parsed.DiscardUnknownFields();
  fuzz::Require(canonical == ledger::DeterministicBytes(parsed.claim()),
                "the wire parser reads another claim", bytes);
  fuzz::Require(view->event_id == parsed.event_id(), "another event_id", bytes);
  fuzz::Require(view->service_time == ledger::FromProto(parsed.claim().service_time()),
                "another service_time", bytes);
  return 0;
}
