// Digests that make records verifiable: SHA-256 (OpenSSL), hex encoded, over Protobuf's deterministic bytes.
#ifndef CLAIMGATE_LEDGER_DIGEST_H_
#define CLAIMGATE_LEDGER_DIGEST_H_

#include <string>
#include "absl/strings/string_view.h"

#include "google/protobuf/message.h"

namespace claimgate::ledger {

std::string Sha256Hex(absl::string_view bytes);

// The message's canonical bytes: deterministic serialization (map entries ordered).
std::string DeterministicBytes(const google::protobuf::Message& m);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_DIGEST_H_
