// The strict checker's builder (issue 17) against Protobuf's parser, the authority: for every line
// of the repository's JSON inputs and for variants of them that Protobuf reads its own way (enum
// numbers, numbers as strings, null, lowerCamelCase keys, every field written out, unknown keys, a
// second body, floats, big numbers, escapes), ParseStrictJson and ParseStrictJsonWithProtobuf give
// the same message or the same refusal.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/policy.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ledger/strict_json.h"

namespace claimgate::ledger {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every JSON line the repository holds: the golden inputs, the example year, the fuzz corpora.
std::vector<std::string> Corpus() {
  const std::string root = CLAIMGATE_SOURCE_DIR;
  std::vector<std::string> lines;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/tests/golden")) {
    if (entry.path().extension() != ".jsonl") continue;
    for (std::string& l : Lines(entry.path().string())) lines.push_back(std::move(l));
  }
  for (std::string& l : Lines(root + "/docs/examples/demo-2025.jsonl")) lines.push_back(std::move(l));
  for (const char* dir : {"/tests/fuzz/corpus/json_lines", "/tests/fuzz/corpus/audit_line"}) {
    for (const auto& entry : std::filesystem::directory_iterator(root + dir)) {
      for (std::string& l : Lines(entry.path().string())) lines.push_back(std::move(l));
    }
  }
  return lines;
}

// Variants Protobuf reads its own way, from a line that parses.
std::vector<std::string> Variants(const std::string& line, const google::protobuf::Message& m) {
  std::vector<std::string> out;
  for (int mode = 0; mode < 8; ++mode) {
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = (mode & 1) == 0;  // else lowerCamelCase keys
    o.always_print_primitive_fields = (mode & 2) != 0;
    o.always_print_enums_as_ints = (mode & 4) != 0;
    std::string text;
    if (google::protobuf::util::MessageToJsonString(m, &text, o).ok()) out.push_back(text);
  }
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"\"level\":3", "\"level\":\"3\""},
      {"\"level\":3", "\"level\":3.0"},
      {"\"level\":3", "\"level\":3e0"},
      {"\"level\":3", "\"level\":null"},
      {"\"level\":3", "\"level\":-3"},
      {"\"level\":3", "\"level\":99999999999"},
      {"\"points\":", "\"points\":1,\"x\":"},
      {"\"amount_fen\":1250", "\"amount_fen\":\"1250\""},
      {"\"amount_fen\":1250", "\"amount_fen\":12500000000000000000"},
      {"\"amount_fen\":1250", "\"amount_fen\":9007199254740993"},
      {"\"amount_fen\":1250", "\"amount_fen\":-0"},
      {"\"amount_fen\":1250", "\"amount_fen\":\"-0\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"007\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\" 5\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"+5\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"5 \""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"1e3\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"9223372036854775807\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"9223372036854775808\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"-9223372036854775808\""},
      {"\"amount_fen\":1250", "\"amount_fen\":\"\""},
      {"\"amount_fen\":\"", "\"amount_fen\":\"0"},
      {"\"level\":3", "\"level\":\"2147483648\""},
      {"\"level\":3", "\"level\":\"-3\""},
      {"\"kind\":\"SETTLEMENT\"", "\"kind\":2"},
      {"\"kind\":\"SETTLEMENT\"", "\"kind\":\"NO_SUCH_KIND\""},
      {"\"kind\":\"SETTLEMENT\"", "\"kind\":null"},
      {"\"kind\":\"SETTLEMENT\"", "\"kind\":true"},
      {"\"role\":\"PRESCRIBER\"", "\"role\":\"PRESC\\u0052IBER\""},
      {"\"event_id\":\"", "\"event_id\":\"\\u00e9\\n"},
      {"\"event_id\":\"", "\"unknown\":{\"a\":[1,null,\"x\"]},\"event_id\":\""},
      {"\"claim\":{", "\"claim_reversed\":{\"claim_id\":\"X\"},\"claim\":{"},
      {"\"claim\":{", "\"claim\":null,\"other\":{"},
      {"\"items\":[", "\"items\":null,\"x\":["},
      {"\"practitioners\":[", "\"practitioners\":{},\"x\":["},
      {"\"traceability_codes\":[", "\"traceability_codes\":[null,"},
      {"\"traceability_codes\":[", "\"traceability_codes\":[1,"},
      {"\"service_time\":\"", "\"service_time\":{\"seconds\":1},\"x\":\""},
      {"\"time\":\"", "\"time\":null,\"x\":\""},
      {"\"profile\":\"hebei\"", "\"profile\":7"},
      {"\"emergency\":true", "\"emergency\":\"true\""},
      {"\"months\":3", "\"months\":\"3\""},
      // Empty keys (json_lines_fuzzer's finding): Protobuf refuses them in a message.
      {"\"event_id\":\"", "\"\":1,\"event_id\":\""},
      {"\"claim_id\":\"", "\"\":\"x\",\"claim_id\":\""},
      {"\"person_id\":\"", "\"\":{},\"person_id\":\""},
      {"\"event_id\":\"", "\"unknown\":{\"\":1},\"event_id\":\""},
  };
  for (const auto& [from, to] : edits) {
    if (line.find(from) == std::string::npos) continue;
    out.push_back(absl::StrReplaceAll(line, {{from, to}}));
  }
  return out;
}

