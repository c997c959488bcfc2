// The gate's exactly-once recovery (gate/service/recovery.h) over a fake OutputTail: where a claims
// partition resumes and which outputs an earlier attempt left, with no broker. Each case writes
// what a gate (or a killed or aborted attempt of one) would have left on the output topics, in
// the order the gate writes it: a batch's audit records and dead letters, then its decisions.
#include "gate/service/recovery.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "claimgate/v1/decision.pb.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

// Output partitions in memory: message i of a partition is at offset i; those below `low` are
// gone (retention). Records the ranges it is asked to read.
class FakeTail final : public OutputTail {
 public:
  struct Message {
    std::string source, batch_start, value;
  };

  void Add(const std::string& topic, int32_t partition, Message m) {
    partitions_[{topic, partition}].messages.push_back(std::move(m));
  }
  void SetLow(const std::string& topic, int32_t partition, int64_t low) {
    partitions_[{topic, partition}].low = low;
  }
  void FailWatermarks(absl::Status s) { watermark_error_ = std::move(s); }

  absl::StatusOr<Range> Watermarks(const std::string& topic, int32_t partition) override {
    if (!watermark_error_.ok()) return watermark_error_;
    const Partition& p = partitions_[{topic, partition}];
    return Range{p.low, static_cast<int64_t>(p.messages.size())};
  }
  absl::Status Read(const std::string& topic, int32_t partition, int64_t from, int64_t to,
                    const std::function<void(const TailRecord&)>& fn) override {
    reads_.push_back(absl::StrCat(topic, "/", partition, "[", from, ",", to, ")"));
    const Partition& p = partitions_[{topic, partition}];
    for (int64_t o = std::max(from, p.low); o < to; ++o) {
      const Message& m = p.messages.at(static_cast<size_t>(o));
      fn(TailRecord{m.source, m.batch_start, m.value});
    }
    return absl::OkStatus();
  }
  // The ranges read so far, then forgets them.
  std::string TakeReads() {
    std::string s = absl::StrJoin(reads_, " ");
    reads_.clear();
    return s;
  }

 private:
  struct Partition {
    int64_t low = 0;
    std::vector<Message> messages;
  };
  std::map<std::pair<std::string, int32_t>, Partition> partitions_;
  absl::Status watermark_error_;
  std::vector<std::string> reads_;
};

const RecoveryOptions kOptions;  // the default topic names, Protobuf, windows of 1,000

// Writes outputs as the gate does: to partition p mod 3 of each output topic, with the headers
// `source` and `batch_start`, the audit records chained per claims partition.
class Gate {
 public:
  explicit Gate(FakeTail* tail, kafka::Format format = kafka::Format::kProtobuf)
      : tail_(tail), format_(format) {}

  void Audit(int32_t p, int64_t offset, int64_t batch_start) {
    v1::AuditRecord a = Record(p, offset);
    ChainAudit(&a, &chains_[p]);
    Add(kOptions.audit_topic, p, offset, batch_start,
        format_ == kafka::Format::kJson ? ledger::ToJson(a) : a.SerializeAsString());
  }
  void Decision(int32_t p, int64_t offset, int64_t batch_start) {
    Add(kOptions.decisions_topic, p, offset, batch_start, DecisionBytes(p, offset));
  }
  void DeadLetter(int32_t p, int64_t offset, int64_t batch_start) {
    Add(kOptions.dlq_topic, p, offset, batch_start, "garbage");
  }
  // A batch that committed: the audit records of claims [from, to), then their decisions.
  void Batch(int32_t p, int64_t from, int64_t to) {
    for (int64_t o = from; o < to; ++o) Audit(p, o, from);
    for (int64_t o = from; o < to; ++o) Decision(p, o, from);
  }
  // The decision the gate wrote for claim (p, offset), in the output format.
  std::string DecisionBytes(int32_t p, int64_t offset) const {
    const v1::AuditRecord a = Record(p, offset);
    v1::Decision d;
    d.set_claim_id(a.claim_id());
    d.set_outcome(a.outcome());
    *d.mutable_reasons() = a.reasons();
    return format_ == kafka::Format::kJson ? ledger::ToJson(d) : d.SerializeAsString();
  }
  const ChainHead& chain(int32_t p) { return chains_[p]; }

