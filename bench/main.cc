// claimgate-bench: load generators and benchmarks. Each subcommand prints figures and, on its last
// line, one JSON object with the results.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gate/binary_decider.h"
#include "gate/check/check.h"
#include "gate/replay/replay_files.h"
#include "gate/service/gate_service.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/transactional_producer.h"
#include "rocksdb/db.h"

namespace {

int64_t PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

int64_t CurrentRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double Seconds(absl::Time since) { return absl::ToDoubleSeconds(absl::Now() - since); }

struct StoreBenchOptions {
  int64_t persons = 1000000;
  int64_t claims = 2000000;
  int64_t hot_working_set = 200000;
  std::string dir;
  bool keep = false;
  int hot_rounds = 1;  // measured passes over the hot claims (more for profiling)
};

// `claimgate-bench store`: load a population into the status store, reopen it, and measure
// decisions per second from the hot tier and under a Zipf load with the hot tier at 10% of the
// population, against raw RocksDB MultiGet of the same keys.
int RunStoreBench(const StoreBenchOptions& so) {
  using claimgate::gate::StatusStore;
  using claimgate::gate::StatusStoreOptions;
  namespace bench = claimgate::synthetic;
  bench::SyntheticOptions pop;
  pop.persons = so.persons;
  pop.institutions = std::max<int64_t>(1, so.persons / 10);
  const std::string dir =
      so.dir.empty() ? absl::StrCat("/tmp/claimgate-bench-store-", getpid()) : so.dir;
  std::filesystem::remove_all(dir);
  StatusStoreOptions store_options;  // defaults
  store_options.path = dir;

  // Load.
  absl::Time t0 = absl::Now();
  {
    auto store = StatusStore::Open(store_options);
    if (!store.ok()) {
      std::cerr << store.status() << "\n";
      return 2;
    }
    claimgate::gate::StatusBatch batch;
    int64_t persons = 0, institutions = 0;
    auto flush = [&]() {
      batch.positions["bench/persons"] = persons;
      batch.positions["bench/institutions"] = institutions;
      if (absl::Status s = (*store)->Write(batch); !s.ok()) {
        std::cerr << s << "\n";
        std::exit(2);
      }
      batch.persons.clear();
      batch.institutions.clear();
    };
    bench::GenerateStatuses(
        pop,
        [&](claimgate::v1::InstitutionStatus&& i) {
          batch.institutions.push_back(std::move(i));
          ++institutions;
          if (batch.institutions.size() >= 10000) flush();
        },
        [&](claimgate::v1::PersonStatus&& p) {
          batch.persons.push_back(std::move(p));
          if (++persons % 10000 == 0) flush();
          if (persons % 1000000 == 0) std::cerr << "loaded " << persons << " persons\n";
        });
    flush();
    if (absl::Status s = (*store)->Flush(); !s.ok()) return 2;
    std::cout << absl::StrFormat("load: %d persons, %d institutions, %.1f s, store %.0f MB\n",
                                 persons, institutions, Seconds(t0),
                                 (*store)->ApproximateBytes() / 1e6);
  }
  const double load_seconds = Seconds(t0);

  // Reopen.
  t0 = absl::Now();
  auto reopened = StatusStore::Open(store_options);
  if (!reopened.ok()) return 2;
  const double reopen_seconds = Seconds(t0);
  std::unique_ptr<StatusStore> store = std::move(*reopened);

  auto profiles = claimgate::ledger::ProfileSet::Builtin();
  claimgate::gate::DecisionContext ctx;
  ctx.profiles = profiles->get();
  ctx.default_profile = (*profiles)->Find("national");
  ctx.gate_version = "bench";
  claimgate::gate::BinaryDecider decider(ctx);
  std::string decision_bytes, audit_bytes;
  const absl::Time now = absl::Now();
  std::map<std::string, int64_t> outcomes;
  auto run = [&](const std::vector<std::string>& claims, size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      if (!decider.Decide(claims[k], *store, 1, now, &decision_bytes, &audit_bytes).ok())
        std::exit(3);
    }
  };
  std::mt19937_64 rng(7);
  const int64_t per_institution = std::max<int64_t>(1, so.persons / pop.institutions);

