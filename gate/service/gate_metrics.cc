#include "gate/service/gate_metrics.h"

#include "claimgate/v1/decision.pb.h"
#include "gate/service/http_listener.h"
#include "ledger/service/ledger_metrics.h"

namespace claimgate::gate {
namespace {

// Decision work is microseconds; claim-to-decision milliseconds to seconds.
const prometheus::Histogram::BucketBoundaries kDecisionBuckets = {
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2};
const prometheus::Histogram::BucketBoundaries kLagBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

prometheus::Family<prometheus::Gauge>& StoreRecords(prometheus::Registry& registry) {
  return prometheus::BuildGauge()
      .Name("claimgate_store_records")
      .Help(
          "Status records in the gate's store, by kind: person and institution are RocksDB's "
          "estimate (it counts overwritten versions until compaction); insured is exact (the "
          "insured persons ever suspended)")
      .Register(registry);
}

}  // namespace

GateMetrics::GateMetrics(prometheus::Registry& registry)
    : decisions(prometheus::BuildCounter()
                    .Name("claimgate_decisions_total")
                    .Help("Claims decided, by outcome (ACCEPT, REJECT, FLAG)")
                    .Register(registry)),
      reasons(prometheus::BuildCounter()
                  .Name("claimgate_decision_reasons_total")
                  .Help("Claims decided citing a reason code (a code counts once a claim)")
                  .Register(registry)),
      dead_letters(prometheus::BuildCounter()
                       .Name("claimgate_dead_letters_total")
                       .Help("Claims sent to claims-dlq, by error")
                       .Register(registry)),
      decision_duration(prometheus::BuildHistogram()
                            .Name("claimgate_decision_duration_seconds")
                            .Help("Decision work a claim: parse, status lookups, decide, encode")
                            .Register(registry)
                            .Add({}, kDecisionBuckets)),
      claim_to_decision(prometheus::BuildHistogram()
                            .Name("claimgate_claim_to_decision_seconds")
                            .Help("From the claim message's timestamp to its transaction's commit")
                            .Register(registry)
                            .Add({}, kLagBuckets)),
      staleness(prometheus::BuildGauge()
                    .Name("claimgate_status_feed_staleness_seconds")
                    .Help("Seconds since the status feed was last confirmed current")
                    .Register(registry)
                    .Add({})),
      feed_confirmed(prometheus::BuildGauge()
                         .Name("claimgate_status_feed_last_success_timestamp_seconds")
                         .Help("When the status feed was last confirmed current (unix seconds; "
                               "the gate's start until then)")
                         .Register(registry)
                         .Add({})),
      ready(ledger::ReadyFamily(registry).Add({{"service", "gate"}})),
      hot_tier_lookups(prometheus::BuildCounter()
                           .Name("claimgate_hot_tier_lookups_total")
                           .Help("Status lookups in the in-memory tier, by result (hit, miss)")
                           .Register(registry)),
      persons(StoreRecords(registry).Add({{"kind", "person"}})),
      institutions(StoreRecords(registry).Add({{"kind", "institution"}})),
      insured(StoreRecords(registry).Add({{"kind", "insured"}})),
      hot_tier_bytes(prometheus::BuildGauge()
                         .Name("claimgate_hot_tier_bytes")
                         .Help("Bytes held by the in-memory tier")
                         .Register(registry)
                         .Add({})),
      committed(
          ledger::TransactionsFamily(registry).Add({{"service", "gate"}, {"result", "committed"}})),
      aborted(
          ledger::TransactionsFamily(registry).Add({{"service", "gate"}, {"result", "aborted"}})),
      stalls(prometheus::BuildCounter()
                 .Name("claimgate_stalls_total")
                 .Help("Times a service was found making no progress: batches aborting in a row "
                       "without a commit (it is unready until one commits)")
                 .Register(registry)
                 .Add({{"service", "gate"}})),
      status_records(prometheus::BuildCounter()
                         .Name("claimgate_status_records_applied_total")
                         .Help("Status records applied to the gate's store")
                         .Register(registry)
                         .Add({})),
      owner_wait(prometheus::BuildHistogram()
                     .Name("claimgate_code_owner_wait_seconds")
                     .Help("Seconds a batch of claims waited for the code owners' answers "
                           "(batches with traceability codes or reversals to ask about)")
                     .Register(registry)
                     .Add({}, kLagBuckets)) {
  for (int i = 0; i < v1::Decision::Outcome_descriptor()->value_count(); ++i) {
    const auto* v = v1::Decision::Outcome_descriptor()->value(i);
    if (v->number() != 0) decisions.Add({{"outcome", v->name()}});
  }
  for (int i = 0; i < v1::ReasonCode_descriptor()->value_count(); ++i) {
    const auto* v = v1::ReasonCode_descriptor()->value(i);
    if (v->number() != 0) reasons.Add({{"reason", v->name()}});
  }
  for (const char* error : {kMalformed, kClaimTooLarge, kOutputTooLarge, kUnknownClaim})
    dead_letters.Add({{"reason", error}});
  for (const char* result : {"hit", "miss"}) hot_tier_lookups.Add({{"result", result}});
}

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : dropped(prometheus::BuildCounter()
                  .Name("claimgate_http_connections_dropped_total")
                  .Help("HTTP connections closed before a handler answered, by reason "
                        "(connection_limit, evicted, idle_timeout, read_timeout, head_too_large, "
                        "too_many_headers, busy, tls_handshake, accept_failed)")
                  .Register(registry)),
      status_requests(prometheus::BuildCounter()
                          .Name("claimgate_http_status_requests_total")
                          .Help("Answers of GET /v1/persons/{id}/status, by HTTP status code")
                          .Register(registry)) {
  // Series from zero, so that rate() and alerts see the first event.
  for (const HttpDrop drop : kHttpDrops) dropped.Add({{"reason", HttpDropName(drop)}});
  for (const char* code : {"200", "400", "401", "404", "429", "503"})
    status_requests.Add({{"code", code}});
}

CodeOwnerMetrics::CodeOwnerMetrics(prometheus::Registry& registry)
    : requests(prometheus::BuildCounter()
                   .Name("claimgate_code_requests_total")
                   .Help("Requests the code owner applied and committed, by kind (CHECK, RELEASE, "
                         "CLAIM, REVERSE, UNREADABLE)")
                   .Register(registry)),
      duplicates(prometheus::BuildCounter()
                     .Name("claimgate_code_duplicates_found_total")
                     .Help("Traceability-code checks answered with another claim that settled "
                           "the code (SPEC §8.3)")
                     .Register(registry)
                     .Add({})),
      settled(prometheus::BuildCounter()
                  .Name("claimgate_codes_settled_total")
                  .Help("Traceability codes the code owner settled for a paid claim")
                  .Register(registry)
                  .Add({})) {
  for (const char* kind : {"CHECK", "RELEASE", "CLAIM", "REVERSE", "UNREADABLE"})
    requests.Add({{"kind", kind}});
}

}  // namespace claimgate::gate