 private:
  static v1::AuditRecord Record(int32_t p, int64_t offset) {
    v1::AuditRecord a;
    a.set_claim_id(absl::StrCat("c", p, "-", offset));
    a.set_outcome(offset % 2 == 0 ? v1::Decision::ACCEPT : v1::Decision::REJECT);
    if (offset % 2 != 0) a.add_reasons()->set_code(v1::PRACTITIONER_SUSPENDED);
    return a;
  }
  void Add(const std::string& topic, int32_t p, int64_t offset, int64_t batch_start,
           std::string value) {
    tail_->Add(topic, p % 3,
               {absl::StrCat(kOptions.claims_topic, "/", p, "@", offset),
                absl::StrCat(batch_start), std::move(value)});
  }

  FakeTail* tail_;
  kafka::Format format_;
  std::map<int32_t, ChainHead> chains_;
};

const OutputPartitions kThree({{"claim-audit", 3}, {"claim-decisions", 3}, {"claims-dlq", 3}});

// "resume R last L written O:AD O:L ... chain SEQ": what a recovery found, in one line.
std::string Describe(const PartitionRecovery& r) {
  std::vector<std::string> written;
  for (const auto& [offset, w] : r.written) {
    written.push_back(absl::StrCat(offset, ":", w.audit ? "A" : "", w.decision ? "D" : "",
                                   w.dead_letter ? "L" : ""));
  }
  return absl::StrCat("resume ", r.resume, " last ", r.last, " written ",
                      written.empty() ? "-" : absl::StrJoin(written, " "), " chain ",
                      r.chain.seq);
}

std::string Recover(FakeTail& tail, int32_t p, int64_t committed,
                    const RecoveryOptions& options = kOptions) {
  absl::StatusOr<PartitionRecovery> r = RecoverPartition(tail, kThree, options, p, committed);
  if (!r.ok()) return r.status().ToString();
  return Describe(*r);
}

TEST(RecoveryTest, NothingWritten) {
  FakeTail tail;
  EXPECT_EQ(Recover(tail, 0, -1), "resume -1 last -1 written - chain 0");
  // A broker with transactions: the committed offset.
  EXPECT_EQ(Recover(tail, 0, 7), "resume 7 last -1 written - chain 0");
}

TEST(RecoveryTest, OtherPartitionsOutputsAreNotThisOnes) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(3, 0, 5);  // claims/3 shares the output partitions of claims/0
  gate.Batch(1, 0, 5);
  EXPECT_EQ(Recover(tail, 0, -1), "resume -1 last -1 written - chain 0");
  EXPECT_EQ(Recover(tail, 3, -1), "resume 0 last 4 written 0:AD 1:AD 2:AD 3:AD 4:AD chain 5");
}

TEST(RecoveryTest, FullBatchWritten) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 5);
  gate.Batch(0, 5, 8);
  // The mock keeps no committed offsets: the last batch is checked again, all of it there.
  EXPECT_EQ(Recover(tail, 0, -1), "resume 5 last 7 written 5:AD 6:AD 7:AD chain 8");
  // Its offsets committed with it: nothing to check. The chain goes on all the same.
  EXPECT_EQ(Recover(tail, 0, 8), "resume 8 last -1 written - chain 8");
  absl::StatusOr<PartitionRecovery> r = RecoverPartition(tail, kThree, kOptions, 0, -1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->chain.hash, gate.chain(0).hash);
}

TEST(RecoveryTest, PartialBatch) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 5);
  // Killed while producing the decisions of claims 5..9: audit records of 5..7 acknowledged (the
  // rest not produced yet), the decision of 5 written.
  for (int64_t o = 5; o < 8; ++o) gate.Audit(0, o, 5);
  gate.Decision(0, 5, 5);
  absl::StatusOr<PartitionRecovery> r = RecoverPartition(tail, kThree, kOptions, 0, -1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Describe(*r), "resume 5 last 7 written 5:AD 6:A 7:A chain 8");
  // The missing decisions are rebuilt from the audit records, byte for byte.
  std::string claim_id;
  absl::StatusOr<std::string> rebuilt =
      DecisionFromAudit(r->written.at(6).audit_value, kafka::Format::kProtobuf, &claim_id);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(claim_id, "c0-6");
  EXPECT_EQ(*rebuilt, gate.DecisionBytes(0, 6));

  // As the claims are read again: 5..7 as found, 8 and on beyond the window (decided afresh).
  WrittenOutputs written;
  written.Set(0, *std::move(r));
  EXPECT_EQ(written.Count(0), 3u);
  ASSERT_NE(written.Find(0, 6), nullptr);
  EXPECT_TRUE(written.Find(0, 6)->audit);
  EXPECT_FALSE(written.Find(0, 6)->decision);
  EXPECT_EQ(written.Find(0, 8), nullptr);
  EXPECT_EQ(written.Count(0), 0u);  // the window is gone
  EXPECT_EQ(written.Find(0, 6), nullptr);
}

