// SHA-256 (OpenSSL's low-level API: see Sha256HexInto) and canonical Protobuf bytes.
#include "ledger/digest.h"

// SHA256_Init & co. are deprecated in OpenSSL 3 but kept; see Sha256HexInto.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace claimgate::ledger {

void Sha256HexInto(absl::string_view bytes, std::string* out) {
  // The low-level SHA-256 functions: OpenSSL 3 deprecates them in favour of EVP, whose per-call
  // provider dispatch costs more than hashing a ~100-byte claim (measured: 0.45 us vs 0.15 us a
  // digest).
  SHA256_CTX ctx;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  SHA256_Final(md, &ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  out->resize(2 * SHA256_DIGEST_LENGTH);
  char* p = out->data();
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    p[2 * i] = kHex[md[i] >> 4];
    p[2 * i + 1] = kHex[md[i] & 0xf];
  }
}

std::string Sha256Hex(absl::string_view bytes) {
  std::string out;
  Sha256HexInto(bytes, &out);
  return out;
}

void DeterministicBytesInto(const google::protobuf::Message& m, std::string* out) {
  const size_t size = m.ByteSizeLong();
  out->resize(size);
  google::protobuf::io::ArrayOutputStream stream(out->data(), static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeWithCachedSizes(&coded);
}

std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  DeterministicBytesInto(m, &out);
  return out;
}

}  // namespace claimgate::ledger
