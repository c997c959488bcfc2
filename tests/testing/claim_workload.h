// A claim workload for the streaming tests: a synthetic population's status feed published to the
// status topics, claims (some malformed) with the decision an uninterrupted decider gives each on
// the same statuses, and the exactly-once check a read_committed reader makes afterwards.
#ifndef CLAIMGATE_TESTS_TESTING_CLAIM_WORKLOAD_H_
#define CLAIMGATE_TESTS_TESTING_CLAIM_WORKLOAD_H_

#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/binary_decider.h"
#include "gate/service/audit_topic.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/topics.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate::testing {

struct ClaimWorkload {
  std::vector<std::pair<std::string, std::string>> claims;  // key, value, in produce order
  std::map<std::string, std::string> expected;              // claim id -> decision bytes
  std::map<std::string, int> malformed;                     // value -> dead letters seen
  int insured_suspended = 0;  // expected decisions citing INSURED_SETTLEMENT_SUSPENDED
  // With repeats (MakeClaimWorkload): claims from this index on present codes of earlier claims,
  // and are to be produced once those are decided; `duplicates` of them must find one.
  size_t repeats_from = 0;
  int duplicates = 0;
};

// Publishes the status feed of 2,000 persons (5 % suspended, 2 % terminated) and builds `n`
// claims, 1 in 97 malformed. `scratch` is a directory for the reference store. With `repeats`,
// that many claims more (from w->repeats_from on), each a copy of an earlier claim under another
// claim id: its drug boxes settled again (SPEC §8.3), decided as the file path's code book does.
inline void MakeClaimWorkload(RdKafka::Producer* producer, const kafka::Topics& topics, int n,
                              const std::string& scratch, ClaimWorkload* w, int repeats = 0) {
  synthetic::SyntheticOptions pop;
  pop.persons = 2000;
  pop.institutions = 200;
  pop.suspended_share = 0.05;
  pop.terminated_share = 0.02;
  gate::StatusStoreOptions ref_options;
  ref_options.path = scratch;
  std::filesystem::remove_all(ref_options.path);
  auto reference = std::move(*gate::StatusStore::Open(ref_options));
  gate::StatusBatch statuses;
  synthetic::GenerateStatuses(
      pop,
      [&](v1::InstitutionStatus&& i) {
        Send(producer, topics.institution_status, i.institution_id(), i.SerializeAsString());
        statuses.institutions.push_back(std::move(i));
      },
      [&](v1::PersonStatus&& p) {
        Send(producer, topics.person_status, p.person_id(), p.SerializeAsString());
        statuses.persons.push_back(std::move(p));
      });
  // Twenty insured persons suspended for all time (SPEC §8.1): every tenth claim is one of theirs.
  for (int k = 0; k < 20; ++k) {
    v1::InsuredStatus& s = statuses.insured.emplace_back();
    s.set_insured_id(absl::StrCat("SUSPENDED", k));
    v1::InsuredStatus::Suspension* sus = s.add_suspensions();
    ledger::SetProto(absl::UnixEpoch(), sus->mutable_since());
    ledger::SetProto(absl::FromUnixSeconds(4102444800), sus->mutable_until());  // 2100
    sus->set_decision_id(absl::StrCat("S", k));
    s.set_ledger_position(1);
    Send(producer, topics.insured_status, s.insured_id(), s.SerializeAsString());
  }
  ASSERT_TRUE(reference->Write(statuses).ok());
  producer->flush(30000);

  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  gate::DecisionContext ctx;
  ctx.profiles = profiles.get();
  ctx.default_profile = profiles->Find("national");
  gate::CodeBook book;
  if (repeats > 0) ctx.codes = &book;
  gate::BinaryDecider decider(ctx);
  std::mt19937_64 rng(20261129);
  std::vector<std::string> firsts;  // claim events that may be repeated
  for (int k = 0; k < n + repeats; ++k) {
    if (k == n) w->repeats_from = w->claims.size();
    if (k >= n) {
      v1::Event e;
      ASSERT_TRUE(e.ParseFromString(firsts[(k - n) * 7 % firsts.size()]));
      e.set_event_id(absl::StrCat("R", k));
      e.mutable_claim()->set_claim_id(absl::StrCat("R", k));
      std::string decision, audit;
      const std::string bytes = e.SerializeAsString();
      ASSERT_TRUE(decider.Decide(bytes, *reference, 0, absl::Now(), &decision, &audit).ok());
      const gate::DecisionResult& r = decider.last_result();
      ASSERT_TRUE(book.Record(decider.last_claim(), r.settled_codes, *r.profile).ok());
      w->duplicates += !r.duplicates.empty();
      w->expected[e.claim().claim_id()] = decision;
      w->claims.emplace_back(e.claim().claim_id(), bytes);
      continue;
    }
    if (k % 97 == 13) {
      w->claims.emplace_back("", absl::StrCat("not a claim ", k));
      w->malformed[w->claims.back().second] = 0;
      continue;
    }
    std::vector<int64_t> practitioners;
    for (int j = 1 + static_cast<int>(rng() % 3); j > 0; --j)
      practitioners.push_back(static_cast<int64_t>(rng() % pop.persons));
    std::string bytes = synthetic::ClaimEventBytes(pop, k, practitioners, rng);
    if (k % 10 == 0) {
      v1::Event e;
      ASSERT_TRUE(e.ParseFromString(bytes));
      e.mutable_claim()->set_insured_id(absl::StrCat("SUSPENDED", k % 20));
      bytes = e.SerializeAsString();
    }
    std::string decision, audit;
    ASSERT_TRUE(decider.Decide(bytes, *reference, 0, absl::Now(), &decision, &audit).ok());
    const std::string id(decider.last_claim().claim_id);
    w->expected[id] = decision;
    if (repeats > 0) {
      const gate::DecisionResult& r = decider.last_result();
      ASSERT_TRUE(book.Record(decider.last_claim(), r.settled_codes, *r.profile).ok());
      if (!r.settled_codes.empty()) firsts.push_back(bytes);
    }
    for (const auto& r : decider.last_result().reasons) {
      w->insured_suspended += r.code == v1::INSURED_SETTLEMENT_SUSPENDED;
    }
    w->claims.emplace_back(id, std::move(bytes));
  }
  ASSERT_GT(w->insured_suspended, 0);  // the insured-status feed is exercised
}

