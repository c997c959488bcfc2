// Microbenchmarks of the gate's hot path (Google Benchmark): claim bytes -> status lookups ->
// decision and audit bytes, with every record in the hot tier. Run: build/bench/decision_benchmark
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "gate/binary_decider.h"
#include "gate/ledger_lookup.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/calendar.h"
#include "ledger/digest.h"
#include "ledger/status_query.h"

namespace claimgate::bench {
namespace {

using synthetic::ClaimEventBytes;
using synthetic::GenerateStatuses;
using synthetic::InstitutionId;
using synthetic::PersonId;
using synthetic::SyntheticOptions;
using ledger::SetProto;

constexpr int64_t kPersons = 20000;

struct Fixture {
  SyntheticOptions pop;
  std::unique_ptr<ledger::ProfileSet> profiles;
  std::unique_ptr<gate::StatusStore> store;
  std::vector<std::string> claims;
  gate::DecisionContext ctx;

  Fixture() {
    pop.persons = kPersons;
    pop.institutions = kPersons / 10;
    const std::string dir = absl::StrCat("/tmp/claimgate-decision-benchmark-", getpid());
    std::filesystem::remove_all(dir);
    gate::StatusStoreOptions o;
    o.path = dir;
    o.hot_tier_bytes = 256 << 20;
    store = std::move(*gate::StatusStore::Open(o));
    gate::StatusBatch batch;
    GenerateStatuses(
        pop, [&](v1::InstitutionStatus&& i) { batch.institutions.push_back(std::move(i)); },
        [&](v1::PersonStatus&& p) { batch.persons.push_back(std::move(p)); });
    (void)store->Write(batch);
    std::mt19937_64 rng(3);
    for (int k = 0; k < 4096; ++k) {
      const int64_t inst = rng() % pop.institutions;
      std::vector<int64_t> practitioners;
      for (int j = 1 + rng() % 3; j > 0; --j)
        practitioners.push_back(inst + pop.institutions * (rng() % 10));
      claims.push_back(ClaimEventBytes(pop, k, practitioners, rng));
    }
    profiles = std::move(*ledger::ProfileSet::Builtin());
    ctx.profiles = profiles.get();
    ctx.default_profile = profiles->Find("national");
    ctx.gate_version = "bench";
    // Warm: every record resident.
    v1::Event e;
    for (const std::string& c : claims) {
      e.ParseFromString(c);
      (void)store->Resolve(e.claim());
    }
    std::filesystem::remove_all(
        dir);  // RocksDB keeps its open files; the hot tier serves everything
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

void BM_ParseClaimEvent(benchmark::State& state) {
  Fixture& f = F();
  google::protobuf::Arena arena;
  size_t k = 0;
  for (auto _ : state) {
    auto* e = google::protobuf::Arena::CreateMessage<v1::Event>(&arena);
    benchmark::DoNotOptimize(e->ParseFromString(f.claims[k++ % f.claims.size()]));
    if (k % 1024 == 0) arena.Reset();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseClaimEvent);

void BM_ResolveHot(benchmark::State& state) {
  Fixture& f = F();
  std::vector<v1::Event> events(f.claims.size());
  for (size_t i = 0; i < events.size(); ++i) events[i].ParseFromString(f.claims[i]);
  size_t k = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(f.store->Resolve(events[k++ % events.size()].claim()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolveHot);

void BM_ParseClaimView(benchmark::State& state) {
  Fixture& f = F();
  gate::ClaimView view;
  size_t k = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(gate::ParseClaimEvent(f.claims[k++ % f.claims.size()], &view));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseClaimView);

void BM_DecideViewHot(benchmark::State& state) {
  Fixture& f = F();
  std::vector<gate::ClaimView> views(f.claims.size());
  for (size_t i = 0; i < views.size(); ++i) (void)gate::ParseClaimEvent(f.claims[i], &views[i]);
  gate::DecisionResult result;
  size_t k = 0;
  for (auto _ : state) {
    const gate::ClaimView& c = views[k++ % views.size()];
    (void)f.store->Resolve(c);
    gate::DecideView(c, *f.store, f.ctx, &result);
    benchmark::DoNotOptimize(result.outcome);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideViewHot);

void BM_EncodeDecisionAndAudit(benchmark::State& state) {
  Fixture& f = F();
  gate::ClaimView view;
  (void)gate::ParseClaimEvent(f.claims[0], &view);
  (void)f.store->Resolve(view);
  gate::DecisionResult result;
  gate::DecideView(view, *f.store, f.ctx, &result);
  std::string a, b;
  for (auto _ : state) {
    gate::EncodeDecision(view, result, &a);
    gate::EncodeAudit(view, result, f.ctx, &b);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeDecisionAndAudit);

void BM_BinaryDeciderHot(benchmark::State& state) {
  Fixture& f = F();
  gate::BinaryDecider decider(f.ctx);
  std::string decision, audit;
  const absl::Time now = absl::Now();
  size_t k = 0;
  for (auto _ : state) {
    if (!decider.Decide(f.claims[k++ % f.claims.size()], *f.store, 1, now, &decision, &audit)
             .ok()) {
      state.SkipWithError("decide failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BinaryDeciderHot);

void BM_ClaimDigest(benchmark::State& state) {
  Fixture& f = F();
  v1::Event e;
  e.ParseFromString(f.claims[0]);
  std::string canonical, hex;
  for (auto _ : state) {
    ledger::DeterministicBytesInto(e.claim(), &canonical);
    ledger::Sha256HexInto(canonical, &hex);
    benchmark::DoNotOptimize(hex.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClaimDigest);

void BM_CanonicalBytes(benchmark::State& state) {
  Fixture& f = F();
  v1::Event e;
  e.ParseFromString(f.claims[0]);
  std::string canonical;
  for (auto _ : state) {
    ledger::DeterministicBytesInto(e.claim(), &canonical);
    benchmark::DoNotOptimize(canonical.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(canonical.size());
}
BENCHMARK(BM_CanonicalBytes);

void BM_Sha256(benchmark::State& state) {
  const std::string bytes(state.range(0), 'x');
  std::string hex;
  for (auto _ : state) {
    ledger::Sha256HexInto(bytes, &hex);
    benchmark::DoNotOptimize(hex.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(256);

void BM_YearOf(benchmark::State& state) {
  const ledger::Calendar cst;
  absl::Time t = absl::FromUnixSeconds(1740000000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(cst.YearOf(t));
    t += absl::Seconds(1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_YearOf);

void BM_StandingAt(benchmark::State& state) {
  Fixture& f = F();
  const ledger::PersonRecord* p = f.store->FindPerson(PersonId(1));
  const absl::Time t = absl::FromUnixSeconds(1740000000);
  for (auto _ : state) benchmark::DoNotOptimize(ledger::StandingAt(p, InstitutionId(1), t));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StandingAt);

// One claim of N practitioners (each unknown: PRACTITIONER_NOT_REGISTERED) and N drug items without
// codes at a Hebei pharmacy (MISSING_TRACEABILITY_CODE each): 2N reasons, every one de-duplicated.
// Decision and audit encoding, as the gate does them; the fitted complexity must stay O(N).
void BM_DecideLargeClaim(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  auto ledger = std::move(*ledger::Ledger::Create(profiles.get(), "national"));
  v1::Event inst;
  inst.set_event_id("L1");
  SetProto(absl::FromUnixSeconds(1735689600), inst.mutable_time());
  auto* body = inst.mutable_institution_registered();
  body->set_institution_id("P1");
  body->set_kind(v1::InstitutionRegistered::PHARMACY);
  body->set_profile("hebei");
  ledger->Apply(inst);
  v1::Claim claim;
  claim.set_claim_id("C1");
  claim.set_kind(v1::Claim::SETTLEMENT);
  claim.set_institution_id("P1");
  SetProto(absl::FromUnixSeconds(1754444400), claim.mutable_service_time());  // 2025-08-06
  for (int k = 0; k < n; ++k) {
    auto* pr = claim.add_practitioners();
    pr->set_person_id(absl::StrCat("X", k));
    pr->set_role(v1::Claim::Practitioner::PRESCRIBER);
    auto* item = claim.add_items();
    item->set_item_code(absl::StrCat("I", k));
    item->set_category(v1::Claim::Item::DRUG);
  }
  gate::ClaimView view;
  gate::ViewClaim(claim, "C1", &view);
  gate::LedgerLookup lookup(ledger.get());
  gate::DecisionContext ctx;
  ctx.profiles = profiles.get();
  ctx.default_profile = &ledger->default_profile();
  ctx.gate_version = "bench";
  gate::DecisionResult result;
  std::string a, b;
  for (auto _ : state) {
    gate::DecideView(view, lookup, ctx, &result);
    gate::EncodeDecision(view, result, &a);
    gate::EncodeAudit(view, result, ctx, &b);
    benchmark::DoNotOptimize(b.data());
  }
  if (result.reasons.size() != static_cast<size_t>(2 * n)) state.SkipWithError("reasons");
  state.SetComplexityN(n);
  state.counters["audit_bytes"] = static_cast<double>(b.size());
}
BENCHMARK(BM_DecideLargeClaim)
    ->RangeMultiplier(10)
    ->Range(100, 100000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity(benchmark::oN);

}  // namespace
}  // namespace claimgate::bench

BENCHMARK_MAIN();