  // Hot: the practitioners of the first institutions, all resident.
  const int64_t hot_institutions =
      std::max<int64_t>(1, std::min(so.hot_working_set, so.persons) / per_institution);
  std::vector<std::string> hot_claims;
  hot_claims.reserve(so.claims);
  for (int64_t k = 0; k < so.claims; ++k) {
    const int64_t inst = rng() % hot_institutions;
    std::vector<int64_t> practitioners;
    for (int j = 1 + rng() % 3; j > 0; --j) {
      const int64_t p = inst + pop.institutions * static_cast<int64_t>(rng() % per_institution);
      practitioners.push_back(std::min(p, so.persons - 1));
    }
    hot_claims.push_back(bench::ClaimEventBytes(pop, k, practitioners, rng));
  }
  run(hot_claims, 0, hot_claims.size());  // warm: every working-set record resident
  const uint64_t hot_reads_before = store->stats().rocksdb_reads;
  t0 = absl::Now();
  for (int round = 0; round < so.hot_rounds; ++round) run(hot_claims, 0, hot_claims.size());
  const double hot_seconds = Seconds(t0);
  const double hot_rate = hot_claims.size() * so.hot_rounds / hot_seconds;
  const auto hot_stats = store->stats();
  const double avg_entry_bytes =
      hot_stats.persons.entries == 0
          ? 512.0
          : static_cast<double>(hot_stats.persons.bytes) / hot_stats.persons.entries;
  std::cout << absl::StrFormat(
      "hot: %d claims in %.2f s = %.0f decisions/s (RocksDB reads during the run: %d; %d records, "
      "%.0f B each in the hot tier)\n",
      hot_claims.size(), hot_seconds, hot_rate, hot_stats.rocksdb_reads - hot_reads_before,
      hot_stats.persons.entries, avg_entry_bytes);
  hot_claims.clear();
  hot_claims.shrink_to_fit();

  // Zipf over the whole population, hot tier sized to 10% of it.
  store.reset();
  store_options.hot_tier_bytes = static_cast<uint64_t>(0.1 * so.persons * avg_entry_bytes);
  store = std::move(*StatusStore::Open(store_options));
  const bench::ZipfSampler zipf(so.persons, pop.zipf_exponent);
  std::vector<std::string> zipf_claims;
  std::vector<std::vector<std::string>> zipf_keys;
  zipf_claims.reserve(so.claims);
  zipf_keys.reserve(so.claims);
  for (int64_t k = 0; k < so.claims; ++k) {
    const int64_t lead = zipf(rng) - 1;
    std::vector<int64_t> practitioners = {lead};
    std::vector<std::string> keys = {bench::PersonId(lead)};
    for (int j = rng() % 3; j > 0; --j) {
      const int64_t p =
          (lead + pop.institutions * (1 + static_cast<int64_t>(rng() % per_institution))) %
          so.persons;
      practitioners.push_back(p);
      keys.push_back(bench::PersonId(p));
    }
    zipf_claims.push_back(bench::ClaimEventBytes(pop, k, practitioners, rng));
    zipf_keys.push_back(std::move(keys));
  }
  run(zipf_claims, 0, zipf_claims.size() / 2);  // warm the hot tier and the block cache
  const auto before = store->stats();
  t0 = absl::Now();
  run(zipf_claims, 0, zipf_claims.size());
  const double zipf_seconds = Seconds(t0);
  const double zipf_rate = zipf_claims.size() / zipf_seconds;
  const auto after = store->stats();
  const uint64_t lookups =
      (after.persons.hits + after.persons.misses) - (before.persons.hits + before.persons.misses);
  const double hit_ratio =
      lookups == 0 ? 0 : static_cast<double>(after.persons.hits - before.persons.hits) / lookups;
  std::cout << absl::StrFormat(
      "zipf: %d claims in %.2f s = %.0f decisions/s; hot tier %.0f MB, %d records, hit ratio "
      "%.3f\n",
      zipf_claims.size(), zipf_seconds, zipf_rate, after.persons.bytes / 1e6, after.persons.entries,
      hit_ratio);

