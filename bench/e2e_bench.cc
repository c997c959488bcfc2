// `claimgate-bench e2e`: the gate service against the mock cluster or Apache Kafka, and a
// passthrough (consume -> produce copy with the same transaction settings, no decision work) over
// the same messages; then the latency from claim produced to decision committed with claims
// arriving at half the gate's maximum rate. On a real cluster every topic, group and transactional
// id is named e2e-PID-*, so runs never meet.
#include <time.h>
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
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/json/json_writer.h"
#include "gate/service/code_owner.h"
#include "gate/service/gate_service.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/kafka/logging.h"
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

// Gate services of one consumer group, each polled on a thread of its own (a GateService belongs
// to one thread): what the main thread reads of them goes through atomics, and their statistics
// are read once the threads are joined.
class GateGroup {
 public:
  GateGroup(std::vector<std::unique_ptr<GateService>> gates, int poll_ms)
      : gates_(std::move(gates)), shared_(gates_.size()) {
    for (size_t i = 0; i < gates_.size(); ++i) {
      threads_.emplace_back([this, i, poll_ms] {
        GateService& g = *gates_[i];
        while (!stop_) {
          if (absl::StatusOr<int> n = g.RunOnce(poll_ms); !n.ok()) {
            std::cerr << "e2e: gate " << i << ": " << n.status() << "\n";
            failed_ = true;
            return;
          }
          shared_[i].ready = g.ready() && g.assigned_partitions() > 0;
          shared_[i].done = g.stats().decided + g.stats().dead_lettered;
          shared_[i].latencies = static_cast<int64_t>(g.stats().latencies_ms.size());
          timespec cpu{};
          clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
          shared_[i].cpu_ns = int64_t{cpu.tv_sec} * 1000000000 + cpu.tv_nsec;
        }
      });
    }
  }
  ~GateGroup() { Stop(); }

  bool failed() const { return failed_; }
  bool ready() const {
    return std::all_of(shared_.begin(), shared_.end(),
                       [](const Shared& s) { return s.ready.load(); });
  }
  int64_t done() const {  // claims decided or dead-lettered, by all
    int64_t n = 0;
    for (const Shared& s : shared_) n += s.done;
    return n;
  }
  int64_t cpu_ns() const {  // the CPU time of the gates' threads so far, by all
    int64_t n = 0;
    for (const Shared& s : shared_) n += s.cpu_ns;
    return n;
  }
  std::vector<int64_t> latencies() const {  // how many each has recorded
    std::vector<int64_t> n;
    for (const Shared& s : shared_) n.push_back(s.latencies);
    return n;
  }
  // Joins the threads; then gates() may be read.
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  const std::vector<std::unique_ptr<GateService>>& gates() const { return gates_; }

 private:
  struct Shared {
    std::atomic<bool> ready = false;
    std::atomic<int64_t> done = 0;
    std::atomic<int64_t> latencies = 0;
    std::atomic<int64_t> cpu_ns = 0;
  };
  std::vector<std::unique_ptr<GateService>> gates_;
  std::vector<Shared> shared_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_ = false;
  std::atomic<bool> failed_ = false;
};

// Waits until `done` holds or `group` fails, or `limit` passes without `progress` changing.
template <typename Done, typename Progress>
bool WaitFor(const GateGroup& group, Done done, Progress progress, absl::Duration limit) {
  auto last = progress();
  absl::Time moved = absl::Now();
  while (!done()) {
    if (group.failed()) return false;
    absl::SleepFor(absl::Milliseconds(5));
    if (auto now = progress(); now != last) {
      last = now;
      moved = absl::Now();
    }
    if (absl::Now() - moved > limit) return false;
  }
  return true;
}

