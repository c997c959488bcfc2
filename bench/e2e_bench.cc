// `claimgate-bench e2e`: the gate service against the mock cluster or Apache Kafka, and a
// passthrough (consume -> produce copy with the same transaction settings, no decision work) over
// the same messages; then the latency from claim produced to decision committed with claims
// arriving at half the gate's maximum rate. On a real cluster every topic, group and transactional
// id is named e2e-PID-*, so runs never meet.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/json/json_writer.h"
#include "gate/service/code_owner.h"
#include "gate/service/gate_service.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/transactional_producer.h"

namespace claimgate::bench {
namespace {

using gate::GateService;

// Stops the cluster a --local-kafka run started (if any), however the run ends.
struct LocalKafkaStop {
  std::string dir;
  ~LocalKafkaStop() {
    if (dir.empty()) return;
    const std::string command = absl::StrCat("'", CLAIMGATE_SOURCE_DIR,
                                             "/deploy/kafka/local-kafka.sh' stop '", dir, "'");
    if (std::system(command.c_str()) != 0) {
      std::cerr << "e2e: " << command << " failed; its data stays in " << dir << "\n";
      return;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

// The phases of one run, in the order Run() calls them; each prints its line. A phase's nullopt
// means exit 3.
class E2eBench {
 public:
  explicit E2eBench(const E2eOptions& eo);
  ~E2eBench() { StopOwner(); }
  int Run();

 private:
  // Starts the mock cluster (or reaches the real one) and produces the statuses and the claims; 0,
  // else the exit code.
  int Produce();
  // The topics on the mock cluster, or (admin API) on a real one.
  bool CreateTopics(const std::vector<std::pair<std::string, int>>& topics);
  std::string Name(const std::string& base) const { return prefix_ + base; }
  void Send(const std::string& topic, const std::string& key, const std::string& value);
  // The next claim event (the random sequence is shared with the latency phase's warm-up).
  std::string Claim(int64_t k);
  // A gate service on `claims_topic`, ready (assigned); exits 2 when it cannot start.
  std::unique_ptr<GateService> StartGate(const std::string& claims_topic, const std::string& group,
                                         bool latency);
  // The reason when the broker dropped the start of `topic` (a low watermark above 0: nothing is
  // ever deleted on purpose here), else nullopt.
  std::optional<std::string> Dropped(const std::string& topic);
  // With --codes: a code owner on a thread of its own (false when it cannot start).
  bool StartOwner();
  void StopOwner();
  // Throughput of the gate with all claims queued: claims per second.
  std::optional<double> MeasureGate();
  // The same consumer settings and transactions, no decision: claims per second.
  std::optional<double> MeasurePassthrough();
  // Claims produced at a steady `rate` while a gate runs: the sorted latencies in ms.
  std::optional<std::vector<double>> MeasurePaced(double rate);

  const E2eOptions& eo_;
  // First, so that it goes last: the clients below close while the cluster still runs.
  LocalKafkaStop local_kafka_;
  std::string prefix_;  // "" on the mock, "e2e-PID-" on a real cluster
  kafka::Topics topics_;
  std::unique_ptr<kafka::MockCluster> cluster_;
  kafka::ClientConfig config_;
  std::unique_ptr<RdKafka::Producer> producer_;
  synthetic::SyntheticOptions pop_;
  std::mt19937_64 rng_{11};
  int64_t per_institution_ = 1;
  std::unique_ptr<ledger::ProfileSet> profiles_;
  gate::SystemClock clock_;
  std::unique_ptr<GateService> gate_;
  std::unique_ptr<GateService> paced_gate_;
  std::unique_ptr<gate::CodeOwner> owner_;
  std::thread owner_thread_;
  std::atomic<bool> owner_stop_ = false;
};

E2eBench::E2eBench(const E2eOptions& eo) : eo_(eo) {
  if (!eo.bootstrap_servers.empty() || eo.local_kafka) {
    prefix_ = absl::StrCat("e2e-", getpid(), "-");
    for (std::string* t : {&topics_.claims, &topics_.person_status, &topics_.institution_status,
                           &topics_.insured_status,
                           &topics_.decisions, &topics_.audit, &topics_.dlq, &topics_.notices,
                           &topics_.ledger_events, &topics_.code_checks, &topics_.code_results}) {
      *t = prefix_ + *t;
    }
  }
  pop_.persons = eo.persons;
  pop_.institutions = std::max<int64_t>(1, eo.persons / 10);
  per_institution_ = std::max<int64_t>(1, eo.persons / pop_.institutions);
}

int E2eBench::Run() {
  if (const int code = Produce(); code != 0) return code;
  profiles_ = std::move(*ledger::ProfileSet::Builtin());
  if (const std::optional<std::string> lost = Dropped(topics_.claims)) {
    std::cerr << "e2e: " << *lost << "\n";
    return 3;
  }
  if (eo_.codes && !StartOwner()) return 2;
  const std::optional<double> gate_rate = MeasureGate();
  if (!gate_rate) return 3;
  const std::optional<double> pass_rate = MeasurePassthrough();
  if (!pass_rate) return 3;
  std::cout << absl::StrFormat("passthrough: %.0f claims/s\n", *pass_rate);

  // Latency at half the maximum rate.
  const double rate = eo_.paced_rate > 0 ? eo_.paced_rate : 0.5 * *gate_rate;
  const std::optional<std::vector<double>> lat = MeasurePaced(rate);
  if (!lat) return 3;
  auto pct = [&](double q) {
    return lat->empty() ? 0.0 : (*lat)[static_cast<size_t>(q * (lat->size() - 1))];
  };
  std::cout << absl::StrFormat("paced at %.0f claims/s: %d decided, p50 %.1f ms, p99 %.1f ms\n",
                               rate, lat->size(), pct(0.5), pct(0.99));
  std::cout << gate::JsonText({{"claims", eo_.claims},
                               {"codes", eo_.codes},
                               {"gate_claims_per_sec", gate::Fixed(*gate_rate, 0)},
                               {"passthrough_claims_per_sec", gate::Fixed(*pass_rate, 0)},
                               {"ratio", gate::Fixed(*gate_rate / *pass_rate, 3)},
                               {"paced_claims_per_sec", gate::Fixed(rate, 0)},
                               {"p50_ms", gate::Fixed(pct(0.5), 1)},
                               {"p99_ms", gate::Fixed(pct(0.99), 1)}})
            << "\n";
  return 0;
}

bool E2eBench::CreateTopics(const std::vector<std::pair<std::string, int>>& topics) {
  if (cluster_ != nullptr) {
    for (const auto& [name, n] : topics) {
      if (!cluster_->CreateTopic(name, n).ok()) return false;
    }
    return true;
  }
  std::vector<kafka::TopicSpec> specs;
  for (const auto& [name, n] : topics) specs.push_back({name, n, 1, {}});
  const absl::Status s = kafka::CreateTopics(config_, specs, 30000);
  if (!s.ok()) std::cerr << "e2e: " << s << "\n";
  return s.ok();
}

int E2eBench::Produce() {
  std::string bootstrap = eo_.bootstrap_servers;
  if (eo_.local_kafka) {
    local_kafka_.dir = absl::StrCat("/tmp/claimgate-e2e-kafka-", getpid());
    const std::string command = absl::StrCat("'", CLAIMGATE_SOURCE_DIR,
                                             "/deploy/kafka/local-kafka.sh' start '",
                                             local_kafka_.dir, "'");
    FILE* out = popen(command.c_str(), "r");
    char line[1024] = {0};
    if (out == nullptr || fgets(line, sizeof(line), out) == nullptr) {
      if (out != nullptr) pclose(out);
      std::cerr << "e2e: " << command << " failed\n";
      return 2;
    }
    pclose(out);
    bootstrap = line;
    while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
  }
  if (bootstrap.empty()) {
    auto cluster = kafka::MockCluster::Start(1);
    if (!cluster.ok()) return 2;
    cluster_ = std::move(*cluster);
    bootstrap = cluster_->bootstrap_servers();
  }
  // Low-latency client settings (fetch long-poll and producer linger at a few ms), as a
  // latency-sensitive deployment would set them in the kafka: section of its configuration.
  config_ = {bootstrap, {{"fetch.wait.max.ms", "5"}, {"linger.ms", "2"}}};
  if (!CreateTopics({{topics_.claims, 3},
                     {Name("claims-paced"), 3},
                     {topics_.person_status, 3},
                     {topics_.institution_status, 3},
                     {topics_.insured_status, 3},
                     {topics_.decisions, 3},
                     {topics_.audit, 3},
                     {topics_.dlq, 3},
                     {topics_.code_checks, 3},
                     {topics_.code_results, 3},
                     {Name("passthrough"), 3}})) {
    return 2;
  }
  producer_ = std::move(*kafka::MakeProducer(config_, ""));
  synthetic::GenerateStatuses(
      pop_,
      [&](v1::InstitutionStatus&& i) {
        Send(topics_.institution_status, i.institution_id(), i.SerializeAsString());
      },
      [&](v1::PersonStatus&& p) {
        Send(topics_.person_status, p.person_id(), p.SerializeAsString());
      });
  for (int64_t k = 0; k < eo_.claims; ++k) Send(topics_.claims, absl::StrCat("C", k), Claim(k));
  producer_->flush(60000);
  std::cout << absl::StrFormat("%s %s: %d persons' statuses and %d claims produced\n",
                               cluster_ != nullptr ? "mock cluster" : "Apache Kafka",
                               config_.bootstrap_servers, eo_.persons, eo_.claims);
  return 0;
}

void E2eBench::Send(const std::string& topic, const std::string& key, const std::string& value) {
  while (producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                            0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
    producer_->poll(5);
  }
}

std::string E2eBench::Claim(int64_t k) {
  const int64_t inst = rng_() % pop_.institutions;
  std::vector<int64_t> practitioners;
  for (int j = 1 + rng_() % 3; j > 0; --j) {
    practitioners.push_back(
        std::min(eo_.persons - 1,
                 inst + pop_.institutions * static_cast<int64_t>(rng_() % per_institution_)));
  }
  return synthetic::ClaimEventBytes(pop_, k, practitioners, rng_);
}

std::optional<std::string> E2eBench::Dropped(const std::string& topic) {
  for (int32_t p = 0; p < 3; ++p) {
    int64_t low = 0, high = 0;
    if (producer_->query_watermark_offsets(topic, p, &low, &high, 5000) !=
        RdKafka::ERR_NO_ERROR) {
      continue;
    }
    if (low > 0) {
      return absl::StrFormat(
          "the broker dropped the first %d of %d messages of %s/%d (librdkafka's mock keeps "
          "about 5 MB a partition: use --local-kafka or --bootstrap-servers for this many claims, "
          "or fewer --claims)",
          low, high, topic, p);
    }
  }
  return std::nullopt;
}

bool E2eBench::StartOwner() {
  gate::CodeOwnerOptions co;
  co.kafka = config_;
  co.topics = topics_;
  co.group_id = Name("codes");
  co.transactional_id = Name("codes-0");
  co.store.path = absl::StrCat("/tmp/claimgate-e2e-", getpid(), "-codes");
  co.store.block_cache_bytes = 64 << 20;
  std::filesystem::remove_all(co.store.path);
  auto o = gate::CodeOwner::Start(co);
  if (!o.ok()) {
    std::cerr << "e2e: code owner: " << o.status() << "\n";
    return false;
  }
  owner_ = std::move(*o);
  owner_thread_ = std::thread([this] {
    if (absl::Status s = owner_->Run(owner_stop_); !s.ok())
      std::cerr << "e2e: code owner: " << s << "\n";
  });
  return true;
}

void E2eBench::StopOwner() {
  owner_stop_ = true;
  if (owner_thread_.joinable()) owner_thread_.join();
  if (owner_ == nullptr) return;
  const gate::CodeOwnerStats& st = owner_->stats();
  std::cout << absl::StrFormat("code owner: %d requests, %d codes settled, %d transactions\n",
                               st.requests, st.settled, st.transactions);
  owner_.reset();
  std::filesystem::remove_all(absl::StrCat("/tmp/claimgate-e2e-", getpid(), "-codes"));
}

std::unique_ptr<GateService> E2eBench::StartGate(const std::string& claims_topic,
                                                 const std::string& group, bool latency) {
  gate::GateServiceOptions go;
  go.kafka = config_;
  go.topics = topics_;
  go.topics.claims = claims_topic;
  go.group_id = Name(group);
  go.transactional_id = Name(group + "-0");
  go.max_batch = eo_.max_batch;
  go.record_latency = latency;
  go.duplicate_codes = eo_.codes;
  go.store.path = absl::StrCat("/tmp/claimgate-e2e-", getpid(), "-", group);
  std::filesystem::remove_all(go.store.path);
  auto g = GateService::Start(go, profiles_.get(), &clock_);
  if (!g.ok()) {
    std::cerr << g.status() << "\n";
    std::exit(2);
  }
  while (!(*g)->ready()) (void)(*g)->RunOnce(100);
  return std::move(*g);
}

std::optional<double> E2eBench::MeasureGate() {
  gate_ = StartGate(topics_.claims, "gate", false);
  absl::Time t0 = absl::Time();
  absl::Time progress = absl::Now();  // the last batch that decided anything
  while (gate_->stats().decided + gate_->stats().dead_lettered < eo_.claims) {
    absl::StatusOr<int> n = gate_->RunOnce(200);
    if (!n.ok()) {
      std::cerr << n.status() << "\n";
      return std::nullopt;
    }
    if (t0 == absl::Time() && *n > 0)
      t0 = absl::Now();  // from the first batch: excludes the group join
    if (*n > 0) progress = absl::Now();
    if (absl::Now() - progress > absl::Seconds(60)) {
      std::optional<std::string> lost = Dropped(topics_.claims);
      std::cerr << "e2e: the gate decided nothing for 60 s at "
                << gate_->stats().decided + gate_->stats().dead_lettered << " of " << eo_.claims
                << " claims" << (lost ? ": " + *lost : std::string()) << "\n";
      return std::nullopt;
    }
  }
  const double gate_rate =
      (eo_.claims - std::min<int64_t>(eo_.claims, eo_.max_batch)) / Seconds(t0);
  std::cout << absl::StrFormat(
      "gate: %d claims, %.0f claims/s, %d transactions, %d batches waited for the code owner\n",
      gate_->stats().decided, gate_rate, gate_->stats().transactions,
      gate_->stats().owner_rounds);
  return gate_rate;
}

std::optional<double> E2eBench::MeasurePassthrough() {
  auto consumer = std::move(*kafka::MakeConsumer(config_, Name("passthrough")));
  consumer->subscribe({topics_.claims});
  auto txn = std::move(*kafka::TransactionalProducer::Create(config_, Name("passthrough-0")));
  int64_t copied = 0;
  absl::Time start = absl::Time();
  while (copied < eo_.claims) {
    std::vector<std::unique_ptr<RdKafka::Message>> batch;
    for (int wait = 200; static_cast<int>(batch.size()) < eo_.max_batch; wait = 0) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(wait));
      if (m->err() == RdKafka::ERR__TIMED_OUT) break;
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      batch.push_back(std::move(m));
    }
    if (batch.empty()) continue;
    if (start == absl::Time()) start = absl::Now();
    if (!txn->Begin().ok()) return std::nullopt;
    std::map<std::pair<std::string, int32_t>, int64_t> next;
    for (const auto& m : batch) {
      next[{m->topic_name(), m->partition()}] = m->offset() + 1;
      const std::string value(static_cast<const char*>(m->payload()), m->len());
      if (!txn->Produce(Name("passthrough"), m->key() ? *m->key() : std::string(), value).ok())
        return std::nullopt;
    }
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const auto& [tp, off] : next)
      offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, off));
    const absl::Status s = txn->Commit(offsets, consumer.get());
    RdKafka::TopicPartition::destroy(offsets);
    if (!s.ok()) return std::nullopt;
    copied += static_cast<int64_t>(batch.size());
  }
  const double pass_rate =
      (eo_.claims - std::min<int64_t>(eo_.claims, eo_.max_batch)) / Seconds(start);
  consumer->close();
  return pass_rate;
}