  // Raw RocksDB MultiGet of the same keys, one call per claim, same block cache.
  rocksdb::DB* db = store->db_for_test();
  rocksdb::ColumnFamilyHandle* cf = store->persons_cf_for_test();
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values(8);
  std::vector<rocksdb::Status> statuses(8);
  t0 = absl::Now();
  int64_t found = 0;
  for (const auto& keys : zipf_keys) {
    slices.assign(keys.begin(), keys.end());
    db->MultiGet(rocksdb::ReadOptions(), cf, slices.size(), slices.data(), values.data(),
                 statuses.data());
    for (size_t i = 0; i < slices.size(); ++i) {
      found += statuses[i].ok();
      values[i].Reset();
    }
  }
  const double multiget_seconds = Seconds(t0);
  const double multiget_rate = zipf_keys.size() / multiget_seconds;
  std::cout << absl::StrFormat("rocksdb multiget: %d calls (%d keys found) in %.2f s = %.0f/s\n",
                               zipf_keys.size(), found, multiget_seconds, multiget_rate);
  const int64_t rss = CurrentRssBytes();
  const uint64_t store_bytes = store->ApproximateBytes();
  store.reset();
  if (!so.keep) std::filesystem::remove_all(dir);
  std::cout << absl::StrFormat(
      "{\"persons\":%d,\"institutions\":%d,\"claims\":%d,\"load_seconds\":%.2f,"
      "\"reopen_seconds\":%.3f,\"rss_bytes\":%d,\"peak_rss_bytes\":%d,\"store_bytes\":%d,"
      "\"decisions_per_sec_hot\":%.0f,\"decisions_per_sec_zipf\":%.0f,\"hot_tier_hit_ratio_zipf\":%"
      ".4f,"
      "\"rocksdb_multiget_per_sec\":%.0f,\"ratio_to_rocksdb\":%.3f}\n",
      so.persons, pop.institutions, so.claims, load_seconds, reopen_seconds, rss, PeakRssBytes(),
      store_bytes, hot_rate, zipf_rate, hit_ratio, multiget_rate, zipf_rate / multiget_rate);
  return 0;
}

}  // namespace

struct E2eOptions {
  int64_t claims = 200000;
  int64_t persons = 100000;
  int max_batch = 2000;
  double paced_rate = 0;  // claims/s of the latency phase; 0: half the gate's measured maximum
};

