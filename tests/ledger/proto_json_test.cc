// The direct JSON writer (issue 17) against Protobuf's printer, the authority: the decisions, audit
// records, notices and events that `claimgate check` writes for the repository's inputs, and
// messages holding what the writer leaves to Protobuf (characters JSON escapers change, unknown
// enum numbers, times out of range), print to the same bytes through ToJson as through
// MessageToJsonString.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/proto_json.h"
#include "ledger/strict_json.h"

namespace claimgate::ledger {
namespace {

std::string Reference(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, o).ok());
  return out;
}

// Every line of the repository's JSON read as `M` (those that parse).
template <typename M>
std::vector<M> Messages() {
  const std::string root = CLAIMGATE_SOURCE_DIR;
  std::vector<std::string> files = {root + "/docs/examples/demo-2025.jsonl"};
  for (const auto& e : std::filesystem::directory_iterator(root + "/tests/golden"))
    files.push_back(e.path().string());
  std::vector<M> out;
  for (const std::string& f : files) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) {
      M m;
      if (ParseStrictJsonWithProtobuf(line, &m, true).ok()) out.push_back(std::move(m));
    }
  }
  return out;
}

template <typename M>
void ExpectSameBytes(const M& m, int* direct) {
  EXPECT_EQ(ToJson(m), Reference(m)) << m.ShortDebugString();
  std::string out;
  *direct += AppendProtoJson(m, &out);
}

TEST(ProtoJsonTest, WritesWhatProtobufWrites) {
  int direct = 0, total = 0;
  for (const v1::Decision& d : Messages<v1::Decision>()) {
    ++total;
    ExpectSameBytes(d, &direct);
  }
  for (const v1::Event& e : Messages<v1::Event>()) {
    ++total;
    ExpectSameBytes(e, &direct);
  }
  for (const v1::LedgerNotice& n : Messages<v1::LedgerNotice>()) {
    ++total;
    ExpectSameBytes(n, &direct);
  }
  EXPECT_GT(total, 500);
  EXPECT_GT(direct, total / 2);  // the writer, not the fallback, writes most
  std::cout << total << " messages, " << direct << " written directly\n";
}

TEST(ProtoJsonTest, LeavesWhatItCannotWriteToProtobuf) {
  int direct = 0;
  v1::Decision d;
  d.set_claim_id("C1");
  d.set_outcome(v1::Decision::FLAG);
  ExpectSameBytes(d, &direct);
  for (const std::string& id : std::vector<std::string>{"a\"b", "a\\b", "<x>", "a&b", "a'b", "a=b", "\x7f", "\n", "é",
                               "申", std::string("a\0b", 3), "\xe2\x80\xa8"}) {
    d.set_claim_id(id);
    ExpectSameBytes(d, &direct);
  }
  d.set_claim_id("C1");
  d.set_outcome(static_cast<v1::Decision::Outcome>(77));  // a number with no name
  ExpectSameBytes(d, &direct);
  d.set_outcome(v1::Decision::ACCEPT);
  v1::AuditRecord* a = d.mutable_audit();  // present, empty
  ExpectSameBytes(d, &direct);
  for (int64_t seconds : {int64_t{0}, int64_t{-62135596800}, int64_t{253402300799},
                          int64_t{1735689600}}) {
    for (int32_t nanos : {0, 1, 1000, 1000000, 123456789, 100000000}) {
      a->mutable_processing_time()->set_seconds(seconds);
      a->mutable_processing_time()->set_nanos(nanos);
      ExpectSameBytes(d, &direct);
    }
  }
  a->mutable_processing_time()->set_seconds(-62135596801);  // before year 1: Protobuf's error
  std::string out;
  EXPECT_FALSE(AppendProtoJson(d, &out));
  EXPECT_TRUE(out.empty());
  EXPECT_GT(direct, 20);
}

}  // namespace
}  // namespace claimgate::ledger