std::optional<std::vector<double>> E2eBench::MeasurePaced(double rate) {
  const int64_t paced = std::min<int64_t>(eo_.claims, static_cast<int64_t>(rate * 10));
  const std::string paced_topic = Name("claims-paced");
  paced_gate_ = StartGate(paced_topic, "gate-paced", true);
  // Warm up until the gate has joined its group and decided something: the pace starts after that.
  constexpr int64_t kWarmup = 200;
  for (int64_t k = 0; k < kWarmup; ++k) Send(paced_topic, absl::StrCat("W", k), Claim(k));
  producer_->flush(10000);
  while (paced_gate_->stats().decided < kWarmup) {
    if (!paced_gate_->RunOnce(50).ok()) return std::nullopt;
  }
  const size_t warm_latencies = paced_gate_->stats().latencies_ms.size();
  std::atomic<bool> done = false;
  std::thread pacer([&] {
    auto p = std::move(*kafka::MakeProducer(config_, ""));
    std::mt19937_64 local(5);
    const absl::Time begin = absl::Now();
    for (int64_t k = 0; k < paced; ++k) {
      const absl::Time due = begin + absl::Seconds(k / rate);
      if (due > absl::Now()) absl::SleepFor(due - absl::Now());
      const std::string value =
          synthetic::ClaimEventBytes(pop_, k, {static_cast<int64_t>(local() % eo_.persons)}, local);
      const std::string key = absl::StrCat("P", k);
      while (p->produce(paced_topic, RdKafka::Topic::PARTITION_UA,
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
  while (paced_gate_->stats().decided < kWarmup + paced && absl::Now() < deadline) {
    if (!paced_gate_->RunOnce(50).ok()) return std::nullopt;
  }
  pacer.join();
  std::vector<double> lat(paced_gate_->stats().latencies_ms.begin() + warm_latencies,
                          paced_gate_->stats().latencies_ms.end());
  std::sort(lat.begin(), lat.end());
  return lat;
}

}  // namespace

int RunE2eBench(const E2eOptions& options) { return E2eBench(options).Run(); }

}  // namespace claimgate::bench
