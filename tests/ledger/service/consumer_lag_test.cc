// The consumer lag: where a service stands on each partition it holds, against the partition's
// high watermark, computed at the scrape; gone once the partition is forgotten.
#include "ledger/service/consumer_lag.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/mock_cluster.h"
#include "prometheus/text_serializer.h"

namespace claimgate::ledger {
namespace {

TEST(LagPositionTest, UnknownUntilToldThenTheNextOffsetNotDone) {
  LagPosition p;
  EXPECT_EQ(p.next(), -1);
  p.Done(4);
  EXPECT_EQ(p.next(), 4);
  p.Done(3);  // never backwards
  EXPECT_EQ(p.next(), 4);
}

TEST(LagPositionTest, TheEndCountsOnceEveryMessageReturnedBeforeItIsDone) {
  // Messages 0..4, then a transaction marker at 5: the partition ends at 6.
  LagPosition p(0);
  for (int64_t o = 0; o < 5; ++o) p.Returned(o);
  p.End(6);
  EXPECT_EQ(p.next(), 0);  // returned, not done
  p.Done(3);
  EXPECT_EQ(p.next(), 3);
  p.Done(5);
  EXPECT_EQ(p.next(), 6);  // every returned message done: past the marker
  // More messages after the end: the old end no longer says anything.
  p.Returned(6);
  p.Returned(7);
  EXPECT_EQ(p.next(), 6);
  p.Done(8);
  EXPECT_EQ(p.next(), 8);
}

std::string Scrape(const ConsumerLag& lag) {
  return prometheus::TextSerializer().Serialize(lag.Collect());
}

TEST(ConsumerLagTest, ReportsEveryPartitionHeldUntilForgotten) {
  auto cluster = kafka::MockCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic("events", 2).ok());
  const kafka::ClientConfig config{(*cluster)->bootstrap_servers(), {}};
  auto producer = kafka::MakeProducer(config, "");
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 5; ++i) {
    std::string v = "v";
    ASSERT_EQ((*producer)->produce("events", 0, RdKafka::Producer::RK_MSG_COPY, v.data(), v.size(),
                                   nullptr, 0, 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ((*producer)->flush(10000), RdKafka::ERR_NO_ERROR);
  auto consumer = kafka::MakeConsumer(config, "g");
  ASSERT_TRUE(consumer.ok());

  ConsumerLag lag;
  EXPECT_EQ(Scrape(lag), "");  // nothing held: no series
  std::unique_ptr<ConsumerLag::Source> source = lag.Track("g", consumer->get());
  source->Set("events", 0, 2);
  source->Set("events", 1, -1);  // held, position unknown: from the low watermark
  std::string text = Scrape(lag);
  EXPECT_NE(text.find("claimgate_consumergroup_lag{consumergroup=\"g\",partition=\"0\","
                      "topic=\"events\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("claimgate_consumergroup_lag{consumergroup=\"g\",partition=\"1\","
                      "topic=\"events\"} 0\n"),
            std::string::npos)
      << text;
  source->Forget("events", 0);
  text = Scrape(lag);
  EXPECT_EQ(text.find("partition=\"0\""), std::string::npos) << text;
  EXPECT_NE(text.find("partition=\"1\""), std::string::npos) << text;
  source.reset();
  EXPECT_EQ(Scrape(lag), "");
}

}  // namespace
}  // namespace claimgate::ledger
