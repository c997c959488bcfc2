#include "ledger/service/ledger_metrics.h"

#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"

namespace claimgate::ledger {

prometheus::Family<prometheus::Gauge>& ReadyFamily(prometheus::Registry& registry) {
  return prometheus::BuildGauge()
      .Name("claimgate_ready")
      .Help(
          "1 when the service is caught up and serving (gate: status feed at its start watermarks)")
      .Register(registry);
}

prometheus::Family<prometheus::Counter>& TransactionsFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("claimgate_transactions_total")
      .Help("Kafka transactions by service and result (committed, aborted)")
      .Register(registry);
}

void RegisterBuildInfo(prometheus::Registry& registry, const std::string& version) {
  prometheus::BuildGauge()
      .Name("claimgate_build_info")
      .Help("Always 1; the version in a label")
      .Register(registry)
      .Add({{"version", version}})
      .Set(1);
}

LedgerMetrics::LedgerMetrics(prometheus::Registry& registry)
    : events_applied(prometheus::BuildCounter()
                         .Name("claimgate_ledger_events_applied_total")
                         .Help("Ledger events applied and published, by event type")
                         .Register(registry)),
      refusals(prometheus::BuildCounter()
                   .Name("claimgate_ledger_refusals_total")
                   .Help("Ledger events refused, by refusal code (SPEC section 4)")
                   .Register(registry)),
      committed(TransactionsFamily(registry).Add({{"service", "ledger"}, {"result", "committed"}})),
      aborted(TransactionsFamily(registry).Add({{"service", "ledger"}, {"result", "aborted"}})),
      ready(ReadyFamily(registry).Add({{"service", "ledger"}})),
      position(prometheus::BuildGauge()
                   .Name("claimgate_ledger_position")
                   .Help("Ledger events consumed: the next ledger-events offset")
                   .Register(registry)
                   .Add({})),
      persons(prometheus::BuildGauge()
                  .Name("claimgate_ledger_persons")
                  .Help("Persons by state as of the newest ledger event's time")
                  .Register(registry)),
      restricted_ratio(prometheus::BuildGauge()
                           .Name("claimgate_ledger_restricted_staff_ratio")
                           .Help("Share of the persons ever registered at institutions of a kind "
                                 "who are SUSPENDED or TERMINATED, as of the newest event's time")
                           .Register(registry)) {
  // Every event type and refusal code at 0 from start-up, so that increase() sees the first one.
  const google::protobuf::OneofDescriptor* body = v1::Event::descriptor()->FindOneofByName("body");
  for (int i = 0; body != nullptr && i < body->field_count(); ++i) {
    if (body->field(i)->number() != v1::Event::kClaim)
      events_applied.Add({{"type", body->field(i)->name()}});
  }
  for (int i = 0; i < v1::LedgerError_descriptor()->value_count(); ++i) {
    const auto* v = v1::LedgerError_descriptor()->value(i);
    if (v->number() != 0) refusals.Add({{"reason", v->name()}});
  }
}

}  // namespace claimgate::ledger
