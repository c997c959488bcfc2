// Synthetic population and event stream.
#include "gate/synthetic/synthetic.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "ledger/calendar.h"

namespace claimgate::synthetic {

std::string PersonId(int64_t index) { return absl::StrFormat("P%08d", index); }
std::string InstitutionId(int64_t index) { return absl::StrFormat("I%07d", index); }

ZipfSampler::ZipfSampler(int64_t n, double s) : n_(n), s_(s) {
  h_n_ = s_ == 1.0 ? std::log(static_cast<double>(n_) + 1) : std::pow(n_ + 1.0, 1 - s_) - 1;
}

int64_t ZipfSampler::operator()(std::mt19937_64& rng) const {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  const double x = s_ == 1.0 ? std::exp(u * h_n_) : std::pow(u * h_n_ + 1, 1 / (1 - s_));
  const int64_t k = static_cast<int64_t>(x);  // 1 .. n
  return k < 1 ? 1 : (k > n_ ? n_ : k);
}

namespace {

// Institution i's profile is kProfiles[i % 3].
constexpr const char* kProfiles[] = {"hebei", "national", "tibet"};

// 60% clinics/primary care, 25% pharmacies, 15% hospitals, from a roll in [0, 100).
v1::InstitutionRegistered::Kind KindOfRoll(int roll) {
  return roll < 35   ? v1::InstitutionRegistered::CLINIC
         : roll < 60 ? v1::InstitutionRegistered::PRIMARY_CARE
         : roll < 85 ? v1::InstitutionRegistered::PHARMACY
                     : v1::InstitutionRegistered::HOSPITAL;
}

// GenerateStream's phases and what they share: one random sequence and one event counter, drawn
// in the order of the events emitted (the stream depends on that order).
class StreamWriter {
 public:
  StreamWriter(const SyntheticOptions& o, const std::function<void(const v1::Event&)>& emit)
      : o_(o), emit_(emit), rng_(o.seed) {}

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  // Every institution, registered at `start`; returns their kinds.
  std::vector<v1::InstitutionRegistered::Kind> Institutions(absl::Time start);
  // Every person, registered at `start` with a commitment 30 minutes later (some without); returns
  // each one's home institution.
  std::vector<int64_t> Persons(absl::Time start,
                               const std::vector<v1::InstitutionRegistered::Kind>& kinds);
  // The `number`th score assessment, of anyone.
  void Assessment(absl::Time t, const std::vector<int64_t>& home, int64_t number);
  // Claim `k` at the home institution of its lead practitioner.
  void Claim(int64_t k, absl::Time t, const ZipfSampler& zipf, const std::vector<int64_t>& home);

 private:
  // An event with the next id ("S1", "S2", ...) at `t`.
  v1::Event Base(absl::Time t) {
    v1::Event e;
    e.set_event_id(absl::StrCat("S", ++next_event_));
    ledger::SetProto(t, e.mutable_time());
    return e;
  }

