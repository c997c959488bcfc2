// claimgate-bench: load generators and benchmarks. This file builds the command line and
// dispatches; each subcommand lives in a file of its own (bench.h lists them).
#include "CLI/CLI.hpp"
#include "bench/bench.h"

namespace claimgate::bench {
namespace {

CLI::App* AddGen(CLI::App& app, StreamOptions& o) {
  CLI::App* gen = app.add_subcommand("gen", "write a synthetic JSONL event file (SPEC §7)");
  gen->add_option("--lines", o.lines, "stream events after the population")->capture_default_str();
  gen->add_option("--persons", o.synthetic.persons)->capture_default_str();
  gen->add_option("--institutions", o.synthetic.institutions)->capture_default_str();
  gen->add_option("--seed", o.synthetic.seed)->capture_default_str();
  gen->add_option("--out", o.out_path, "output file")->required();
  return gen;
}

CLI::App* AddCheck(CLI::App& app, StreamOptions& o) {
  CLI::App* check =
      app.add_subcommand("check", "time the file path (`claimgate check`) in process");
  check->add_option("--lines", o.lines, "stream events after the population")
      ->capture_default_str();
  check->add_option("--persons", o.synthetic.persons)->capture_default_str();
  check->add_option("--institutions", o.synthetic.institutions)->capture_default_str();
  check->add_flag("--compare-protobuf", o.compare_protobuf,
                  "also time the path through Protobuf's message and printer (before issue 17) "
                  "and check that it writes the same bytes");
  return check;
}

CLI::App* AddStore(CLI::App& app, StoreBenchOptions& o) {
  CLI::App* store =
      app.add_subcommand("store", "load the status store and measure decisions per second");
  store->add_option("--persons", o.persons)->capture_default_str();
  store->add_option("--claims", o.claims, "claims per measured phase")->capture_default_str();
  store->add_option("--hot-working-set", o.hot_working_set)->capture_default_str();
  store->add_option("--dir", o.dir, "store directory (default: a fresh one under /tmp)");
  store->add_flag("--keep", o.keep, "keep the store directory afterwards");
  store->add_option("--hot-rounds", o.hot_rounds, "measured passes over the hot claims")
      ->capture_default_str();
  store->add_option("--block-cache-mb", o.block_cache_mb,
                    "RocksDB block cache (default: the store's, StatusStoreOptions)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  return store;
}

CLI::App* AddE2e(CLI::App& app, E2eOptions& o) {
  CLI::App* e2e =
      app.add_subcommand("e2e", "gate service vs passthrough on the mock or Apache Kafka; latency");
  e2e->add_option("--claims", o.claims)->capture_default_str();
  e2e->add_option("--persons", o.persons)->capture_default_str();
  e2e->add_option("--max-batch", o.max_batch)->capture_default_str();
  e2e->add_option("--batch-linger-ms", o.batch_linger_ms, "gate.batch_linger_ms (0: off)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  e2e->add_option("--paced-rate", o.paced_rate,
                  "claims/s of the latency phase (default: half the measured maximum)");
  e2e->add_option("--bootstrap-servers", o.bootstrap_servers,
                  "a real cluster (Apache Kafka) instead of the mock; topics named e2e-PID-*");
  e2e->add_flag("--codes", o.codes,
                "duplicate traceability codes on: a code owner answers the gates (SPEC §8.3)");
  e2e->add_option("--gates", o.gates,
                  "gate instances sharing the claims partitions, a thread each (1 vs 2: scale-out)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  e2e->add_option("--claims-partitions", o.claims_partitions,
                  "partitions of the claims topics (at least --gates)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  e2e->add_flag("--local-kafka", o.local_kafka,
                "start Apache Kafka on loopback for the run (deploy/kafka/local-kafka.sh)");
  e2e->add_option("--kafka", o.kafka_properties,
                  "KEY=VALUE: a librdkafka property for every client (repeatable)");
  e2e->add_flag("--broker-warm-up,!--no-broker-warm-up", o.broker_warm_up,
                "on a real cluster, an unmeasured passthrough over the claims first (default: on)");
  return e2e;
}

CLI::App* AddReplay(CLI::App& app, ReplayBenchOptions& o) {
  CLI::App* replay =
      app.add_subcommand("replay", "time `claimgate replay` on files (written first when missing)");
  replay->add_option("--events", o.events, "events file")->required();
  replay->add_option("--decisions", o.decisions, "decisions file")->required();
  replay->add_option("--lines", o.lines, "stream length when generating")->capture_default_str();
  replay->add_option("--persons", o.persons, "population when generating")
      ->capture_default_str();
  replay->add_option("--threads", o.threads)->capture_default_str();
  replay->add_option("--against", o.against, "recorded or current")
      ->check(CLI::IsMember({"recorded", "current"}))
      ->capture_default_str();
  return replay;
}

CLI::App* AddCodes(CLI::App& app, CodesBenchOptions& o) {
  CLI::App* codes = app.add_subcommand(
      "codes", "settled traceability codes: load N, then checks per second (99% new, 1% repeats)");
  codes->add_option("--codes", o.codes)->capture_default_str();
  codes->add_option("--years", o.years, "settling years the codes spread over")
      ->capture_default_str();
  codes->add_option("--checks", o.checks)->capture_default_str();
  codes->add_option("--codes-per-claim", o.codes_per_claim)->capture_default_str();
  codes->add_option("--cache-mib", o.cache_mib, "block cache")->capture_default_str();
  codes->add_option("--dir", o.dir, "store directory (default: a fresh one under /tmp)");
  codes->add_flag("--keep", o.keep, "keep the store directory afterwards");
  codes->add_flag("--reuse", o.reuse, "reuse a kept --dir loaded with the same --codes, --years");
  return codes;
}

CLI::App* AddInsured(CLI::App& app, InsuredBenchOptions& o) {
  CLI::App* insured = app.add_subcommand(
      "insured", "decisions per second with the insured-person check on vs off");
  insured->add_option("--insured", o.insured)->capture_default_str();
  insured->add_option("--suspended", o.suspended)->capture_default_str();
  insured->add_option("--persons", o.persons)->capture_default_str();
  insured->add_option("--claims", o.claims)->capture_default_str();
  insured->add_option("--rounds", o.rounds)->capture_default_str();
  insured->add_option("--dir", o.dir, "store directory (default: a fresh one under /tmp)");
  return insured;
}

}  // namespace
}  // namespace claimgate::bench

int main(int argc, char** argv) {
  namespace bench = claimgate::bench;
  CLI::App app{"claimgate-bench: synthetic load and benchmarks"};
  app.require_subcommand(1);
  bench::StreamOptions stream_options;  // gen and check
  bench::StoreBenchOptions store_options;
  bench::E2eOptions e2e_options;
  bench::ReplayBenchOptions replay_options;
  CLI::App* gen = bench::AddGen(app, stream_options);
  CLI::App* check = bench::AddCheck(app, stream_options);
  CLI::App* store = bench::AddStore(app, store_options);
  CLI::App* e2e = bench::AddE2e(app, e2e_options);
  CLI::App* replay = bench::AddReplay(app, replay_options);
  bench::CodesBenchOptions codes_options;
  bench::InsuredBenchOptions insured_options;
  CLI::App* codes = bench::AddCodes(app, codes_options);
  CLI::App* insured = bench::AddInsured(app, insured_options);
  CLI11_PARSE(app, argc, argv);

  if (codes->parsed()) return bench::RunCodesBench(codes_options);
  if (insured->parsed()) return bench::RunInsuredBench(insured_options);
  if (replay->parsed()) return bench::RunReplayBench(replay_options);
  if (store->parsed()) return bench::RunStoreBench(store_options);
  if (e2e->parsed()) return bench::RunE2eBench(e2e_options);
  if (gen->parsed()) return bench::RunGen(stream_options);
  if (check->parsed()) return bench::RunCheckBench(stream_options);
  return 0;
}
