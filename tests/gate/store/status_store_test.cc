// The RocksDB-backed status store: durable records and positions, as-of answers through the store,
// updates, atomic resume after a crash, and decisions identical to those made from the in-memory
// ledger.
#include "gate/store/status_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "gate/decision.h"
#include "gate/ledger_lookup.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/ledger.h"
#include "ledger/status_query.h"
#include "tests/testing/events.h"
#include "tests/testing/random_events.h"

namespace claimgate::gate {
namespace {

using claimgate::testing::T;

std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/status_store_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<StatusStore> OpenStore(const std::string& dir, uint64_t hot_bytes = 1 << 20) {
  StatusStoreOptions o;
  o.path = dir;
  o.hot_tier_bytes = hot_bytes;
  o.block_cache_bytes = 4 << 20;
  o.write_buffer_bytes = 1 << 20;
  auto store = StatusStore::Open(o);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Every record of a ledger as one batch.
StatusBatch Snapshot(const ledger::Ledger& l) {
  StatusBatch b;
  for (const std::string& id : l.PersonIds()) b.persons.push_back(*l.FindPerson(id));
  for (const std::string& id : l.InstitutionIds()) b.institutions.push_back(*l.FindInstitution(id));
  for (const std::string& id : l.InsuredIds()) b.insured.push_back(*l.FindInsured(id));
  b.positions["ledger"] = l.position();
  return b;
}

class StatusStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    profiles_ = std::move(*ledger::ProfileSet::Builtin());
    ledger_ = std::move(*ledger::Ledger::Create(profiles_.get(), "national"));
  }
  std::unique_ptr<ledger::ProfileSet> profiles_;
  std::unique_ptr<ledger::Ledger> ledger_;
  claimgate::testing::EventBuilder ev_;
};

TEST_F(StatusStoreTest, RecordsAndPositionsSurviveReopen) {
  const std::string dir = FreshDir("reopen");
  ledger_->Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  ledger_->Apply(ev_.Commit("D1", "H1", "2025-01-02T10:00"));
  ledger_->Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  {
    auto store = OpenStore(dir);
    EXPECT_TRUE(store->Positions()->empty());
    ASSERT_TRUE(store->Write(Snapshot(*ledger_)).ok());
  }
  auto store = OpenStore(dir);
  EXPECT_EQ((*store->Positions())["ledger"], 3);
  const ledger::PersonRecord* p = store->FindPerson("D1");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->bytes(), ledger::PersonRecord(*ledger_->FindPerson("D1")).bytes());
  EXPECT_EQ(p->bytes(), ledger_->FindPersonRecord("D1")->bytes());
  EXPECT_EQ(store->FindPerson("NOBODY"), nullptr);
  EXPECT_EQ(store->FindInstitution("NOWHERE"), nullptr);
  EXPECT_EQ(store->stats().rocksdb_reads, 3u);
  EXPECT_EQ(store->FindPerson("NOBODY"), nullptr);  // remembered absence: no second read
  EXPECT_EQ(store->stats().rocksdb_reads, 3u);
}

TEST_F(StatusStoreTest, AsOfAnswersAcrossIntervalEdges) {
  const std::string dir = FreshDir("asof");
  ledger_->Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  ledger_->Apply(ev_.Commit("D1", "H1", "2025-01-02T10:00"));
  ledger_->Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));  // [03-10 10:00, 07-10 10:00)
  auto store = OpenStore(dir);
  ASSERT_TRUE(store->Write(Snapshot(*ledger_)).ok());
  const ledger::PersonRecord* p = store->FindPerson("D1");
  ASSERT_NE(p, nullptr);
  auto state = [&](const char* t) { return ledger::StandingAt(p, "H1", T(t)).sanction.state; };
  EXPECT_EQ(state("2025-03-10T09:59:59"), v1::PersonStatus::NORMAL);
  EXPECT_EQ(state("2025-03-10T10:00"), v1::PersonStatus::SUSPENDED);
  EXPECT_EQ(state("2025-07-10T09:59:59"), v1::PersonStatus::SUSPENDED);
  EXPECT_EQ(state("2025-07-10T10:00"), v1::PersonStatus::NORMAL);
  EXPECT_EQ(ledger::StandingAt(p, "H1", T("2025-01-02T09:30")).registration,
            v1::NO_SERVICE_COMMITMENT);
}