// The phases of one run, in the order Run() calls them; each prints its line. A phase's nullopt
// means exit 3.
class E2eBench {
 public:
  explicit E2eBench(const E2eOptions& eo);
  ~E2eBench() {
    StopOwner();
    for (const std::string& path : store_paths_) std::filesystem::remove_all(path);
  }
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
  // --gates gate services on `claims_topic` in one group, polled on their threads; exits 2 when
  // one cannot start.
  std::unique_ptr<GateGroup> StartGates(const std::string& claims_topic, const std::string& group,
                                        bool latency);
  // Waits until every gate of `group` is ready (feed caught up, a claims partition at least: the
  // group's assignment has settled); false after 120 s.
  bool AwaitReady(const GateGroup& group);
  // The reason when the broker dropped the start of `topic` (a low watermark above 0: nothing is
  // ever deleted on purpose here), else nullopt.
  std::optional<std::string> Dropped(const std::string& topic, int partitions);
  // Commits the transaction that holds the claims (read_committed gates see none before): the
  // measurement starts with all claims visible to gates whose assignment has settled.
  bool ReleaseClaims();
  // With --codes: a code owner on a thread of its own (false when it cannot start).
  bool StartOwner();
  void StopOwner();
  // Throughput of the gate with all claims queued: claims per second.
  std::optional<double> MeasureGate();
  // The same consumer settings and transactions, no decision, in consumer group `group`: claims
  // per second. `uncommitted`: reads the claims while their transaction is still open (the warm-up,
  // before ReleaseClaims).
  std::optional<double> MeasurePassthrough(const std::string& group, bool uncommitted = false);
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
  // The claims of MeasureGate, in one transaction left open until ReleaseClaims.
  std::unique_ptr<kafka::TransactionalProducer> claims_feed_;
  synthetic::SyntheticOptions pop_;
  std::mt19937_64 rng_{11};
  int64_t per_institution_ = 1;
  std::unique_ptr<ledger::ProfileSet> profiles_;
  gate::SystemClock clock_;
  std::vector<std::string> store_paths_;  // the gates' stores, removed at the end
  std::unique_ptr<gate::CodeOwner> owner_;
  std::thread owner_thread_;
  std::atomic<bool> owner_stop_ = false;
  double gate_cpu_us_ = 0;  // CPU of the gates' threads a claim while measured (not librdkafka's)
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
  if (const std::optional<std::string> lost = Dropped(topics_.claims, eo_.claims_partitions)) {
    std::cerr << "e2e: " << *lost << "\n";
    return 3;
  }
  if (eo_.codes && !StartOwner()) return 2;
  const bool warm_up = eo_.broker_warm_up && cluster_ == nullptr;
  if (warm_up) {
    const std::optional<double> cold = MeasurePassthrough("passthrough-warm-up", true);
    if (!cold) return 3;
    std::cout << absl::StrFormat("broker warm-up: passthrough %.0f claims/s (not counted)\n", *cold);
  }
  const std::optional<double> gate_rate = MeasureGate();
  if (!gate_rate) return 3;
  const std::optional<double> pass_rate = MeasurePassthrough("passthrough");
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
                               {"gates", eo_.gates},
                               {"claims_partitions", eo_.claims_partitions},
                               {"broker_warm_up", warm_up},
                               {"gate_claims_per_sec", gate::Fixed(*gate_rate, 0)},
                               {"gate_thread_cpu_us_per_claim", gate::Fixed(gate_cpu_us_, 2)},
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
  for (const std::string& kv : eo_.kafka_properties) {
    const std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first.empty() || p.second.empty()) {
      std::cerr << "--kafka: expected KEY=VALUE, got '" << kv << "'\n";
      return 2;
    }
    config_.properties[p.first] = p.second;
  }
  // librdkafka's debug contexts are logged at debug level: show them when asked for.
  if (config_.properties.contains("debug")) logging::Configure({.level = logging::Level::kDebug});
  if (!CreateTopics({{topics_.claims, eo_.claims_partitions},
                     {Name("claims-paced"), eo_.claims_partitions},
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
  // The claims in a transaction committed once the gates are all assigned: a gate that joins the
  // group a heartbeat after the first would otherwise find the first one done with them.
  kafka::ClientConfig feed = config_;
  feed.properties["transaction.timeout.ms"] = "600000";
  auto txn = kafka::TransactionalProducer::Create(feed, Name("claims-feed"));
  if (!txn.ok()) {
    std::cerr << "e2e: claims producer: " << txn.status() << "\n";
    return 2;
  }
  claims_feed_ = std::move(*txn);
  absl::Status s = claims_feed_->Begin();
  for (int64_t k = 0; k < eo_.claims && s.ok(); ++k) {
    s = claims_feed_->Produce(topics_.claims, absl::StrCat("C", k), Claim(k));
  }
  if (s.ok()) s = claims_feed_->Flush(120000);
  producer_->flush(60000);
  if (!s.ok()) {
    std::cerr << "e2e: producing the claims: " << s << "\n";
    return 2;
  }
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

std::optional<std::string> E2eBench::Dropped(const std::string& topic, int partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
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

std::unique_ptr<GateGroup> E2eBench::StartGates(const std::string& claims_topic,
                                                const std::string& group, bool latency) {
  std::vector<std::unique_ptr<GateService>> gates;
  for (int i = 0; i < eo_.gates; ++i) {
    gate::GateServiceOptions go;
    go.kafka = config_;
    go.topics = topics_;
    go.topics.claims = claims_topic;
    go.group_id = Name(group);
    go.transactional_id = Name(absl::StrCat(group, "-", i));
    go.max_batch = eo_.max_batch;
    go.batch_linger = absl::Milliseconds(eo_.batch_linger_ms);
    go.record_latency = latency;
    go.duplicate_codes = eo_.codes;
    go.store.path = absl::StrCat("/tmp/claimgate-e2e-", getpid(), "-", group, "-", i);
    std::filesystem::remove_all(go.store.path);
    store_paths_.push_back(go.store.path);
    auto g = GateService::Start(go, profiles_.get(), &clock_);
    if (!g.ok()) {
      std::cerr << g.status() << "\n";
      std::exit(2);
    }
    gates.push_back(std::move(*g));
  }
  return std::make_unique<GateGroup>(std::move(gates), latency ? 50 : 200);
}

bool E2eBench::AwaitReady(const GateGroup& group) {
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (!group.ready()) {
    if (group.failed() || absl::Now() > deadline) {
      std::cerr << "e2e: the gates were not all ready within 120 s\n";
      return false;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::optional<double> E2eBench::MeasureGate() {
  std::unique_ptr<GateGroup> group = StartGates(topics_.claims, "gate", false);
  if (!AwaitReady(*group) || !ReleaseClaims()) return std::nullopt;
  // From the moment the claims are visible to gates all assigned: excludes the group join.
  const absl::Time t0 = absl::Now();
  const int64_t before = group->done();
  const int64_t cpu_before = group->cpu_ns();
  if (!WaitFor(
          *group, [&] { return group->done() >= eo_.claims; }, [&] { return group->done(); },
          absl::Seconds(60))) {
    std::optional<std::string> lost = Dropped(topics_.claims, eo_.claims_partitions);
    std::cerr << "e2e: the gates decided nothing for 60 s at " << group->done() << " of "
              << eo_.claims << " claims" << (lost ? ": " + *lost : std::string()) << "\n";
    return std::nullopt;
  }
  const double seconds = Seconds(t0);
  const int64_t cpu_ns = group->cpu_ns() - cpu_before;
  group->Stop();
  const int64_t counted = eo_.claims - before;
  if (counted < static_cast<int64_t>(eo_.gates) * eo_.max_batch) {
    std::cerr << "e2e: only " << counted << " claims were left once all " << eo_.gates
              << " gates were ready; give more --claims\n";
    return std::nullopt;
  }
  const double gate_rate = counted / seconds;
  for (size_t i = 0; i < group->gates().size(); ++i) {
    const gate::GateServiceStats& st = group->gates()[i]->stats();
    std::cout << absl::StrFormat(
        "gate %d: %d claims, %d transactions, %d batches waited for the code owner\n", i,
        st.decided, st.transactions, st.owner_rounds);
  }
  std::cout << absl::StrFormat(
      "gates: %d claims after all were ready, %.0f claims/s, %.2f us of the gates' threads' CPU "
      "a claim\n",
      counted, gate_rate, cpu_ns / 1000.0 / counted);
  gate_cpu_us_ = cpu_ns / 1000.0 / counted;
  return gate_rate;
}

bool E2eBench::ReleaseClaims() {
  if (absl::Status s = claims_feed_->Commit({}, nullptr, 60000); !s.ok()) {
    std::cerr << "e2e: committing the claims: " << s << "\n";
    return false;
  }
  claims_feed_.reset();
  return true;
}

std::optional<double> E2eBench::MeasurePassthrough(const std::string& group, bool uncommitted) {
  kafka::ClientConfig read = config_;
  if (uncommitted) read.properties["isolation.level"] = "read_uncommitted";
  auto consumer = std::move(*kafka::MakeConsumer(read, Name(group)));
  consumer->subscribe({topics_.claims});
  auto txn = std::move(*kafka::TransactionalProducer::Create(config_, Name(group + "-0")));
  // The output topic's metadata before the clock starts, as a gate reads its outputs' partition
  // counts when it starts: else the first batch waits for it (about a second on the mock).
  if (absl::StatusOr<int> n = kafka::PartitionCount(txn->raw(), Name("passthrough")); !n.ok()) {
    std::cerr << "e2e: passthrough topic: " << n.status() << "\n";
    return std::nullopt;
  }
  int64_t copied = 0;
  absl::Time start = absl::Time();
  for (absl::Time progressed = absl::Now(); copied < eo_.claims;) {
    if (absl::Now() - progressed > absl::Seconds(60)) {
      std::cerr << "e2e: " << group << " copied nothing for 60 s at " << copied << " of "
                << eo_.claims << " claims\n";
      return std::nullopt;
    }
    std::vector<std::unique_ptr<RdKafka::Message>> batch;
    // Batched as the gate batches: its linger after the first claim, then what is there.
    const absl::Time linger_until = absl::Now() + absl::Milliseconds(eo_.batch_linger_ms);
    for (int wait = 200; static_cast<int>(batch.size()) < eo_.max_batch;
         wait = static_cast<int>(std::max<int64_t>(
             0, absl::ToInt64Milliseconds(linger_until - absl::Now())))) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(wait));
      if (m->err() == RdKafka::ERR__TIMED_OUT) break;
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      batch.push_back(std::move(m));
    }
    if (batch.empty()) continue;
    progressed = absl::Now();
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
  std::unique_ptr<GateGroup> group = StartGates(paced_topic, "gate-paced", true);
  if (!AwaitReady(*group)) return std::nullopt;
  // Warm up until the gates have decided something: the pace starts after that.
  constexpr int64_t kWarmup = 200;
  for (int64_t k = 0; k < kWarmup; ++k) Send(paced_topic, absl::StrCat("W", k), Claim(k));
  producer_->flush(10000);
  if (!WaitFor(
          *group, [&] { return group->done() >= kWarmup; }, [&] { return group->done(); },
          absl::Seconds(60))) {
    return std::nullopt;
  }
  const std::vector<int64_t> warm_latencies = group->latencies();
  // The claims before the pace starts: the pacer's thread then only produces, and the claims'
  // making (Protobuf, random draws) takes no CPU from the gate and the broker it measures.
  std::vector<std::string> values(paced);
  std::mt19937_64 local(5);
  for (int64_t k = 0; k < paced; ++k) {
    values[k] =
        synthetic::ClaimEventBytes(pop_, k, {static_cast<int64_t>(local() % eo_.persons)}, local);
  }
  std::atomic<bool> done = false;
  std::thread pacer([&] {
    auto p = std::move(*kafka::MakeProducer(config_, ""));
    const absl::Time begin = absl::Now();
    for (int64_t k = 0; k < paced; ++k) {
      // Asleep only when a millisecond ahead: a sleep a claim (35,000 a second) spent the shared
      // cores on timer wake-ups. Each claim's timestamp is still the moment it is produced.
      const absl::Time due = begin + absl::Seconds(k / rate);
      if (const absl::Duration ahead = due - absl::Now(); ahead >= absl::Milliseconds(1))
        absl::SleepFor(ahead);
      const std::string& value = values[k];
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
  while (group->done() < kWarmup + paced && absl::Now() < deadline && !group->failed()) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  pacer.join();
  group->Stop();
  if (group->failed()) return std::nullopt;
  std::vector<double> lat;
  for (size_t i = 0; i < group->gates().size(); ++i) {
    const auto& all = group->gates()[i]->stats().latencies_ms;
    lat.insert(lat.end(), all.begin() + std::min<int64_t>(warm_latencies[i], all.size()),
               all.end());
  }
  std::sort(lat.begin(), lat.end());
  return lat;
}

}  // namespace

int RunE2eBench(const E2eOptions& options) { return E2eBench(options).Run(); }

}  // namespace claimgate::bench
