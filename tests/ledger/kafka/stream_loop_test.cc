// The transactional stream loop (ledger/kafka/stream_loop.h) that the ledger and gate services run
// on, with a fake processor: the order of its calls, the backoff after an abort on an injected
// time, stall detection, the replaced producer, the log lines, and the loop that ends at the first
// failure. Transactions run on a one-broker librdkafka mock cluster in the process.
#include "ledger/kafka/stream_loop.h"

#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "ledger/kafka/mock_cluster.h"

namespace claimgate::kafka {
namespace {

// Batches of `size` made-up messages; Process returns the queued results in turn (Ok when none
// is left). Records the calls the loop makes.
class FakeProcessor final : public StreamProcessor {
 public:
  size_t size = 3;
  bool ready = true;
  std::deque<absl::Status> results;

  absl::StatusOr<bool> BeforeBatch(int /*timeout_ms*/) override { return ready; }
  absl::StatusOr<size_t> Consume(int /*timeout_ms*/) override {
    calls_.push_back("consume");
    return size;
  }
  void Idle() override { calls_.push_back("idle"); }
  absl::Status Process(TransactionalProducer& /*producer*/, NextOffsets* /*next*/) override {
    calls_.push_back("process");
    if (results.empty()) return absl::OkStatus();
    absl::Status s = results.front();
    results.pop_front();
    return s;
  }
  RdKafka::KafkaConsumer* consumer() override { return nullptr; }  // no offsets to commit
  absl::Status Committed() override {
    calls_.push_back("committed");
    return absl::OkStatus();
  }
  void Aborted(const TransactionalProducer& /*producer*/) override { calls_.push_back("aborted"); }
  absl::Status Rewind() override {
    calls_.push_back("rewind");
    return absl::OkStatus();
  }
  void Stalled() override { calls_.push_back("stalled"); }
  void ProducerReplaced() override { calls_.push_back("replaced"); }

  // The calls since the last time, then forgets them.
  std::string TakeCalls() {
    std::string s = absl::StrJoin(calls_, " ");
    calls_.clear();
    return s;
  }

 private:
  std::vector<std::string> calls_;
};

class StreamLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    options_.kafka.bootstrap_servers = cluster_->bootstrap_servers();
    options_.transactional_id = "stream-loop-test";
    options_.now = [this] { return now_; };
    options_.log = &log_;
    options_.log_prefix = "test: ";
    options_.unit = "things";
  }
  std::unique_ptr<StreamLoop> Start() {
    auto loop = StreamLoop::Start(options_, 10000);
    EXPECT_TRUE(loop.ok()) << loop.status();
    return loop.ok() ? std::move(*loop) : nullptr;
  }
  // The log lines since the last time, then forgets them.
  std::string TakeLog() {
    std::string s = log_.str();
    log_.str("");
    return s;
  }

  std::unique_ptr<MockCluster> cluster_;
  StreamLoopOptions options_;
  absl::Time now_ = absl::FromUnixSeconds(1764000000);
  std::ostringstream log_;
};

TEST_F(StreamLoopTest, CommitsBatches) {
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  EXPECT_EQ(*loop->RunOnce(1, p), 3);
  EXPECT_EQ(p.TakeCalls(), "consume process committed");
  p.size = 0;
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "consume idle");
  p.ready = false;
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "");
  EXPECT_EQ(TakeLog(), "");
}

TEST_F(StreamLoopTest, RetriesAfterABackoffDetectsTheStallAndReplacesTheProducer) {
  options_.retry = true;
  options_.stall_aborts = 3;
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  for (int i = 0; i < 3; ++i) p.results.push_back(absl::AbortedError("refused"));

  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "consume process aborted rewind");
  EXPECT_EQ(TakeLog(),
            "test: warning: a batch of 3 things aborted; retrying from the last commit: "
            "ABORTED: refused\n");
  // Backing off: 50 ms on the injected time.
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  now_ += absl::Milliseconds(49);
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "");
  now_ += absl::Milliseconds(1);
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "consume process aborted rewind");
  EXPECT_FALSE(loop->stalled());
  // Then 100 ms; the third abort in a row is a stall, and a new producer takes over.
  now_ += absl::Milliseconds(99);
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "");
  now_ += absl::Milliseconds(1);
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_EQ(p.TakeCalls(), "consume process aborted stalled replaced rewind");
  EXPECT_TRUE(loop->stalled());
  EXPECT_EQ(TakeLog(),
            "test: error: no progress: 3 batches aborted in a row over 150ms; not ready until a "
            "batch commits. Last cause: ABORTED: refused\n"
            "test: warning: a new transactional producer took over after 3 aborted batches\n");
  // The next batch commits on the new producer.
  now_ += absl::Milliseconds(200);
  EXPECT_EQ(*loop->RunOnce(1, p), 3);
  EXPECT_EQ(p.TakeCalls(), "consume process committed");
  EXPECT_FALSE(loop->stalled());
  EXPECT_EQ(TakeLog(), "test: progress resumed after 3 aborted batches\n");
}

TEST_F(StreamLoopTest, StallAfterTime) {
  options_.retry = true;
  options_.stall_after = absl::Seconds(60);
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  p.results = {absl::AbortedError("one"), absl::AbortedError("two")};
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  now_ += absl::Seconds(61);
  EXPECT_EQ(*loop->RunOnce(1, p), 0);
  EXPECT_TRUE(loop->stalled());
  EXPECT_EQ(p.TakeCalls(), "consume process aborted rewind consume process aborted stalled rewind");
  EXPECT_EQ(TakeLog(),
            "test: warning: a batch of 3 things aborted; retrying from the last commit: "
            "ABORTED: one\n"
            "test: error: no progress: 2 batches aborted in a row over 1m1s; not ready until a "
            "batch commits. Last cause: ABORTED: two\n");
}

TEST_F(StreamLoopTest, FatalErrorsEndTheLoopEvenWhenRetrying) {
  options_.retry = true;
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  p.results.push_back(absl::FailedPreconditionError("fenced"));
  EXPECT_EQ(loop->RunOnce(1, p).status().ToString(), "FAILED_PRECONDITION: fenced");
  EXPECT_EQ(p.TakeCalls(), "consume process");
  EXPECT_EQ(TakeLog(), "");
}

TEST_F(StreamLoopTest, WithoutRetryTheFirstFailureEndsTheLoop) {
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  p.results.push_back(absl::ResourceExhaustedError("too large"));
  EXPECT_EQ(loop->RunOnce(1, p).status().ToString(), "RESOURCE_EXHAUSTED: too large");
  EXPECT_EQ(p.TakeCalls(), "consume process");  // as it is: nothing aborted, nothing rewound
  EXPECT_FALSE(loop->stalled());
}

TEST_F(StreamLoopTest, RunUntilStopped) {
  std::unique_ptr<StreamLoop> loop = Start();
  ASSERT_NE(loop, nullptr);
  FakeProcessor p;
  std::atomic<bool> stop = true;
  EXPECT_TRUE(loop->Run(stop, p).ok());
  EXPECT_EQ(p.TakeCalls(), "");
  stop = false;
  p.results.push_back(absl::InternalError("store"));
  EXPECT_EQ(loop->Run(stop, p).ToString(), "INTERNAL: store");
}

}  // namespace
}  // namespace claimgate::kafka
