// Test helpers for the Kafka integration tests: read a topic to its end, and run the claimgate
// binary as a child process that is reaped however the test ends.
#ifndef CLAIMGATE_TESTS_TESTING_KAFKA_TESTING_H_
#define CLAIMGATE_TESTS_TESTING_KAFKA_TESTING_H_

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/topics.h"

namespace claimgate::testing {

// The SPEC §2 topics on a mock cluster: claims, status and output topics with 3 partitions,
// ledger-events, ledger-notices and claims-dlq with 1.
inline void CreateSpecTopics(kafka::MockCluster* cluster, const kafka::Topics& topics) {
  for (const auto& [name, n] :
       std::vector<std::pair<std::string, int>>{{topics.ledger_events, 1},
                                                {topics.claims, 3},
                                                {topics.person_status, 3},
                                                {topics.institution_status, 3},
                                                {topics.insured_status, 3},
                                                {topics.decisions, 3},
                                                {topics.audit, 3},
                                                {topics.notices, 1},
                                                {topics.dlq, 1},
                                                {topics.code_checks, 3},
                                                {topics.code_results, 3}}) {
    ASSERT_TRUE(cluster->CreateTopic(name, n).ok()) << name;
  }
}

// Produces one message (copied), waiting for queue space.
inline void Send(RdKafka::Producer* p, const std::string& topic, const std::string& key,
                 const std::string& value) {
  while (p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                    const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                    nullptr) == RdKafka::ERR__QUEUE_FULL) {
    p->poll(10);
  }
}

// tests/golden/spec_example.jsonl (SPEC §7's example) split into ledger events and claims.
inline void SpecExample(std::vector<std::string>* ledger, std::vector<std::string>* claims) {
  std::ifstream sample(std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/spec_example.jsonl");
  for (std::string l; std::getline(sample, l);)
    (l.find("\"claim\"") != std::string::npos ? claims : ledger)->push_back(l);
}

// A consumed message, copied out (librdkafka messages must not outlive their consumer).
struct Record {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Every message of `topic` from the beginning until each partition reports its end.
inline std::vector<Record> ReadTopic(const kafka::ClientConfig& config, const std::string& topic,
                                     int partitions) {
  auto c = kafka::MakeConsumer(config, "");
  EXPECT_TRUE(c.ok()) << c.status();
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) {
    parts.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  (*c)->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::vector<Record> out;
  std::set<int32_t> at_end;
  for (int idle = 0; idle < 300 && static_cast<int>(at_end.size()) < partitions;) {
    std::unique_ptr<RdKafka::Message> m((*c)->consume(100));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) at_end.insert(m->partition());
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      ++idle;
      continue;
    }
    Record r;
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (m->key() != nullptr) r.key = *m->key();
    if (m->headers() != nullptr) {
      for (const RdKafka::Headers::Header& h : m->headers()->get_all()) {
        r.headers[h.key()] = std::string(static_cast<const char*>(h.value()), h.value_size());
      }
    }
    out.push_back(std::move(r));
  }
  (*c)->close();
  return out;
}

// How many partitions `topic` has (0 when the cluster does not say).
inline int TopicPartitions(const kafka::ClientConfig& config, const std::string& topic) {
  auto handle = kafka::MakeProducer(config, "");
  if (!handle.ok()) return 0;
  absl::StatusOr<int> n = kafka::PartitionCount(handle->get(), topic);
  return n.ok() ? *n : 0;
}

// The claimgate binary as a child process; killed and reaped when the object goes away unless the
// test reaped it itself (pid set to -1).
struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's standard output
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out != nullptr) fclose(out);
  }
  // The next line of the child's output, without its newline ("" at the end).
  std::string ReadLine() {
    char line[1024] = {0};
    if (out == nullptr || fgets(line, sizeof(line), out) == nullptr) return "";
    std::string s(line);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  // SIGKILL: no chance to finish anything.
  void Kill() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
    if (out != nullptr) fclose(out);
    out = nullptr;
  }
  // SIGTERM, then the exit status (-1 when it did not exit normally).
  int Terminate() {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

// Runs `program` (a path) with `args` as a child whose standard output the test reads; standard
// error stays the test's, or goes to the file `stderr_path` when one is given.
inline void SpawnProgram(const std::string& program, const std::vector<std::string>& args,
                         Child* child, const std::string& stderr_path = "") {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  child->pid = fork();
  ASSERT_GE(child->pid, 0);
  if (child->pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    if (!stderr_path.empty()) {
      const int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, STDERR_FILENO);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    std::vector<char*> argv = {const_cast<char*>(program.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  child->out = fdopen(pipefd[0], "r");
}

inline void SpawnClaimgate(const std::vector<std::string>& args, Child* child,
                           const std::string& stderr_path = "") {
  SpawnProgram(std::string(CLAIMGATE_BINARY_DIR) + "/gate/claimgate", args, child, stderr_path);
}

// A loopback port free at the time of asking (for a child's --http-address).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Runs `claimgate args` up to `times` times, killing each incarnation with SIGKILL a random
// 0..max_delay_ms after `progress()` first changes (it reads the child's output so far). Stops
// early when an incarnation shows no progress within 20 s (nothing left to do). Returns the kills.
inline int KillRepeatedly(const std::vector<std::string>& args, int times, int max_delay_ms,
                          const std::function<int64_t()>& progress, std::mt19937_64& rng) {
  int kills = 0;
  for (int i = 0; i < times; ++i) {
    const int64_t before = progress();
    Child child;
    SpawnClaimgate(args, &child);
    for (absl::Time until = absl::Now() + absl::Seconds(20);
         progress() == before && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (progress() == before) break;
    absl::SleepFor(absl::Milliseconds(static_cast<int>(rng() % max_delay_ms)));
    child.Kill();
    ++kills;
  }
  return kills;
}

// `claimgate mock-broker --brokers 1` as a child; its bootstrap servers ("" when it failed).
inline std::string SpawnMockBroker(Child* broker) {
  SpawnClaimgate({"mock-broker", "--brokers", "1"}, broker);
  return broker->ReadLine();
}

}  // namespace claimgate::testing

#endif  // CLAIMGATE_TESTS_TESTING_KAFKA_TESTING_H_