TEST_F(StatusStoreTest, UpdatesReplaceTimelinesInBothTiers) {
  const std::string dir = FreshDir("update");
  ledger_->Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  ledger_->Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  auto store = OpenStore(dir);
  ASSERT_TRUE(store->Write(Snapshot(*ledger_)).ok());
  ASSERT_EQ(store->FindPerson("D1")->suspensions().size(), 1u);  // now in the hot tier
  ledger_->Apply(ev_.Revoke("A1", "2025-04-01T10:00"));
  ASSERT_TRUE(store->Write(Snapshot(*ledger_)).ok());
  EXPECT_EQ(store->FindPerson("D1")->suspensions().size(), 0u);
  store.reset();
  store = OpenStore(dir);
  EXPECT_EQ(store->FindPerson("D1")->suspensions().size(), 0u);
  EXPECT_EQ((*store->Positions())["ledger"], 3);
}

TEST_F(StatusStoreTest, ResolvePinsAClaimsRecordsWithOneMultiGet) {
  const std::string dir = FreshDir("resolve");
  for (const char* d : {"D1", "D2", "D3"})
    ledger_->Apply(ev_.Register(d, "H1", "2025-01-02T09:00"));
  {
    auto store = OpenStore(dir);
    ASSERT_TRUE(store->Write(Snapshot(*ledger_)).ok());
  }
  auto store = OpenStore(dir, /*hot_bytes=*/1 << 20);
  const v1::Claim claim =
      ev_.Claim("C1", "H1", "2025-03-01T10:00", {"D1", "D2", "D3", "D1", "X9"}).claim();
  ASSERT_TRUE(store->Resolve(claim).ok());
  const StatusStoreStats after_first = store->stats();
  EXPECT_EQ(after_first.rocksdb_reads, 5u);   // institution + 4 distinct persons
  EXPECT_EQ(after_first.persons.misses, 5u);  // every listed practitioner, none resident yet
  ASSERT_TRUE(store->Resolve(claim).ok());
  EXPECT_EQ(store->stats().rocksdb_reads, 5u);
  EXPECT_GE(store->stats().persons.hits, 4u);
  EXPECT_NE(store->FindPerson("D2"), nullptr);
  EXPECT_EQ(store->FindPerson("X9"), nullptr);
}

// SPEC §8.1: an insured person never suspended costs no store read (the filter in memory answers);
// a suspended one is read, and the filter is rebuilt from the records when the store reopens.
TEST_F(StatusStoreTest, InsuredFilterAnswersTheNeverSuspendedWithoutAStoreRead) {
  const std::string dir = FreshDir("insured");
  {
    auto store = OpenStore(dir);
    StatusBatch batch;
    v1::InsuredStatus& s = batch.insured.emplace_back();
    s.set_insured_id("P9");
    s.add_suspensions()->set_decision_id("S1");
    s.set_ledger_position(7);
    ASSERT_TRUE(store->Write(batch).ok());
    EXPECT_EQ(store->InsuredCount(), 1u);
  }
  auto store = OpenStore(dir);
  EXPECT_EQ(store->InsuredCount(), 1u);
  v1::Claim claim = ev_.Claim("C1", "H1", "2025-03-01T10:00", {"D1"}).claim();
  for (int k = 0; k < 100; ++k) {
    claim.set_insured_id(absl::StrCat("NEVER", k));
    ASSERT_TRUE(store->Resolve(claim).ok());
    EXPECT_EQ(store->FindInsured(claim.insured_id()), nullptr);
  }
  EXPECT_EQ(store->stats().insured_reads, 0u);
  EXPECT_GE(store->stats().insured_filtered, 100u);
  claim.set_insured_id("P9");
  ASSERT_TRUE(store->Resolve(claim).ok());
  const v1::InsuredStatus* p9 = store->FindInsured("P9");
  ASSERT_NE(p9, nullptr);
  EXPECT_EQ(p9->ledger_position(), 7);
  EXPECT_EQ(store->stats().insured_reads, 1u);  // Resolve read it; FindInsured reused it
}

