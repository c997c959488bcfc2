// Release 2 benchmarks (issue 16):
// - `claimgate-bench codes`: load N settled traceability codes into the code store (SST files
//   ingested), then check codes of which 99% are new and 1% repeats: checks per second on one core,
//   disk bytes per code and RSS. The last line is one JSON object (scripts read it).
// - `claimgate-bench insured`: 1.3 billion insured persons simulated by an id range, 100,000 of
//   them suspended in the status store; decisions per second with the insured check on (claims carry an
//   insured id) and off (the same claims without one), in the same run.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/binary_decider.h"
#include "gate/json/json_writer.h"
#include "gate/store/code_store.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/calendar.h"

namespace claimgate::bench {
namespace {

constexpr unsigned __int128 kCodeSpace = static_cast<unsigned __int128>(10000000000ULL) *
                                         static_cast<unsigned __int128>(10000000000ULL);  // 10^20

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

using gate::CodeStore;

// The i-th of N settled codes: ascending in i, spread over the code space.
std::string SettledCodeText(int64_t i, int64_t n) {
  const unsigned __int128 stride = kCodeSpace / static_cast<unsigned __int128>(n);
  const auto jitter = static_cast<unsigned __int128>(SplitMix(static_cast<uint64_t>(i))) % stride;
  return CodeStore::CodeText(static_cast<unsigned __int128>(i) * stride + jitter);
}

// Loads `o.codes` settled codes in code order (SST files ingested into the last level: nothing
// left to compact); the settling claims' service times spread over `o.years` years, expiring 3
// years later.
absl::Status LoadCodes(const CodesBenchOptions& o, CodeStore& store) {
  const absl::TimeZone cst = absl::FixedTimeZone(8 * 3600);
  std::vector<absl::Time> served, expires;  // per settling year
  for (int y = 0; y < o.years; ++y) {
    served.push_back(absl::FromCivil(absl::CivilSecond(2025 + y, 6, 1, 10, 0, 0), cst));
    expires.push_back(absl::FromCivil(absl::CivilSecond(2028 + y, 6, 1, 10, 0, 0), cst));
  }
  int64_t i = 0;
  return store.BulkLoad([&](std::string* code, gate::SettledCode* settler) {
    if (i >= o.codes) return false;
    const auto y = static_cast<size_t>(i * o.years / o.codes);
    *code = SettledCodeText(i, o.codes);
    settler->claim_id = absl::StrCat("C", i / 3);
    settler->institution_id = absl::StrCat("H", SplitMix(static_cast<uint64_t>(i)) % 200000);
    settler->service_time = served[y];
    settler->expires = expires[y];
    if (++i % 20000000 == 0) std::cerr << "loaded " << i << "\n";
    return true;
  });
}

struct CheckFigures {
  double rate = 0;  // codes checked per second
  int64_t repeats = 0, hits = 0;
};

// Checks: batches of `codes_per_claim` codes (a claim's, or a poll of check records), 99% new and
// 1% settled before; generated before the clock starts. Prints its line.
CheckFigures MeasureChecks(const CodesBenchOptions& o, CodeStore& store) {
  std::mt19937_64 rng(11);
  auto generate = [&](int64_t n, int64_t* repeats) {
    std::vector<std::string> codes(static_cast<size_t>(n));
    for (std::string& code : codes) {
      if (rng() % 100 == 0) {
        code = SettledCodeText(static_cast<int64_t>(rng() % o.codes), o.codes);
        ++*repeats;
      } else {
        code = CodeStore::CodeText((static_cast<unsigned __int128>(rng()) << 64 | rng()) %
                                   kCodeSpace);
      }
    }
    return codes;
  };
  std::vector<std::optional<gate::SettledCode>> found;
  std::vector<absl::string_view> views;
  auto run = [&](const std::vector<std::string>& codes) {
    int64_t hits = 0;
    for (size_t at = 0; at < codes.size(); at += static_cast<size_t>(o.codes_per_claim)) {
      const size_t end = std::min(codes.size(), at + static_cast<size_t>(o.codes_per_claim));
      views.assign(codes.begin() + static_cast<std::ptrdiff_t>(at),
                   codes.begin() + static_cast<std::ptrdiff_t>(end));
      if (!store.Lookup(views, &found).ok()) std::exit(3);
      for (const auto& f : found) hits += f.has_value();
    }
    return hits;
  };
  int64_t warm_repeats = 0, repeats = 0;
  run(generate(o.checks / 10, &warm_repeats));  // warm the filters' and indexes' partitions
  const std::vector<std::string> checks = generate(o.checks, &repeats);
  const absl::Time t1 = absl::Now();
  const int64_t hits = run(checks);
  const double check_seconds = Seconds(t1);
  const double rate = static_cast<double>(o.checks) / check_seconds;
  std::cout << absl::StrFormat(
      "check: %d codes in batches of %d in %.2f s = %.0f checks/s on one core; %d repeats "
      "presented, %d found; block cache %.0f MB\n",
      o.checks, o.codes_per_claim, check_seconds, rate, repeats, hits,
      store.CacheUsage() / 1e6);
  return CheckFigures{rate, repeats, hits};
}

// The population's statuses and `o.suspended` insured persons drawn from the insured range, each
// suspended at every service time.
gate::StatusBatch InsuredPopulation(const InsuredBenchOptions& o,
                                    const synthetic::SyntheticOptions& pop, std::mt19937_64& rng) {
  gate::StatusBatch batch;
  synthetic::GenerateStatuses(
      pop, [&](v1::InstitutionStatus&& i) { batch.institutions.push_back(std::move(i)); },
      [&](v1::PersonStatus&& p) { batch.persons.push_back(std::move(p)); });
  for (int64_t k = 0; k < o.suspended; ++k) {
    v1::InsuredStatus& s = batch.insured.emplace_back();
    s.set_insured_id(absl::StrCat("INS", rng() % o.insured));
    v1::InsuredStatus::Suspension* sus = s.add_suspensions();
    ledger::SetProto(absl::UnixEpoch(), sus->mutable_since());
    ledger::SetProto(absl::FromUnixSeconds(4102444800), sus->mutable_until());  // 2100
    sus->set_decision_id(absl::StrCat("S", k));
    s.set_ledger_position(1);
  }
  return batch;
}

// `o.claims` claim events, each of an insured id drawn from the whole range.
std::vector<std::string> InsuredClaims(const InsuredBenchOptions& o,
                                       const synthetic::SyntheticOptions& pop,
                                       std::mt19937_64& rng) {
  const int64_t per_institution = std::max<int64_t>(1, o.persons / pop.institutions);
  std::vector<std::string> claims;
  for (int64_t k = 0; k < o.claims; ++k) {
    const int64_t inst = static_cast<int64_t>(rng() % static_cast<uint64_t>(pop.institutions));
    std::vector<int64_t> practitioners = {
        inst + pop.institutions * static_cast<int64_t>(rng() % per_institution)};
    v1::Event e;
    e.ParseFromString(synthetic::ClaimEventBytes(pop, k, practitioners, rng));
    e.mutable_claim()->set_insured_id(absl::StrCat("INS", rng() % o.insured));
    claims.push_back(e.SerializeAsString());
  }
  return claims;
}

}  // namespace

int RunCodesBench(const CodesBenchOptions& o) {
  const std::string dir =
      o.dir.empty() ? absl::StrCat("/tmp/claimgate-bench-codes-", getpid()) : o.dir;
  const bool reuse = o.reuse && std::filesystem::exists(dir);
  if (!reuse) std::filesystem::remove_all(dir);
  gate::CodeStoreOptions so;
  so.path = dir;
  so.block_cache_bytes = static_cast<uint64_t>(o.cache_mib) << 20;
  auto opened = gate::CodeStore::Open(so);
  if (!opened.ok()) {
    std::cerr << opened.status() << "\n";
    return 2;
  }
  std::unique_ptr<gate::CodeStore> store = std::move(*opened);

  const absl::Time t0 = absl::Now();
  if (absl::Status loaded = reuse ? absl::OkStatus() : LoadCodes(o, *store); !loaded.ok()) {
    std::cerr << loaded << "\n";
    return 2;
  }
  const double load_seconds = Seconds(t0);
  const uint64_t disk = store->DiskBytes();
  std::cout << absl::StrFormat("load: %d codes in %.1f s, %.0f MB on disk, %.1f B/code\n",
                               o.codes, load_seconds, disk / 1e6,
                               static_cast<double>(disk) / static_cast<double>(o.codes));

  const CheckFigures checks = MeasureChecks(o, *store);
  const int64_t rss = PeakRssBytes();
  store.reset();
  if (!o.keep) std::filesystem::remove_all(dir);
  if (checks.hits < checks.repeats) {
    std::cerr << "codes bench: " << checks.repeats - checks.hits << " settled codes not found\n";
    return 1;
  }
  std::cout << gate::JsonText({{"codes", o.codes},
                               {"years", o.years},
                               {"load_seconds", gate::Fixed(load_seconds, 1)},
                               {"disk_bytes", disk},
                               {"disk_bytes_per_code",
                                gate::Fixed(static_cast<double>(disk) / o.codes, 2)},
                               {"rss_bytes", rss},
                               {"block_cache_bytes", so.block_cache_bytes},
                               {"checks", o.checks},
                               {"batch", o.codes_per_claim},
                               {"checks_per_sec", gate::Fixed(checks.rate, 0)},
                               {"repeats", checks.repeats},
                               {"repeats_found", checks.hits}})
            << "\n";
  return 0;
}

int RunInsuredBench(const InsuredBenchOptions& o) {
  const std::string dir =
      o.dir.empty() ? absl::StrCat("/tmp/claimgate-bench-insured-", getpid()) : o.dir;
  std::filesystem::remove_all(dir);
  gate::StatusStoreOptions so;
  so.path = dir;
  auto opened = gate::StatusStore::Open(so);
  if (!opened.ok()) {
    std::cerr << opened.status() << "\n";
    return 2;
  }
  std::unique_ptr<gate::StatusStore> store = std::move(*opened);
  synthetic::SyntheticOptions pop;
  pop.persons = o.persons;
  pop.institutions = std::max<int64_t>(1, o.persons / 10);
  std::mt19937_64 rng(5);
  if (absl::Status s = store->Write(InsuredPopulation(o, pop, rng)); !s.ok()) {
    std::cerr << s << "\n";
    return 2;
  }
  store.reset();
  const absl::Time t0 = absl::Now();
  store = std::move(*gate::StatusStore::Open(so));  // the filter is rebuilt from the records
  const double reopen_seconds = Seconds(t0);

  // The same claims decided with the check (on) and with the store told not to look (off).
  const std::vector<std::string> claims = InsuredClaims(o, pop, rng);
  const absl::Time now = absl::Now();
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  gate::DecisionContext ctx;
  ctx.profiles = profiles.get();
  ctx.default_profile = profiles->Find("national");
  ctx.gate_version = "bench";
  gate::BinaryDecider decider(ctx);
  std::string decision, audit;
  auto measure_with = [&](bool check) {
    store->set_check_insured(check);
    const absl::Time t = absl::Now();
    for (const std::string& c : claims) {
      if (!decider.Decide(c, *store, 1, now, &decision, &audit).ok()) std::exit(3);
    }
    return static_cast<double>(claims.size()) / Seconds(t);
  };
  measure_with(true);  // warm
  measure_with(false);
  // Alternate rounds so that neither side profits from the order.
  double on_rate = 0, off_rate = 0;
  const uint64_t reads_before = store->stats().insured_reads;
  for (int round = 0; round < o.rounds; ++round) {
    off_rate += measure_with(false) / o.rounds;
    on_rate += measure_with(true) / o.rounds;
  }
  const auto stats = store->stats();
  int64_t rejected = 0;  // an untimed pass: the check finds the suspended
  store->set_check_insured(true);
  for (const std::string& c : claims) {
    if (!decider.Decide(c, *store, 1, now, &decision, &audit).ok()) std::exit(3);
    for (const auto& r : decider.last_result().reasons) {
      rejected += r.code == v1::INSURED_SETTLEMENT_SUSPENDED;
    }
  }
  std::cout << absl::StrFormat(
      "insured: %d of %d suspended; filter rebuilt in %.3f s; %d claims x %d rounds: on %.0f/s, "
      "off %.0f/s, ratio %.3f; store reads for insured ids %d, claims rejected as suspended %d\n",
      o.suspended, o.insured, reopen_seconds, o.claims, o.rounds, on_rate, off_rate,
      on_rate / off_rate, stats.insured_reads - reads_before, rejected);
  const int64_t rss = PeakRssBytes();
  store.reset();
  std::filesystem::remove_all(dir);
  std::cout << gate::JsonText({{"insured", o.insured},
                               {"suspended", o.suspended},
                               {"claims", o.claims},
                               {"claims_per_sec_check_on", gate::Fixed(on_rate, 0)},
                               {"claims_per_sec_check_off", gate::Fixed(off_rate, 0)},
                               {"ratio", gate::Fixed(on_rate / off_rate, 3)},
                               {"insured_store_reads", stats.insured_reads - reads_before},
                               {"filter_reopen_seconds", gate::Fixed(reopen_seconds, 3)},
                               {"rss_bytes", rss}})
            << "\n";
  return 0;
}

}  // namespace claimgate::bench
