// `claimgate-bench store`: load a population into the status store, reopen it, and measure
// decisions per second from the hot tier and under a Zipf load with the hot tier at 10% of the
// population, against raw RocksDB MultiGet of the same keys.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/binary_decider.h"
#include "gate/json/json_writer.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "rocksdb/db.h"

namespace claimgate::bench {
namespace {

using gate::StatusStore;

// The phases of one run, in the order Run() calls them; each prints its line.
class StoreBench {
 public:
  explicit StoreBench(const StoreBenchOptions& so);
  int Run();

 private:
  // Writes the population's statuses, 10,000 records a batch; 0, else the exit code.
  int Load(absl::Time t0);
  // Decides claims [begin, end) against the open store; exits 3 when one fails.
  void Decide(const std::vector<std::string>& claims, size_t begin, size_t end);
  // Claims on the practitioners of the first institutions, all resident: decisions per second.
  double MeasureHot();
  // Claims over the whole population (Zipf) with the hot tier sized to 10% of it: decisions per
  // second and the hit ratio; the persons' keys of each claim go to `keys`.
  std::pair<double, double> MeasureZipf(std::vector<std::vector<std::string>>& keys);
  // Raw RocksDB MultiGet of the same keys, one call per claim, same block cache: calls per second.
  double MeasureMultiGet(const std::vector<std::vector<std::string>>& keys);