// `claimgate-bench e2e`: the gate service against the mock cluster, and a passthrough (consume ->
// produce copy with the same transaction settings, no decision work) over the same messages; then
// the latency from claim produced to decision committed with claims arriving at half the gate's
// maximum rate.
int RunE2eBench(const E2eOptions& eo) {
  namespace bench = claimgate::synthetic;
  namespace kafka = claimgate::kafka;
  using claimgate::gate::GateService;
  auto cluster = kafka::MockCluster::Start(1);
  if (!cluster.ok()) return 2;
  const kafka::Topics topics;
  for (const auto& [name, n] :
       std::vector<std::pair<std::string, int>>{{topics.claims, 3},
                                                {"claims-paced", 3},
                                                {topics.person_status, 3},
                                                {topics.institution_status, 3},
                                                {topics.decisions, 3},
                                                {topics.audit, 3},
                                                {topics.dlq, 1},
                                                {"passthrough", 3}}) {
    if (!(*cluster)->CreateTopic(name, n).ok()) return 2;
  }
  // Low-latency client settings (fetch long-poll and producer linger at a few ms), as a
  // latency-sensitive deployment would set them in the kafka: section of its configuration.
  const kafka::ClientConfig config{(*cluster)->bootstrap_servers(),
                                   {{"fetch.wait.max.ms", "5"}, {"linger.ms", "2"}}};
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  auto send = [&](const std::string& topic, const std::string& key, const std::string& value) {
    while (producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                             0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(5);
    }
  };
  bench::SyntheticOptions pop;
  pop.persons = eo.persons;
  pop.institutions = std::max<int64_t>(1, eo.persons / 10);
  bench::GenerateStatuses(
      pop,
      [&](claimgate::v1::InstitutionStatus&& i) {
        send(topics.institution_status, i.institution_id(), i.SerializeAsString());
      },
      [&](claimgate::v1::PersonStatus&& p) {
        send(topics.person_status, p.person_id(), p.SerializeAsString());
      });
  std::mt19937_64 rng(11);
  const int64_t per_institution = std::max<int64_t>(1, eo.persons / pop.institutions);
  auto claim = [&](int64_t k) {
    const int64_t inst = rng() % pop.institutions;
    std::vector<int64_t> practitioners;
    for (int j = 1 + rng() % 3; j > 0; --j) {
      practitioners.push_back(std::min(
          eo.persons - 1, inst + pop.institutions * static_cast<int64_t>(rng() % per_institution)));
    }
    return bench::ClaimEventBytes(pop, k, practitioners, rng);
  };
  for (int64_t k = 0; k < eo.claims; ++k) send(topics.claims, absl::StrCat("C", k), claim(k));
  producer->flush(60000);
  std::cout << absl::StrFormat("mock cluster %s: %d persons' statuses and %d claims produced\n",
                               config.bootstrap_servers, eo.persons, eo.claims);

  auto profiles = std::move(*claimgate::ledger::ProfileSet::Builtin());
  claimgate::gate::SystemClock clock;
  auto make_gate = [&](const std::string& claims_topic, const std::string& group, bool latency) {
    claimgate::gate::GateServiceOptions go;
    go.kafka = config;
    go.topics.claims = claims_topic;
    go.group_id = group;
    go.transactional_id = group + "-0";
    go.max_batch = eo.max_batch;
    go.record_latency = latency;
    go.store.path = absl::StrCat("/tmp/claimgate-e2e-", getpid(), "-", group);
    std::filesystem::remove_all(go.store.path);
    auto g = GateService::Start(go, profiles.get(), &clock);
    if (!g.ok()) {
      std::cerr << g.status() << "\n";
      std::exit(2);
    }
    while (!(*g)->ready()) (void)(*g)->RunOnce(100);
    return std::move(*g);
  };

  // Throughput of the gate (all claims queued).
  auto gate = make_gate(topics.claims, "gate", false);
  absl::Time t0 = absl::Time();
  while (gate->stats().decided + gate->stats().dead_lettered < eo.claims) {
    absl::StatusOr<int> n = gate->RunOnce(200);
    if (!n.ok()) {
      std::cerr << n.status() << "\n";
      return 3;
    }
    if (t0 == absl::Time() && *n > 0)
      t0 = absl::Now();  // from the first batch: excludes the group join
  }
  const double gate_rate = (eo.claims - std::min<int64_t>(eo.claims, eo.max_batch)) / Seconds(t0);
  std::cout << absl::StrFormat("gate: %d claims, %.0f claims/s, %d transactions\n",
                               gate->stats().decided, gate_rate, gate->stats().transactions);

  // Passthrough: same consumer settings, same transactions, no decision.
  double pass_rate = 0;
  {
    auto consumer = std::move(*kafka::MakeConsumer(config, "passthrough"));
    consumer->subscribe({topics.claims});
    auto txn = std::move(*kafka::TransactionalProducer::Create(config, "passthrough-0"));
    int64_t copied = 0;
    absl::Time start = absl::Time();
    while (copied < eo.claims) {
      std::vector<std::unique_ptr<RdKafka::Message>> batch;
      for (int wait = 200; static_cast<int>(batch.size()) < eo.max_batch; wait = 0) {
        std::unique_ptr<RdKafka::Message> m(consumer->consume(wait));
        if (m->err() == RdKafka::ERR__TIMED_OUT) break;
        if (m->err() != RdKafka::ERR_NO_ERROR) continue;
        batch.push_back(std::move(m));
      }
      if (batch.empty()) continue;
      if (start == absl::Time()) start = absl::Now();
      if (!txn->Begin().ok()) return 3;
      std::map<std::pair<std::string, int32_t>, int64_t> next;
      for (const auto& m : batch) {
        next[{m->topic_name(), m->partition()}] = m->offset() + 1;
        const std::string value(static_cast<const char*>(m->payload()), m->len());
        if (!txn->Produce("passthrough", m->key() ? *m->key() : std::string(), value).ok())
          return 3;
      }
      std::vector<RdKafka::TopicPartition*> offsets;
      for (const auto& [tp, off] : next)
        offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, off));
      const absl::Status s = txn->Commit(offsets, consumer.get());
      RdKafka::TopicPartition::destroy(offsets);
      if (!s.ok()) return 3;
      copied += static_cast<int64_t>(batch.size());
    }
    pass_rate = (eo.claims - std::min<int64_t>(eo.claims, eo.max_batch)) / Seconds(start);
    consumer->close();
  }
  std::cout << absl::StrFormat("passthrough: %.0f claims/s\n", pass_rate);

  // Latency at half the maximum rate: claims produced at a steady pace while the gate runs.
  const double rate = eo.paced_rate > 0 ? eo.paced_rate : 0.5 * gate_rate;
  const int64_t paced = std::min<int64_t>(eo.claims, static_cast<int64_t>(rate * 10));
  auto paced_gate = make_gate("claims-paced", "gate-paced", true);
  // Warm up until the gate has joined its group and decided something: the pace starts after that.
  constexpr int64_t kWarmup = 200;
  for (int64_t k = 0; k < kWarmup; ++k) send("claims-paced", absl::StrCat("W", k), claim(k));
  producer->flush(10000);
  while (paced_gate->stats().decided < kWarmup) {
    if (!paced_gate->RunOnce(50).ok()) return 3;
  }
  const size_t warm_latencies = paced_gate->stats().latencies_ms.size();
  std::atomic<bool> done = false;
  std::thread pacer([&] {
    auto p = std::move(*kafka::MakeProducer(config, ""));
    std::mt19937_64 local(5);
    const absl::Time begin = absl::Now();
    for (int64_t k = 0; k < paced; ++k) {
      const absl::Time due = begin + absl::Seconds(k / rate);
      if (due > absl::Now()) absl::SleepFor(due - absl::Now());
      const std::string value =
          bench::ClaimEventBytes(pop, k, {static_cast<int64_t>(local() % eo.persons)}, local);
      const std::string key = absl::StrCat("P", k);
      while (p->produce("claims-paced", RdKafka::Topic::PARTITION_UA,
                        RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                        value.size(), key.data(), key.size(), 0,
                        nullptr) == RdKafka::ERR__QUEUE_FULL) {
        p->poll(1);
      }
      p->poll(0);
    }
    p->flush(30000);
    done = true;
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (paced_gate->stats().decided < kWarmup + paced && absl::Now() < deadline) {
    if (!paced_gate->RunOnce(50).ok()) return 3;
  }
  pacer.join();
  std::vector<double> lat(paced_gate->stats().latencies_ms.begin() + warm_latencies,
                          paced_gate->stats().latencies_ms.end());
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) {
    return lat.empty() ? 0.0 : lat[static_cast<size_t>(q * (lat.size() - 1))];
  };
  std::cout << absl::StrFormat("paced at %.0f claims/s: %d decided, p50 %.1f ms, p99 %.1f ms\n",
                               rate, lat.size(), pct(0.5), pct(0.99));
  std::cout << absl::StrFormat(
      "{\"claims\":%d,\"gate_claims_per_sec\":%.0f,\"passthrough_claims_per_sec\":%.0f,\"ratio\":%."
      "3f,"
      "\"paced_claims_per_sec\":%.0f,\"p50_ms\":%.1f,\"p99_ms\":%.1f}\n",
      eo.claims, gate_rate, pass_rate, gate_rate / pass_rate, rate, pct(0.5), pct(0.99));
  return 0;
}