// Decisions from the store (with a hot tier small enough to evict constantly) equal decisions from
// the in-memory ledger, for random ledgers and random claims.
TEST_F(StatusStoreTest, DecidesLikeTheLedger) {
  for (int seed = 0; seed < 30; ++seed) {
    claimgate::testing::Random r(seed);
    auto ledger = std::move(*ledger::Ledger::Create(profiles_.get(), "national"));
    for (const v1::Event& e : claimgate::testing::RandomStream(r, 150)) ledger->Apply(e);
    const std::string dir = FreshDir(absl::StrCat("decide", seed));
    auto store = OpenStore(dir, /*hot_bytes=*/seed % 2 == 0 ? 2048 : 1 << 20);
    ASSERT_TRUE(store->Write(Snapshot(*ledger)).ok());
    LedgerLookup from_ledger(ledger.get());
    DecisionContext ctx;
    ctx.profiles = profiles_.get();
    ctx.default_profile = &ledger->default_profile();
    ctx.ledger_position = ledger->position();
    for (const v1::Claim& claim : claimgate::testing::RandomClaims(r, 60)) {
      ASSERT_TRUE(store->Resolve(claim).ok());
      const v1::Decision a = Decide(claim, from_ledger, ctx);
      const v1::Decision b = Decide(claim, *store, ctx);
      ASSERT_EQ(ledger::ToJson(a), ledger::ToJson(b)) << "seed " << seed;
    }
  }
}

// A writer killed between (or inside) batches leaves records and position consistent: each batch k
// writes every record with ledger_position k and the position k; after a SIGKILL the store holds
// exactly the state of the last batch whose position it holds.
TEST(StatusStoreCrashTest, ResumePositionIsAtomicWithTheData) {
  const std::string dir = FreshDir("crash");
  std::mt19937 rng(11);
  int64_t last_seen = 0;
  for (int round = 0; round < 6; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      StatusStoreOptions o;
      o.path = dir;
      o.write_buffer_bytes = 256 << 10;
      auto store = StatusStore::Open(o);
      if (!store.ok()) _exit(3);
      auto positions = (*store)->Positions();
      int64_t k = positions.ok() && positions->count("src") ? (*positions)["src"] : 0;
      for (;;) {
        ++k;
        StatusBatch b;
        for (int j = 0; j < 50; ++j) {
          v1::PersonStatus p;
          p.set_person_id(absl::StrCat("P", j));
          p.set_ledger_position(k);
          b.persons.push_back(std::move(p));
        }
        b.positions["src"] = k;
        if (!(*store)->Write(b).ok()) _exit(4);
      }
    }
    usleep(20000 + rng() % 150000);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited by itself: " << WEXITSTATUS(status);

    auto store = OpenStore(dir);
    ASSERT_NE(store, nullptr);
    const int64_t pos = (*store->Positions())["src"];
    EXPECT_GE(pos, last_seen) << "round " << round;
    for (int j = 0; j < 50; ++j) {
      const ledger::PersonRecord* p = store->FindPerson(absl::StrCat("P", j));
      if (pos == 0) {
        EXPECT_EQ(p, nullptr);
        continue;
      }
      ASSERT_NE(p, nullptr) << "round " << round;
      ASSERT_EQ(p->ledger_position(), pos) << "round " << round << " P" << j;
    }
    last_seen = pos;
  }
  EXPECT_GT(last_seen, 0);
}

}  // namespace
}  // namespace claimgate::gate