// Audit records written so far on `topic` (sum of high watermarks; uncommitted ones count too).
inline int64_t HighWatermarks(RdKafka::Handle* handle, const std::string& topic, int partitions) {
  int64_t sum = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    handle->query_watermark_offsets(topic, p, &low, &high, 5000);
    sum += high;
  }
  return sum;
}

// `claimgate audit verify` on the audit topic: one chain per claims partition, each from seq 1
// without a broken or missing link, `records` records in all.
inline void ExpectIntactAuditChains(const kafka::ClientConfig& config, const kafka::Topics& topics,
                                    size_t records) {
  gate::AuditTopicOptions options;
  options.kafka = config;
  options.topic = topics.audit;
  gate::ChainVerifier verifier(/*partial=*/false);
  ASSERT_TRUE(gate::VerifyAuditTopic(options, &verifier).ok());
  EXPECT_EQ(verifier.breaks(), 0) << verifier.SummaryJson();
  EXPECT_EQ(verifier.records(), static_cast<int64_t>(records));
  for (const gate::ChainVerifier::Chain& c : verifier.chains())
    EXPECT_EQ(c.last_seq, c.records) << gate::ChainVerifier::ChainJson(c);
}

// Waits (at most 180 s) until a read_committed reader finds `want` decisions, then 2 s more, so
// that anything beyond the expected count would show up.
inline void AwaitDecisions(const kafka::ClientConfig& config, const kafka::Topics& topics,
                           size_t want) {
  for (absl::Time deadline = absl::Now() + absl::Seconds(180);
       ReadTopic(config, topics.decisions, 3).size() < want && absl::Now() < deadline;) {
    absl::SleepFor(absl::Seconds(1));
  }
  absl::SleepFor(absl::Seconds(2));
}

// What a read_committed reader finds: every claim's decision once (as expected, byte for byte),
// its audit record once, every malformed claim dead-lettered once. Returns the decisions read.
inline size_t ExpectEachClaimOnce(const kafka::ClientConfig& config, const kafka::Topics& topics,
                                  ClaimWorkload* w) {
  const std::vector<Record> decisions = ReadTopic(config, topics.decisions, 3);
  std::map<std::string, int> decided, audited;
  for (const Record& r : decisions) {
    v1::Decision d;
    EXPECT_TRUE(d.ParseFromString(r.value));
    ++decided[d.claim_id()];
    EXPECT_TRUE(w->expected.count(d.claim_id())) << d.claim_id();
    EXPECT_EQ(r.value, w->expected[d.claim_id()]) << d.claim_id();
  }
  for (const Record& r : ReadTopic(config, topics.audit, 3)) {
    v1::AuditRecord a;
    EXPECT_TRUE(a.ParseFromString(r.value));
    ++audited[a.claim_id()];
    v1::Decision d;
    EXPECT_TRUE(d.ParseFromString(w->expected[a.claim_id()]));
    EXPECT_EQ(a.outcome(), d.outcome()) << a.claim_id();
  }
  for (const Record& r : ReadTopic(config, topics.dlq, TopicPartitions(config, topics.dlq))) {
    EXPECT_TRUE(w->malformed.count(r.value)) << r.value;
    ++w->malformed[r.value];
  }
  int lost = 0, duplicated = 0;
  for (const auto& [id, unused] : w->expected) {
    const int d = decided.count(id) ? decided[id] : 0;
    const int a = audited.count(id) ? audited[id] : 0;
    lost += (d == 0) + (a == 0);
    duplicated += (d > 1) + (a > 1);
  }
  for (const auto& [value, n] : w->malformed) {
    lost += n == 0;
    duplicated += n > 1;
  }
  EXPECT_EQ(decided.size(), w->expected.size());
  EXPECT_EQ(audited.size(), w->expected.size());
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  std::cout << "read_committed (librdkafka): " << decisions.size() << " decisions, " << lost
            << " lost, " << duplicated << " duplicated\n";
  ExpectIntactAuditChains(config, topics, w->expected.size());
  return decisions.size();
}

}  // namespace claimgate::testing

#endif  // CLAIMGATE_TESTS_TESTING_CLAIM_WORKLOAD_H_