struct ReplayBenchOptions {
  std::string events, decisions;
  int64_t lines = 10000000;  // when the files are missing: a stream this long
  int64_t persons = 20000;
  int threads = 2;
  std::string against = "recorded";
};

// `claimgate-bench replay`: `claimgate replay` of a decisions file against its events file, in
// process; writes the two files first when they are missing (the synthetic stream, then the file
// path's decisions).
int RunReplayBench(const ReplayBenchOptions& ro) {
  auto profiles = claimgate::ledger::ProfileSet::Builtin();
  if (!profiles.ok()) return 2;
  if (!std::filesystem::exists(ro.events) || !std::filesystem::exists(ro.decisions)) {
    const absl::Time t0 = absl::Now();
    {
      std::ofstream out(ro.events);
      claimgate::synthetic::SyntheticOptions options;
      options.persons = ro.persons;
      claimgate::synthetic::GenerateStream(options, ro.lines, [&](const claimgate::v1::Event& e) {
        out << claimgate::ledger::ToJson(e) << '\n';
      });
    }
    std::ifstream in(ro.events);
    std::ofstream out(ro.decisions);
    std::ostringstream refusals;
    claimgate::gate::FixedClock clock(absl::FromUnixSeconds(1767225600));
    claimgate::gate::CheckOptions check_options;
    check_options.source_file = ro.events;
    auto summary = claimgate::gate::RunCheck(in, out, refusals, **profiles, check_options, clock);
    if (!summary.ok()) {
      std::cerr << summary.status() << "\n";
      return 2;
    }
    std::cout << "wrote " << ro.events << " and " << ro.decisions << " (" << summary->claims
              << " decisions) in " << Seconds(t0) << " s\n";
  }
  claimgate::gate::ReplayOptions options;
  options.against = ro.against == "current" ? claimgate::gate::Against::kCurrent
                                            : claimgate::gate::Against::kRecorded;
  options.threads = ro.threads;
  options.progress = &std::cerr;
  std::ofstream differences("/dev/null");
  const absl::Time t0 = absl::Now();
  auto tally =
      claimgate::gate::ReplayFiles(ro.events, ro.decisions, options, **profiles, differences);
  const double seconds = Seconds(t0);
  if (!tally.ok()) {
    std::cerr << tally.status() << "\n";
    return 2;
  }
  std::cout << tally->SummaryJson(options.against, seconds) << "\n";
  std::cout << absl::StrFormat(
      "{\"replayed\":%d,\"differ\":%d,\"errors\":%d,\"threads\":%d,\"seconds\":%.1f,"
      "\"decisions_per_sec\":%.0f,\"events_bytes\":%d,\"decisions_bytes\":%d,"
      "\"peak_rss_bytes\":%d}\n",
      tally->replayed(), tally->differ(), tally->errors(), ro.threads, seconds,
      tally->replayed() / seconds, std::filesystem::file_size(ro.events),
      std::filesystem::file_size(ro.decisions), PeakRssBytes());
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"claimgate-bench: synthetic load and benchmarks"};
  app.require_subcommand(1);
  claimgate::synthetic::SyntheticOptions options;
  int64_t lines = 1000000;
  std::string out_path;

  CLI::App* gen = app.add_subcommand("gen", "write a synthetic JSONL event file (SPEC §7)");
  gen->add_option("--lines", lines, "stream events after the population")->capture_default_str();
  gen->add_option("--persons", options.persons)->capture_default_str();
  gen->add_option("--institutions", options.institutions)->capture_default_str();
  gen->add_option("--seed", options.seed)->capture_default_str();
  gen->add_option("--out", out_path, "output file")->required();

  CLI::App* check =
      app.add_subcommand("check", "time the file path (`claimgate check`) in process");
  check->add_option("--lines", lines, "stream events after the population")->capture_default_str();
  check->add_option("--persons", options.persons)->capture_default_str();
  check->add_option("--institutions", options.institutions)->capture_default_str();

  StoreBenchOptions store_options;
  CLI::App* store =
      app.add_subcommand("store", "load the status store and measure decisions per second");
  store->add_option("--persons", store_options.persons)->capture_default_str();
  store->add_option("--claims", store_options.claims, "claims per measured phase")
      ->capture_default_str();
  store->add_option("--hot-working-set", store_options.hot_working_set)->capture_default_str();
  store->add_option("--dir", store_options.dir,
                    "store directory (default: a fresh one under /tmp)");
  store->add_flag("--keep", store_options.keep, "keep the store directory afterwards");
  store->add_option("--hot-rounds", store_options.hot_rounds, "measured passes over the hot claims")
      ->capture_default_str();

  E2eOptions e2e_options;
  CLI::App* e2e =
      app.add_subcommand("e2e", "gate service vs passthrough on the mock cluster; latency");
  e2e->add_option("--claims", e2e_options.claims)->capture_default_str();
  e2e->add_option("--persons", e2e_options.persons)->capture_default_str();
  e2e->add_option("--max-batch", e2e_options.max_batch)->capture_default_str();
  e2e->add_option("--paced-rate", e2e_options.paced_rate,
                  "claims/s of the latency phase (default: half the measured maximum)");

  ReplayBenchOptions replay_options;
  CLI::App* replay =
      app.add_subcommand("replay", "time `claimgate replay` on files (written first when missing)");
  replay->add_option("--events", replay_options.events, "events file")->required();
  replay->add_option("--decisions", replay_options.decisions, "decisions file")->required();
  replay->add_option("--lines", replay_options.lines, "stream length when generating")
      ->capture_default_str();
  replay->add_option("--persons", replay_options.persons, "population when generating")
      ->capture_default_str();
  replay->add_option("--threads", replay_options.threads)->capture_default_str();
  replay->add_option("--against", replay_options.against, "recorded or current")
      ->check(CLI::IsMember({"recorded", "current"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (replay->parsed()) return RunReplayBench(replay_options);
  if (store->parsed()) return RunStoreBench(store_options);
  if (e2e->parsed()) return RunE2eBench(e2e_options);

  if (gen->parsed()) {
    std::ofstream out(out_path);
    if (!out) {
      std::cerr << "cannot write " << out_path << "\n";
      return 2;
    }
    int64_t written = 0;
    claimgate::synthetic::GenerateStream(options, lines, [&](const claimgate::v1::Event& e) {
      out << claimgate::ledger::ToJson(e) << '\n';
      ++written;
    });
    std::cout << absl::StrFormat("{\"lines\":%d,\"file\":\"%s\"}\n", written, out_path);
    return 0;
  }

  if (check->parsed()) {
    std::string input;
    {
      std::ostringstream buf;
      int64_t written = 0;
      claimgate::synthetic::GenerateStream(options, lines, [&](const claimgate::v1::Event& e) {
        buf << claimgate::ledger::ToJson(e) << '\n';
        ++written;
      });
      input = buf.str();
      std::cout << "generated " << written << " lines, " << input.size() << " bytes\n";
    }
    auto profiles = claimgate::ledger::ProfileSet::Builtin();
    if (!profiles.ok()) return 2;
    std::istringstream in(std::move(input));
    std::ostringstream decisions, refusals;
    claimgate::gate::SystemClock clock;
    claimgate::gate::CheckOptions check_options;
    const absl::Time t0 = absl::Now();
    auto summary =
        claimgate::gate::RunCheck(in, decisions, refusals, **profiles, check_options, clock);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
    if (!summary.ok()) {
      std::cerr << summary.status() << "\n";
      return 2;
    }
    std::cout << claimgate::gate::FormatSummary(*summary);
    std::cout << absl::StrFormat(
        "{\"lines\":%d,\"claims\":%d,\"ledger_events\":%d,\"seconds\":%.3f,\"lines_per_sec\":%.0f,"
        "\"rss_bytes\":%d}\n",
        summary->lines, summary->claims, summary->ledger_events, seconds, summary->lines / seconds,
        PeakRssBytes());
    return 0;
  }
  return 0;
}