template <typename M>
void ExpectSameReading(const std::string& line, int* built) {
  M fast, slow;
  const absl::Status a = ParseStrictJson(line, &fast, /*ignore_unknown_fields=*/true);
  const absl::Status b = ParseStrictJsonWithProtobuf(line, &slow, /*ignore_unknown_fields=*/true);
  ASSERT_EQ(a.ok(), b.ok()) << line << "\nbuilder: " << a << "\nProtobuf: " << b;
  if (!a.ok()) {
    EXPECT_EQ(a.message(), b.message()) << line;
    return;
  }
  std::string fa, fb;
  {
    google::protobuf::io::StringOutputStream sa(&fa), sb(&fb);
    google::protobuf::io::CodedOutputStream ca(&sa), cb(&sb);
    ca.SetSerializationDeterministic(true);
    cb.SetSerializationDeterministic(true);
    fast.SerializeToCodedStream(&ca);
    slow.SerializeToCodedStream(&cb);
  }
  EXPECT_EQ(fa, fb) << line << "\nbuilder: " << fast.ShortDebugString()
                    << "\nProtobuf: " << slow.ShortDebugString();
  ++*built;
}

TEST(StrictJsonTest, TheBuilderReadsEveryLineAsProtobufDoes) {
  int lines = 0, variants = 0, read = 0;
  for (const std::string& line : Corpus()) {
    ++lines;
    ExpectSameReading<v1::Event>(line, &read);
    ExpectSameReading<v1::Decision>(line, &read);
    v1::Event e;
    if (ParseStrictJsonWithProtobuf(line, &e, true).ok()) {
      for (const std::string& v : Variants(line, e)) {
        ++variants;
        ExpectSameReading<v1::Event>(v, &read);
      }
    }
    v1::Decision d;
    if (ParseStrictJsonWithProtobuf(line, &d, true).ok()) {
      for (const std::string& v : Variants(line, d)) {
        ++variants;
        ExpectSameReading<v1::Decision>(v, &read);
      }
    }
  }
  EXPECT_GT(lines, 300);
  EXPECT_GT(variants, 5000);
  EXPECT_GT(read, 5000);
  std::cout << lines << " lines, " << variants << " variants, " << read << " read alike\n";
}

TEST(StrictJsonTest, WellKnownTypesAreLeftToProtobuf) {
  int read = 0;
  // A Duration is a string in JSON; what an object means is Protobuf's to say.
  ExpectSameReading<v1::PolicyProfile>(R"({"future_service_tolerance":"60s"})", &read);
  ExpectSameReading<v1::PolicyProfile>(R"({"future_service_tolerance":{"seconds":60}})", &read);
  ExpectSameReading<v1::PolicyProfile>(R"({"future_service_tolerance":"1.5s","x":[{}]})", &read);
  EXPECT_EQ(read, 3);
}

}  // namespace
}  // namespace claimgate::ledger