TEST(RecoveryTest, PartialBatchInJson) {
  FakeTail tail;
  Gate gate(&tail, kafka::Format::kJson);
  gate.Batch(1, 0, 2);
  gate.Audit(1, 2, 2);
  RecoveryOptions json = kOptions;
  json.output_format = kafka::Format::kJson;
  absl::StatusOr<PartitionRecovery> r = RecoverPartition(tail, kThree, json, 1, -1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Describe(*r), "resume 2 last 2 written 2:A chain 3");
  EXPECT_EQ(r->chain.hash, gate.chain(1).hash);
  std::string claim_id;
  absl::StatusOr<std::string> rebuilt =
      DecisionFromAudit(r->written.at(2).audit_value, kafka::Format::kJson, &claim_id);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(*rebuilt, gate.DecisionBytes(1, 2));
}

TEST(RecoveryTest, DeadLetteredClaim) {
  FakeTail tail;
  Gate gate(&tail);
  // Claims 5..7: 5 decided, 6 dead-lettered; killed before 7 and before the decisions.
  gate.Audit(0, 5, 5);
  gate.DeadLetter(0, 6, 5);
  EXPECT_EQ(Recover(tail, 0, -1), "resume 5 last 6 written 5:A 6:L chain 1");
  // The dead letter alone names the batch.
  FakeTail only_dlq;
  Gate malformed(&only_dlq);
  malformed.Batch(0, 0, 3);
  malformed.DeadLetter(0, 3, 3);
  EXPECT_EQ(Recover(only_dlq, 0, -1), "resume 3 last 3 written 3:L chain 3");
}

TEST(RecoveryTest, AbortedAttemptsOutputsAreSeen) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 5);
  // An attempt at claims 5..9 aborted after the audit records of 5 and 6: a broker without
  // transaction markers (librdkafka's mock) still shows them, and its committed offset is 5.
  gate.Audit(0, 5, 5);
  gate.Audit(0, 6, 5);
  EXPECT_EQ(Recover(tail, 0, 5), "resume 5 last 6 written 5:A 6:A chain 7");
  // The retry, in two batches: 5 alone (its decision rebuilt), then 6..7.
  gate.Decision(0, 5, 5);
  gate.Audit(0, 7, 6);
  gate.Decision(0, 6, 6);
  gate.Decision(0, 7, 6);
  // The newest output names the batch of 6; the audit record of 6 from the aborted attempt counts.
  EXPECT_EQ(Recover(tail, 0, -1), "resume 6 last 7 written 6:AD 7:AD chain 8");
  // A committed offset past the outputs wins.
  EXPECT_EQ(Recover(tail, 0, 8), "resume 8 last -1 written - chain 8");
}

TEST(RecoveryTest, CommittedOffsetInsideTheLastBatch) {
  FakeTail tail;
  Gate gate(&tail);
  for (int64_t o = 0; o < 4; ++o) gate.Audit(0, o, 0);
  // Committed 2 (the batch's outputs of 0..1 were in an earlier transaction on a real broker):
  // what lies below it is not checked.
  EXPECT_EQ(Recover(tail, 0, 2), "resume 2 last 3 written 2:A 3:A chain 4");
}