  const StoreBenchOptions& so_;
  synthetic::SyntheticOptions pop_;
  int64_t per_institution_ = 1;
  std::string dir_;
  gate::StatusStoreOptions store_options_;  // defaults
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<ledger::ProfileSet> profiles_;
  std::unique_ptr<gate::BinaryDecider> decider_;
  std::string decision_bytes_, audit_bytes_;
  absl::Time now_;
  std::mt19937_64 rng_{7};
  double avg_entry_bytes_ = 512.0;  // of a hot tier record, measured by MeasureHot()
};

StoreBench::StoreBench(const StoreBenchOptions& so) : so_(so) {
  pop_.persons = so.persons;
  pop_.institutions = std::max<int64_t>(1, so.persons / 10);
  per_institution_ = std::max<int64_t>(1, so.persons / pop_.institutions);
  dir_ = so.dir.empty() ? absl::StrCat("/tmp/claimgate-bench-store-", getpid()) : so.dir;
  store_options_.path = dir_;
}

int StoreBench::Run() {
  std::filesystem::remove_all(dir_);
  absl::Time t0 = absl::Now();
  if (const int code = Load(t0); code != 0) return code;
  const double load_seconds = Seconds(t0);

  t0 = absl::Now();
  auto reopened = StatusStore::Open(store_options_);
  if (!reopened.ok()) return 2;
  const double reopen_seconds = Seconds(t0);
  store_ = std::move(*reopened);

  profiles_ = std::move(*ledger::ProfileSet::Builtin());
  gate::DecisionContext ctx;
  ctx.profiles = profiles_.get();
  ctx.default_profile = profiles_->Find("national");
  ctx.gate_version = "bench";
  decider_ = std::make_unique<gate::BinaryDecider>(ctx);
  now_ = absl::Now();

  const double hot_rate = MeasureHot();
  std::vector<std::vector<std::string>> zipf_keys;
  const auto [zipf_rate, hit_ratio] = MeasureZipf(zipf_keys);
  const double multiget_rate = MeasureMultiGet(zipf_keys);
  const int64_t rss = CurrentRssBytes();
  const uint64_t store_bytes = store_->ApproximateBytes();
  store_.reset();
  if (!so_.keep) std::filesystem::remove_all(dir_);
  std::cout << gate::JsonText({{"persons", so_.persons},
                               {"institutions", pop_.institutions},
                               {"claims", so_.claims},
                               {"load_seconds", gate::Fixed(load_seconds, 2)},
                               {"reopen_seconds", gate::Fixed(reopen_seconds, 3)},
                               {"rss_bytes", rss},
                               {"peak_rss_bytes", PeakRssBytes()},
                               {"store_bytes", store_bytes},
                               {"decisions_per_sec_hot", gate::Fixed(hot_rate, 0)},
                               {"decisions_per_sec_zipf", gate::Fixed(zipf_rate, 0)},
                               {"hot_tier_hit_ratio_zipf", gate::Fixed(hit_ratio, 4)},
                               {"rocksdb_multiget_per_sec", gate::Fixed(multiget_rate, 0)},
                               {"ratio_to_rocksdb", gate::Fixed(zipf_rate / multiget_rate, 3)}})
            << "\n";
  return 0;
}

int StoreBench::Load(absl::Time t0) {
  auto store = StatusStore::Open(store_options_);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 2;
  }
  gate::StatusBatch batch;
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
  synthetic::GenerateStatuses(
      pop_,
      [&](v1::InstitutionStatus&& i) {
        batch.institutions.push_back(std::move(i));
        ++institutions;
        if (batch.institutions.size() >= 10000) flush();
      },
      [&](v1::PersonStatus&& p) {
        batch.persons.push_back(std::move(p));
        if (++persons % 10000 == 0) flush();
        if (persons % 1000000 == 0) std::cerr << "loaded " << persons << " persons\n";
      });
  flush();
  if (absl::Status s = (*store)->Flush(); !s.ok()) return 2;
  std::cout << absl::StrFormat("load: %d persons, %d institutions, %.1f s, store %.0f MB\n",
                               persons, institutions, Seconds(t0),
                               (*store)->ApproximateBytes() / 1e6);
  return 0;
}

void StoreBench::Decide(const std::vector<std::string>& claims, size_t begin, size_t end) {
  for (size_t k = begin; k < end; ++k) {
    if (!decider_->Decide(claims[k], *store_, 1, now_, &decision_bytes_, &audit_bytes_).ok())
      std::exit(3);
  }
}

double StoreBench::MeasureHot() {
  const int64_t hot_institutions =
      std::max<int64_t>(1, std::min(so_.hot_working_set, so_.persons) / per_institution_);
  std::vector<std::string> hot_claims;
  hot_claims.reserve(so_.claims);
  for (int64_t k = 0; k < so_.claims; ++k) {
    const int64_t inst = rng_() % hot_institutions;
    std::vector<int64_t> practitioners;
    for (int j = 1 + rng_() % 3; j > 0; --j) {
      const int64_t p = inst + pop_.institutions * static_cast<int64_t>(rng_() % per_institution_);
      practitioners.push_back(std::min(p, so_.persons - 1));
    }
    hot_claims.push_back(synthetic::ClaimEventBytes(pop_, k, practitioners, rng_));
  }
  Decide(hot_claims, 0, hot_claims.size());  // warm: every working-set record resident
  const uint64_t hot_reads_before = store_->stats().rocksdb_reads;
  const absl::Time t0 = absl::Now();
  for (int round = 0; round < so_.hot_rounds; ++round) Decide(hot_claims, 0, hot_claims.size());
  const double hot_seconds = Seconds(t0);
  const double hot_rate = hot_claims.size() * so_.hot_rounds / hot_seconds;
  const auto hot_stats = store_->stats();
  avg_entry_bytes_ =
      hot_stats.persons.entries == 0
          ? 512.0
          : static_cast<double>(hot_stats.persons.bytes) / hot_stats.persons.entries;
  std::cout << absl::StrFormat(
      "hot: %d claims in %.2f s = %.0f decisions/s (RocksDB reads during the run: %d; %d records, "
      "%.0f B each in the hot tier)\n",
      hot_claims.size(), hot_seconds, hot_rate, hot_stats.rocksdb_reads - hot_reads_before,
      hot_stats.persons.entries, avg_entry_bytes_);
  return hot_rate;
}

std::pair<double, double> StoreBench::MeasureZipf(std::vector<std::vector<std::string>>& keys) {
  store_.reset();
  store_options_.hot_tier_bytes = static_cast<uint64_t>(0.1 * so_.persons * avg_entry_bytes_);
  store_ = std::move(*StatusStore::Open(store_options_));
  const synthetic::ZipfSampler zipf(so_.persons, pop_.zipf_exponent);
  std::vector<std::string> claims;
  claims.reserve(so_.claims);
  keys.reserve(so_.claims);
  for (int64_t k = 0; k < so_.claims; ++k) {
    const int64_t lead = zipf(rng_) - 1;
    std::vector<int64_t> practitioners = {lead};
    std::vector<std::string> claim_keys = {synthetic::PersonId(lead)};
    for (int j = rng_() % 3; j > 0; --j) {
      const int64_t p =
          (lead + pop_.institutions * (1 + static_cast<int64_t>(rng_() % per_institution_))) %
          so_.persons;
      practitioners.push_back(p);
      claim_keys.push_back(synthetic::PersonId(p));
    }
    claims.push_back(synthetic::ClaimEventBytes(pop_, k, practitioners, rng_));
    keys.push_back(std::move(claim_keys));
  }
  Decide(claims, 0, claims.size() / 2);  // warm the hot tier and the block cache
  const auto before = store_->stats();
  const absl::Time t0 = absl::Now();
  Decide(claims, 0, claims.size());
  const double zipf_seconds = Seconds(t0);
  const double zipf_rate = claims.size() / zipf_seconds;
  const auto after = store_->stats();
  const uint64_t lookups =
      (after.persons.hits + after.persons.misses) - (before.persons.hits + before.persons.misses);
  const double hit_ratio =
      lookups == 0 ? 0 : static_cast<double>(after.persons.hits - before.persons.hits) / lookups;
  std::cout << absl::StrFormat(
      "zipf: %d claims in %.2f s = %.0f decisions/s; hot tier %.0f MB, %d records, hit ratio "
      "%.3f\n",
      claims.size(), zipf_seconds, zipf_rate, after.persons.bytes / 1e6, after.persons.entries,
      hit_ratio);
  return {zipf_rate, hit_ratio};
}

double StoreBench::MeasureMultiGet(const std::vector<std::vector<std::string>>& keys) {
  rocksdb::DB* db = store_->db_for_test();
  rocksdb::ColumnFamilyHandle* cf = store_->persons_cf_for_test();
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values(8);
  std::vector<rocksdb::Status> statuses(8);
  const absl::Time t0 = absl::Now();
  int64_t found = 0;
  for (const auto& claim_keys : keys) {
    slices.assign(claim_keys.begin(), claim_keys.end());
    db->MultiGet(rocksdb::ReadOptions(), cf, slices.size(), slices.data(), values.data(),
                 statuses.data());
    for (size_t i = 0; i < slices.size(); ++i) {
      found += statuses[i].ok();
      values[i].Reset();
    }
  }
  const double multiget_seconds = Seconds(t0);
  const double multiget_rate = keys.size() / multiget_seconds;
  std::cout << absl::StrFormat("rocksdb multiget: %d calls (%d keys found) in %.2f s = %.0f/s\n",
                               keys.size(), found, multiget_seconds, multiget_rate);
  return multiget_rate;
}

}  // namespace

int RunStoreBench(const StoreBenchOptions& options) { return StoreBench(options).Run(); }

}  // namespace claimgate::bench
