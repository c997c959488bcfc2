// Digests that make records verifiable: SHA-256 (OpenSSL), hex encoded, over Protobuf's
// deterministic bytes.
#ifndef CLAIMGATE_LEDGER_DIGEST_H_
#define CLAIMGATE_LEDGER_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace claimgate::ledger {

std::string Sha256Hex(absl::string_view bytes);
// Writes the 64 hex digits into `out` (reusing its capacity).
void Sha256HexInto(absl::string_view bytes, std::string* out);

// The message's canonical bytes: deterministic serialization (map entries ordered).
std::string DeterministicBytes(const google::protobuf::Message& m);
void DeterministicBytesInto(const google::protobuf::Message& m, std::string* out);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_DIGEST_H_
