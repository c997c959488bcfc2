// claimgate-bench: load generators and benchmarks, one file a subcommand (main.cc builds the CLI
// and dispatches). Each subcommand prints figures and, on its last line, one JSON object with the
// results. This header holds their options, their entry points (each returns the exit code) and
// what they share.
#ifndef CLAIMGATE_BENCH_BENCH_H_
#define CLAIMGATE_BENCH_BENCH_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gate/synthetic/synthetic.h"

namespace claimgate::bench {

// `gen` and `check`: the synthetic stream, `lines` events after the population.
struct StreamOptions {
  synthetic::SyntheticOptions synthetic;
  int64_t lines = 1000000;
  std::string out_path;  // gen: the file written
  // check: also time Protobuf's message and printer for every line (CheckOptions::fast_path
  // false: the file path before issue 17), on the same input.
  bool compare_protobuf = false;
};
int RunGen(const StreamOptions& options);
int RunCheckBench(const StreamOptions& options);

struct StoreBenchOptions {
  int64_t persons = 1000000;
  int64_t claims = 2000000;
  int64_t hot_working_set = 200000;
  std::string dir;
  bool keep = false;
  int hot_rounds = 1;  // measured passes over the hot claims (more for profiling)
  int64_t block_cache_mb = 0;  // 0: the store's default
};
int RunStoreBench(const StoreBenchOptions& options);

struct E2eOptions {
  int64_t claims = 50000;  // the mock keeps about 5 MB a partition: more needs a real cluster
  int64_t persons = 100000;
  int max_batch = 2000;
  int batch_linger_ms = 5;  // gate.batch_linger_ms, for the gates and the passthrough alike
  double paced_rate = 0;  // claims/s of the latency phase; 0: half the gate's measured maximum
  // A real cluster (Apache Kafka) instead of the mock: its bootstrap servers, or local_kafka to
  // start one with deploy/kafka/local-kafka.sh for the run (stopped after it).
  std::string bootstrap_servers;
  bool local_kafka = false;
  // Duplicate traceability codes on (docs/duplicate-codes.md): the gates ask a code owner, which
  // runs on a thread of its own, before deciding a batch with codes.
  bool codes = false;
  // Gate instances in one consumer group, each on a thread of its own, sharing the claims
  // partitions (issue 17, goal 4: 1 vs 2 instances); their throughput is counted from the moment
  // all are assigned.
  int gates = 1;
  int claims_partitions = 3;
  // librdkafka properties for every client of the run, KEY=VALUE, over the bench's own (as the
  // kafka: section of serve's configuration): to try a setting, or debug=eos to see the time go.
  std::vector<std::string> kafka_properties;
  // On a real cluster, one unmeasured passthrough over the claims before the gate is measured: a
  // fresh broker's JVM compiles its hot paths in the first minute (C2 took 18% of both cores in a
  // cold run), which would land on whichever phase ran first.
  bool broker_warm_up = true;
};
int RunE2eBench(const E2eOptions& options);

struct ReplayBenchOptions {
  std::string events, decisions;
  int64_t lines = 10000000;  // when the files are missing: a stream this long
  int64_t persons = 20000;
  int threads = 2;
  std::string against = "recorded";
};
int RunReplayBench(const ReplayBenchOptions& options);

// `codes` (SPEC §8.3): the settled-code store at N codes.
struct CodesBenchOptions {
  int64_t codes = 200000000;
  int years = 3;                // settling years the codes spread over
  int64_t checks = 3000000;     // codes checked in the measured phase
  int codes_per_claim = 3;      // codes looked up in one batch
  int64_t cache_mib = 1024;     // block cache
  std::string dir;
  bool keep = false;
  bool reuse = false;  // a kept --dir of the same --codes and --years: skip the load
};
int RunCodesBench(const CodesBenchOptions& options);

// `insured` (SPEC §8.1): the in-memory filter of suspended insured persons.
struct InsuredBenchOptions {
  int64_t insured = 1300000000;  // ids INS0 .. INS<insured-1>
  int64_t suspended = 100000;
  int64_t persons = 100000;
  int64_t claims = 500000;
  int rounds = 3;
  std::string dir;
};
int RunInsuredBench(const InsuredBenchOptions& options);

// Shared by the subcommands.
int64_t PeakRssBytes();
int64_t CurrentRssBytes();
double Seconds(absl::Time since);  // wall time since `since`
// Writes the synthetic stream to `out` as JSON lines (SPEC §7); returns the number of lines.
int64_t WriteStream(const synthetic::SyntheticOptions& options, int64_t stream_events,
                    std::ostream& out);

}  // namespace claimgate::bench

#endif  // CLAIMGATE_BENCH_BENCH_H_