TEST(RecoveryTest, WindowSteppingBack) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 2);
  // Killed after the audit records of claims 2..5 and the decisions of 2..3.
  for (int64_t o = 2; o < 6; ++o) gate.Audit(0, o, 2);
  gate.Decision(0, 2, 2);
  gate.Decision(0, 3, 2);
  gate.Batch(3, 0, 10);  // claims/3, later, on the same output partitions
  RecoveryOptions small = kOptions;
  small.window = 4;
  EXPECT_EQ(Recover(tail, 0, -1, small), "resume 2 last 5 written 2:AD 3:AD 4:A 5:A chain 6");
  // claim-audit/0 holds 16 records (claims/0 at 0..5), claim-decisions/0 14 (claims/0 at 0..3),
  // claims-dlq/0 none. Each is read back a window at a time to claims/0's newest record, then on
  // to the one before the batch's start (offset 1).
  EXPECT_EQ(tail.TakeReads(),
            "claim-audit/0[12,16) claim-audit/0[8,12) claim-audit/0[4,8) "
            "claim-decisions/0[10,14) claim-decisions/0[6,10) claim-decisions/0[2,6) "
            "claim-audit/0[0,4) claim-decisions/0[0,2)");
  // The default window (1,000) reads each partition once.
  EXPECT_EQ(Recover(tail, 0, -1), "resume 2 last 5 written 2:AD 3:AD 4:A 5:A chain 6");
  EXPECT_EQ(tail.TakeReads(), "claim-audit/0[0,16) claim-decisions/0[0,14)");
}

TEST(RecoveryTest, SteppingBackStopsAtTheLowWatermark) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 6);
  // Retention removed the first records: recovery reads what is left.
  tail.SetLow(kOptions.audit_topic, 0, 3);
  tail.SetLow(kOptions.decisions_topic, 0, 3);
  RecoveryOptions small = kOptions;
  small.window = 2;
  EXPECT_EQ(Recover(tail, 0, -1, small), "resume 0 last 5 written 3:AD 4:AD 5:AD chain 6");
  EXPECT_EQ(tail.TakeReads(),
            "claim-audit/0[4,6) claim-decisions/0[4,6) claim-audit/0[3,4) "
            "claim-decisions/0[3,4)");
}

TEST(RecoveryTest, Errors) {
  FakeTail tail;
  tail.FailWatermarks(absl::UnavailableError("watermarks of claim-audit: Local: Timed out"));
  EXPECT_EQ(Recover(tail, 0, -1), "UNAVAILABLE: watermarks of claim-audit: Local: Timed out");

  FakeTail bad;
  bad.Add(kOptions.audit_topic, 0, {"claims/0@4", "4", "\xff not an audit record"});
  EXPECT_EQ(Recover(bad, 0, -1),
            "DATA_LOSS: the newest audit record of claims/0 does not parse");
  std::string claim_id;
  EXPECT_EQ(DecisionFromAudit("\xff", kafka::Format::kProtobuf, &claim_id).status().ToString(),
            "DATA_LOSS: an audit record on the output topic does not parse");
}

TEST(RecoveryTest, HeadersMissingOrForeign) {
  FakeTail tail;
  Gate gate(&tail);
  gate.Batch(0, 0, 2);
  // No batch_start header (an older gate): the claim is its own batch start. Another topic's
  // source, or none, is not this partition's.
  tail.Add(kOptions.decisions_topic, 0, {"claims/0@2", "", "d"});
  tail.Add(kOptions.decisions_topic, 0, {"other/0@9", "9", "d"});
  tail.Add(kOptions.decisions_topic, 0, {"", "", "d"});
  EXPECT_EQ(Recover(tail, 0, -1), "resume 2 last 2 written 2:D chain 2");
}

TEST(RecoveryTest, OutputPartitions) {
  EXPECT_EQ(kThree.For("claim-audit", 4), 1);
  EXPECT_EQ(kThree.For("claim-audit", 2), 2);
  EXPECT_EQ(kThree.For("unknown", 4), 0);
  EXPECT_EQ(OutputPartitions({{"t", 0}}).For("t", 5), 0);
}

TEST(WrittenOutputsTest, NothingKnown) {
  WrittenOutputs written;
  EXPECT_EQ(written.Find(0, 0), nullptr);
  PartitionRecovery nothing_to_check;
  nothing_to_check.resume = 8;
  written.Set(0, nothing_to_check);
  EXPECT_EQ(written.Find(0, 8), nullptr);
  PartitionRecovery r;
  r.resume = 2;
  r.last = 4;
  r.written[4].dead_letter = true;
  written.Set(1, r);
  ASSERT_NE(written.Find(1, 3), nullptr);  // inside the window, without outputs
  EXPECT_FALSE(written.Find(1, 3)->audit || written.Find(1, 3)->decision);
  EXPECT_TRUE(written.Find(1, 4)->dead_letter);
  written.Erase(1);
  EXPECT_EQ(written.Find(1, 4), nullptr);
}

}  // namespace
}  // namespace claimgate::gate
