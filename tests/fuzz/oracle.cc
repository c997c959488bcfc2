#include "tests/fuzz/oracle.h"

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "google/protobuf/stubs/logging.h"

namespace claimgate::fuzz {
namespace {

bool HasDuplicateKey(simdjson::dom::element e) {
  if (e.is_array()) {
    const simdjson::dom::array array = e.get_array().value_unsafe();
    for (simdjson::dom::element x : array) {
      if (HasDuplicateKey(x)) return true;
    }
  } else if (e.is_object()) {
    const simdjson::dom::object object = e.get_object().value_unsafe();
    std::set<std::string_view> keys;
    for (simdjson::dom::key_value_pair kv : object) {
      if (!keys.insert(kv.key).second || HasDuplicateKey(kv.value)) return true;
    }
  }
  return false;
}

}  // namespace

void Require(bool ok, absl::string_view what, absl::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "DISAGREEMENT: %.*s\ninput: \"%s\"\n", static_cast<int>(what.size()),
               what.data(), absl::CHexEscape(input).c_str());
  std::abort();
}

Json JudgeJson(absl::string_view text) {
  static simdjson::dom::parser* parser = new simdjson::dom::parser();
  simdjson::dom::element root;
  const simdjson::error_code error =
      parser->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  if (error == simdjson::NUMBER_ERROR || error == simdjson::DEPTH_ERROR) {
    return Json::kUnknown;
  }
  if (error != simdjson::SUCCESS || !root.is_object()) return Json::kNotAnObject;
  return HasDuplicateKey(root) ? Json::kDuplicateKey : Json::kOneObject;
}

void SilenceProtobufLogs() {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                     const std::string&) {});
}

}  // namespace claimgate::fuzz