  const SyntheticOptions& o_;
  const std::function<void(const v1::Event&)>& emit_;
  std::mt19937_64 rng_;
  int64_t next_event_ = 0;
};

std::vector<v1::InstitutionRegistered::Kind> StreamWriter::Institutions(absl::Time start) {
  // A third of them Hebei.
  std::vector<v1::InstitutionRegistered::Kind> kinds(o_.institutions);
  for (int64_t i = 0; i < o_.institutions; ++i) {
    kinds[i] = KindOfRoll(static_cast<int>(rng_() % 100));
    const int level =
        kinds[i] == v1::InstitutionRegistered::HOSPITAL ? 1 + static_cast<int>(rng_() % 3) : 0;
    v1::Event e = Base(start);
    auto* b = e.mutable_institution_registered();
    b->set_institution_id(InstitutionId(i));
    b->set_kind(kinds[i]);
    b->set_level(level);
    b->set_region(absl::StrCat(130000 + i % 100));
    b->set_profile(kProfiles[i % 3]);
    emit_(e);
  }
  return kinds;
}

std::vector<int64_t> StreamWriter::Persons(
    absl::Time start, const std::vector<v1::InstitutionRegistered::Kind>& kinds) {
  std::vector<int64_t> home(o_.persons);
  for (int64_t p = 0; p < o_.persons; ++p) {
    home[p] = p % o_.institutions;
    std::vector<int64_t> sites = {home[p]};
    if (Chance(o_.multi_site_share)) sites.push_back((home[p] + 1 + rng_() % 97) % o_.institutions);
    for (int64_t site : sites) {
      v1::Event reg = Base(start);
      reg.mutable_person_registered()->set_person_id(PersonId(p));
      reg.mutable_person_registered()->set_institution_id(InstitutionId(site));
      reg.mutable_person_registered()->set_role(kinds[site] == v1::InstitutionRegistered::PHARMACY
                                                    ? v1::PersonRegistered::PHARMACIST
                                                    : v1::PersonRegistered::PHYSICIAN);
      emit_(reg);
      if (Chance(o_.uncommitted_share)) continue;
      v1::Event commit = Base(start + absl::Minutes(30));
      commit.mutable_commitment_signed()->set_person_id(PersonId(p));
      commit.mutable_commitment_signed()->set_institution_id(InstitutionId(site));
      emit_(commit);
    }
  }
  return home;
}

void StreamWriter::Assessment(absl::Time t, const std::vector<int64_t>& home, int64_t number) {
  // Violations fall on anyone, not in proportion to how busy a person is.
  const int64_t p = static_cast<int64_t>(rng_() % static_cast<uint64_t>(o_.persons));
  v1::Event e = Base(t);
  auto* a = e.mutable_score_assessed();
  a->set_assessment_id(absl::StrCat("A", number));
  a->set_person_id(PersonId(p));
  a->set_institution_id(InstitutionId(home[p]));
  a->set_points(1 + static_cast<int>(rng_() % 6));
  a->set_responsibility(v1::ScoreAssessed::IMPORTANT);
  a->set_violation("OVER_TREATMENT");
  a->set_basis(v1::ScoreAssessed::AGREEMENT_HANDLING);
  a->set_decision_id(absl::StrCat("D", number));
  emit_(e);
}

void StreamWriter::Claim(int64_t k, absl::Time t, const ZipfSampler& zipf,
                         const std::vector<int64_t>& home) {
  const int64_t lead = zipf(rng_) - 1;
  v1::Event e = Base(t + absl::Minutes(20));  // spends an S id, as the stream always has
  e.set_event_id(absl::StrCat("C", k));
  auto* c = e.mutable_claim();
  c->set_claim_id(absl::StrCat("C", k));
  c->set_kind(v1::Claim::SETTLEMENT);
  c->set_institution_id(InstitutionId(home[lead]));
  ledger::SetProto(t, c->mutable_service_time());
  c->set_visit_type(Chance(0.05) ? v1::Claim::EMERGENCY : v1::Claim::OUTPATIENT);
  c->set_insured_id(absl::StrCat("INS", rng_() % 1000000));
  const int n = 1 + static_cast<int>(rng_() % o_.max_practitioners);
  for (int j = 0; j < n; ++j) {
    auto* pr = c->add_practitioners();
    // Colleagues: persons of the same institution (index congruent modulo institutions).
    const int64_t colleague =
        j == 0 ? lead : (lead + o_.institutions * (1 + rng_() % 3)) % o_.persons;
    pr->set_person_id(PersonId(colleague));
    pr->set_role(j == 0 ? v1::Claim::Practitioner::PRESCRIBER
                        : v1::Claim::Practitioner::PERFORMER);
  }
  auto* item = c->add_items();
  item->set_item_code(absl::StrCat("X", rng_() % 5000));
  item->set_category(v1::Claim::Item::DRUG);
  item->set_amount_fen(100 + static_cast<int64_t>(rng_() % 100000));
  if (!Chance(0.02))
    item->add_traceability_codes(absl::StrFormat("%020d", rng_() % 100000000000ULL));
  emit_(e);
}

}  // namespace

void GenerateStream(const SyntheticOptions& o, int64_t stream_events,
                    const std::function<void(const v1::Event&)>& emit) {
  StreamWriter writer(o, emit);
  const absl::Time start = *ledger::ParseRfc3339("2025-01-01T08:00:00+08:00");
  const absl::Time end = *ledger::ParseRfc3339("2025-12-31T20:00:00+08:00");
  const std::vector<v1::InstitutionRegistered::Kind> kinds = writer.Institutions(start);
  const std::vector<int64_t> home = writer.Persons(start, kinds);
  // The stream: time moves forward evenly through the year.
  const ZipfSampler zipf(o.persons, o.zipf_exponent);
  const absl::Duration step = (end - start) / std::max<int64_t>(1, stream_events);
  int64_t assessments = 0;
  for (int64_t k = 0; k < stream_events; ++k) {
    const absl::Time t = start + absl::Hours(1) + step * k;
    if (writer.Chance(o.assessment_rate)) {
      writer.Assessment(t, home, ++assessments);
    } else {
      writer.Claim(k, t, zipf, home);
    }
  }
}

void GenerateStatuses(const SyntheticOptions& o,
                      const std::function<void(v1::InstitutionStatus&&)>& institution,
                      const std::function<void(v1::PersonStatus&&)>& person) {
  std::mt19937_64 rng(o.seed);
  auto chance = [&rng](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  const absl::Time start = *ledger::ParseRfc3339("2025-01-01T08:00:00+08:00");
  const ledger::Calendar cst;
  for (int64_t i = 0; i < o.institutions; ++i) {
    v1::InstitutionStatus s;
    s.set_institution_id(InstitutionId(i));
    s.set_kind(KindOfRoll(static_cast<int>(rng() % 100)));
    s.set_level(s.kind() == v1::InstitutionRegistered::HOSPITAL ? 1 + static_cast<int>(rng() % 3)
                                                                : 0);
    s.set_region(absl::StrCat(130000 + i % 100));
    s.set_profile(kProfiles[i % 3]);
    s.set_ledger_position(1);
    if (chance(0.001)) {  // a few institutions with a suspended agreement for a while
      auto* a = s.add_agreement();
      ledger::SetProto(start + absl::Hours(24 * (rng() % 300)), a->mutable_since());
      a->set_state(v1::AgreementChanged::SUSPENDED);
      auto* b = s.add_agreement();
      ledger::SetProto(ledger::FromProto(a->since()) + absl::Hours(24 * 30), b->mutable_since());
      b->set_state(v1::AgreementChanged::ACTIVE);
    }
    institution(std::move(s));
  }
  for (int64_t p = 0; p < o.persons; ++p) {
    v1::PersonStatus s;
    s.set_person_id(PersonId(p));
    s.set_ledger_position(1);
    const int64_t home = p % o.institutions;
    std::vector<int64_t> sites = {home};
    if (chance(o.multi_site_share)) sites.push_back((home + 1 + rng() % 97) % o.institutions);
    for (int64_t site : sites) {
      auto* r = s.add_registrations();
      r->set_institution_id(InstitutionId(site));
      r->set_role(v1::PersonRegistered::PHYSICIAN);
      ledger::SetProto(start, r->mutable_since());
      if (!chance(o.uncommitted_share))
        ledger::SetProto(start + absl::Minutes(30), r->mutable_committed_at());
    }
    if (chance(o.suspended_share)) {
      const absl::Time since = start + absl::Hours(24 * (rng() % 330));
      auto* susp = s.add_suspensions();
      ledger::SetProto(since, susp->mutable_since());
      ledger::SetProto(cst.AddMonths(since, 2 + static_cast<int>(rng() % 9)),
                       susp->mutable_until());
      susp->set_cause(v1::POINTS_CUMULATIVE);
      susp->set_source_id(absl::StrCat("A", p));
      auto* pts = s.add_points();
      *pts->mutable_since() = susp->since();
      pts->set_year(2025);
      pts->set_total(9 + static_cast<int>(rng() % 3));
    } else if (chance(o.terminated_share)) {
      const absl::Time since = start + absl::Hours(24 * (rng() % 330));
      auto* term = s.add_terminations();
      ledger::SetProto(since, term->mutable_since());
      ledger::SetProto(cst.AddYears(since, 1), term->mutable_bar_until());
      term->set_cause(v1::POINTS_CUMULATIVE);
      term->set_source_id(absl::StrCat("A", p));
    } else if (chance(0.05)) {
      auto* pts = s.add_points();
      ledger::SetProto(start + absl::Hours(24 * (rng() % 330)), pts->mutable_since());
      pts->set_year(2025);
      pts->set_total(1 + static_cast<int>(rng() % 8));
    }
    person(std::move(s));
  }
}

std::string ClaimEventBytes(const SyntheticOptions& o, int64_t k,
                            const std::vector<int64_t>& practitioners, std::mt19937_64& rng) {
  const absl::Time start = *ledger::ParseRfc3339("2025-01-01T08:00:00+08:00");
  const absl::Time t = start + absl::Minutes(30 + static_cast<int64_t>(rng() % (360 * 24 * 60)));
  v1::Event e;
  e.set_event_id(absl::StrCat("C", k));
  ledger::SetProto(t + absl::Minutes(20), e.mutable_time());
  auto* c = e.mutable_claim();
  c->set_claim_id(absl::StrCat("C", k));
  c->set_kind(v1::Claim::SETTLEMENT);
  c->set_institution_id(InstitutionId(practitioners[0] % o.institutions));
  ledger::SetProto(t, c->mutable_service_time());
  c->set_visit_type(rng() % 20 == 0 ? v1::Claim::EMERGENCY : v1::Claim::OUTPATIENT);
  c->set_insured_id(absl::StrCat("INS", rng() % 1000000));
  for (size_t j = 0; j < practitioners.size(); ++j) {
    auto* pr = c->add_practitioners();
    pr->set_person_id(PersonId(practitioners[j]));
    pr->set_role(j == 0 ? v1::Claim::Practitioner::PRESCRIBER : v1::Claim::Practitioner::PERFORMER);
  }
  auto* item = c->add_items();
  item->set_item_code(absl::StrCat("X", rng() % 5000));
  item->set_category(v1::Claim::Item::DRUG);
  item->set_amount_fen(100 + static_cast<int64_t>(rng() % 100000));
  if (rng() % 50 != 0)
    item->add_traceability_codes(absl::StrFormat("%020d", rng() % 100000000000ULL));
  return e.SerializeAsString();
}

}  // namespace claimgate::synthetic
