// The ledger engine. Facts (registrations, assessments, credits, shortenings, agreement actions)
// are kept per person; every change recomputes that person's derived timeline from the facts in
// time order, so a late assessment or an appeal rewrites history exactly as if the events had
// arrived in time order (SPEC §4.3).
#include "ledger/ledger.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger/calendar.h"
#include "ledger/ledger_facts.h"
#include "ledger/status_query.h"

namespace claimgate::ledger {
namespace {

using v1::AgreementChanged;
using v1::PersonStatus;
using v1::RestorationCredited;

constexpr int kMaxPoints = Profile::kMaxPoints;

int Tier(int total) { return total >= Profile::kSuspensionTier ? total : 0; }

// A sanction record, comparable across recomputations to find what changed.
std::string SanctionKey(const google::protobuf::Message& m) { return m.SerializeAsString(); }

// Whether a termination in force by `t` ended the registration [since, until) (StandingAt judges
// those TERMINATED), so registering there again after the bar is a new registration, not a repeat
// (SPEC §4.3).
bool EndedByTermination(const PersonStatus& status, absl::Time since, absl::Time until,
                        absl::Time t) {
  for (const auto& term : status.terminations()) {
    const absl::Time start = FromProto(term.since());
    const absl::Time bar_until = FromProto(term.bar_until());
    if (start <= t && TerminationEndsRegistration(start, bar_until, since, until)) return true;
  }
  return false;
}

// A sanction over [since, until) as Recompute derives it, before it becomes a status record.
struct Interval {
  absl::Time since, until;
  v1::SanctionCause cause;
  std::string source;
};

void RecordTotal(PersonStatus& next, absl::Time at, int year, int total) {
  PersonStatus::YearTotal* step = next.add_points();
  SetProto(at, step->mutable_since());
  step->set_year(year);
  step->set_total(total);
}

}  // namespace

Ledger::Ledger(const ProfileSet* profiles, const Profile* default_profile)
    : profiles_(profiles), default_profile_(default_profile) {}

Ledger::~Ledger() = default;

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Create(const ProfileSet* profiles,
                                                       absl::string_view default_profile) {
  const Profile* p = profiles->Find(default_profile);
  if (p == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown profile '", default_profile, "'"));
  }
  return std::unique_ptr<Ledger>(new Ledger(profiles, p));
}

const v1::PersonStatus* Ledger::FindPerson(absl::string_view person_id) const {
  auto it = persons_.find(person_id);
  return it == persons_.end() ? nullptr : &it->second->status;
}

const PersonRecord* Ledger::FindPersonRecord(absl::string_view person_id) const {
  auto it = persons_.find(person_id);
  return it == persons_.end() ? nullptr : &it->second->record;
}

const v1::InstitutionStatus* Ledger::FindInstitution(absl::string_view institution_id) const {
  auto it = institutions_.find(institution_id);
  return it == institutions_.end() ? nullptr : &it->second->status;
}

const Profile& Ledger::ProfileOf(absl::string_view institution_id) const {
  auto it = institutions_.find(institution_id);
  if (it == institutions_.end() || it->second->profile == nullptr) return *default_profile_;
  return *it->second->profile;
}

std::vector<std::string> Ledger::PersonIds() const {
  std::vector<std::string> ids;
  ids.reserve(persons_.size());
  for (const auto& [id, p] : persons_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

const v1::InsuredStatus* Ledger::FindInsured(absl::string_view insured_id) const {
  auto it = insured_.find(insured_id);
  return it == insured_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Ledger::InsuredIds() const {
  std::vector<std::string> ids;
  ids.reserve(insured_.size());
  for (const auto& [id, i] : insured_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Ledger::InstitutionIds() const {
  std::vector<std::string> ids;
  ids.reserve(institutions_.size());
  for (const auto& [id, i] : institutions_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Ledger::RecomputeAllForTest() {
  v1::Event cause;
  cause.set_event_id("recompute-all");
  ApplyResult result;
  for (const std::string& id : PersonIds()) Recompute(*persons_.at(id), cause, nullptr, result);
  std::sort(result.changed_persons.begin(), result.changed_persons.end());
  return result.changed_persons;
}

ApplyResult Ledger::Recomputed(Person& p, const v1::Event& cause) {
  ApplyResult r;
  Recompute(p, cause, nullptr, r);
  return r;
}

Ledger::Person& Ledger::PersonFor(absl::string_view id) {
  auto& slot = persons_[id];
  if (slot == nullptr) {
    slot = std::make_unique<Person>();
    slot->status.set_person_id(std::string(id));
    slot->record.Assign(slot->status);
  }
  return *slot;
}

Ledger::Institution& Ledger::InstitutionFor(absl::string_view id) {
  auto& slot = institutions_[id];
  if (slot == nullptr) {
    slot = std::make_unique<Institution>();
    slot->status.set_institution_id(std::string(id));
  }
  return *slot;
}

const Profile& Ledger::ProfileForPerson(const Person& p, absl::Time t) const {
  // The institution of the registration in force at t, else of the latest registration.
  const Person::Registration* chosen = nullptr;
  for (const auto& r : p.registrations) {
    if (r.since <= t && t < r.until) return ProfileOf(r.institution_id);
    if (chosen == nullptr || r.since >= chosen->since) chosen = &r;
  }
  return chosen == nullptr ? *default_profile_ : ProfileOf(chosen->institution_id);
}

ApplyResult Ledger::Apply(const v1::Event& e) {
  ++position_;
  if (e.event_id().empty() || !e.has_time()) {
    return Refuse(e, v1::MALFORMED, "ledger event needs event_id and time");
  }
  // An event_id is spent once seen, whether its event is applied or refused (SPEC §4.6).
  if (!event_ids_.insert(e.event_id()).second) {
    return Refuse(e, v1::DUPLICATE_EVENT,
                  absl::StrCat("event_id '", e.event_id(), "' seen before"));
  }
  ApplyResult result;
  switch (e.body_case()) {
    case v1::Event::kInstitutionRegistered:
      result = ApplyInstitutionRegistered(e);
      break;
    case v1::Event::kPersonRegistered:
      result = ApplyPersonRegistered(e);
      break;
    case v1::Event::kPersonDeregistered:
      result = ApplyPersonDeregistered(e);
      break;
    case v1::Event::kCommitmentSigned:
      result = ApplyCommitmentSigned(e);
      break;
    case v1::Event::kScoreAssessed:
      result = ApplyScoreAssessed(e);
      break;
    case v1::Event::kAssessmentConfirmed:
      result = ApplyAssessmentConfirmed(e);
      break;
    case v1::Event::kAssessmentRevoked:
      result = ApplyAssessmentRevoked(e);
      break;
    case v1::Event::kAssessmentAdjusted:
      result = ApplyAssessmentAdjusted(e);
      break;
    case v1::Event::kRestorationCredited:
      result = ApplyRestorationCredited(e);
      break;
    case v1::Event::kSanctionShortened:
      result = ApplySanctionShortened(e);
      break;
    case v1::Event::kAgreementChanged:
      result = ApplyAgreementChanged(e);
      break;
    case v1::Event::kInsuredSettlementSuspended:
      result = ApplyInsuredSettlementSuspended(e);
      break;
    case v1::Event::kInsuredSuspensionRevoked:
      result = ApplyInsuredSuspensionRevoked(e);
      break;
    case v1::Event::kSettlementSuspended:
      result = ApplySettlementSuspended(e);
      break;
    case v1::Event::kSettlementResumed:
      result = ApplySettlementResumed(e);
      break;
    case v1::Event::kClaim:
    case v1::Event::kClaimReversed:
      return Refuse(e, v1::MALFORMED, "a claim-stream event is not a ledger event");
    case v1::Event::BODY_NOT_SET:
      return Refuse(e, v1::MALFORMED, "no known body");
  }
  if (!result.refused && !result.changed_persons.empty()) CheckSanctionRatios(e, result);
  for (v1::LedgerNotice& n : result.notices) n.set_ledger_position(position_);
  for (const std::string& id : result.changed_persons) {
    Person& p = *persons_.at(id);
    p.status.set_ledger_position(position_);
    p.record.Assign(p.status);
  }
  for (const std::string& id : result.changed_institutions) {
    institutions_.at(id)->status.set_ledger_position(position_);
  }
  for (const std::string& id : result.changed_insured) {
    insured_.at(id)->set_ledger_position(position_);
  }
  return result;
}

ApplyResult Ledger::Refuse(const v1::Event& e, v1::LedgerError error, std::string message) {
  ApplyResult r;
  r.refused = true;
  r.error = error;
  r.message = std::move(message);
  v1::LedgerNotice& n = r.notices.emplace_back();
  n.set_event_id(e.event_id());
  n.set_notice("EVENT_REFUSED");
  n.set_error(error);
  n.set_message(r.message);
  n.set_ledger_position(position_);
  return r;
}

ApplyResult Ledger::ApplyInstitutionRegistered(const v1::Event& e) {
  const v1::InstitutionRegistered& body = e.institution_registered();
  const Profile* profile = nullptr;
  if (!body.profile().empty()) {
    profile = profiles_->Find(body.profile());
    if (profile == nullptr) {
      return Refuse(e, v1::MALFORMED, absl::StrCat("unknown profile '", body.profile(), "'"));
    }
  }
  Institution& inst = InstitutionFor(body.institution_id());
  inst.profile = profile;
  inst.status.set_kind(body.kind());
  inst.status.set_level(body.level());
  inst.status.set_region(body.region());
  inst.status.set_profile(profile == nullptr ? default_profile_->name() : profile->name());
  ApplyResult r;
  r.changed_institutions.push_back(body.institution_id());
  return r;
}

ApplyResult Ledger::ApplyPersonRegistered(const v1::Event& e) {
  const v1::PersonRegistered& body = e.person_registered();
  const absl::Time t = FromProto(e.time());
  Person& p = PersonFor(body.person_id());
  for (const auto& term : p.status.terminations()) {
    if (FromProto(term.since()) <= t && t < FromProto(term.bar_until())) {
      return Refuse(e, v1::REGISTRATION_BARRED,
                    absl::StrCat("person ", body.person_id(), " barred from registering until ",
                                 FormatRfc3339(FromProto(term.bar_until()))));
    }
  }
  ApplyResult r;
  for (const auto& reg : p.registrations) {
    if (reg.institution_id == body.institution_id() && reg.since <= t && t < reg.until &&
        !EndedByTermination(p.status, reg.since, reg.until, t)) {
      return r;  // already registered there: idempotent (docs/assumptions.md Q19)
    }
  }
  p.registrations.push_back(
      {body.institution_id(), body.role(), t, absl::InfiniteFuture(), ++seq_});
  std::vector<std::string>& staff = registered_at_[body.institution_id()];
  if (std::find(staff.begin(), staff.end(), body.person_id()) == staff.end()) {
    staff.push_back(body.person_id());
  }
  Recompute(p, e, nullptr, r);
  return r;
}

ApplyResult Ledger::ApplyPersonDeregistered(const v1::Event& e) {
  const v1::PersonDeregistered& body = e.person_deregistered();
  const absl::Time t = FromProto(e.time());
  Person& p = PersonFor(body.person_id());
  ApplyResult r;
  Person::Registration* target = nullptr;
  for (auto& reg : p.registrations) {
    if (reg.institution_id != body.institution_id() || reg.until != absl::InfiniteFuture())
      continue;
    if (target == nullptr || reg.since > target->since) target = &reg;
  }
  if (target == nullptr) return r;  // nothing open there: nothing to end
  target->until = std::max(t, target->since);
  Recompute(p, e, nullptr, r);
  return r;
}

ApplyResult Ledger::ApplyCommitmentSigned(const v1::Event& e) {
  const v1::CommitmentSigned& body = e.commitment_signed();
  Person& p = PersonFor(body.person_id());
  p.commitments.push_back({body.institution_id(), FromProto(e.time())});
  return Recomputed(p, e);
}

std::optional<std::pair<v1::LedgerError, std::string>> Ledger::CheckPoints(
    const Profile& profile, const v1::ScoreAssessed& a, int points) const {
  if (points < 1 || points > kMaxPoints) {
    return std::make_pair(v1::INVALID_POINTS, absl::StrCat("points ", points, " outside 1..12"));
  }
  if (profile.IsFraud(a.violation())) {
    const std::optional<int> required = profile.FraudPoints(a.responsibility());
    if (!required.has_value() || *required != points) {
      return std::make_pair(
          v1::POINTS_OUTSIDE_BAND,
          absl::StrCat("fraud by a ", v1::ScoreAssessed::Responsibility_Name(a.responsibility()),
                       " responsible person carries ",
                       required.has_value() ? absl::StrCat(*required) : std::string("no"),
                       " points under profile ", profile.name(), ", not ", points));
    }
  }
  return std::nullopt;
}

ApplyResult Ledger::ApplyScoreAssessed(const v1::Event& e) {
  const v1::ScoreAssessed& body = e.score_assessed();
  const Profile& profile = ProfileOf(body.institution_id());
  if (auto refusal = CheckPoints(profile, body, body.points())) {
    return Refuse(e, refusal->first, std::move(refusal->second));
  }
  if (assessments_.contains(body.assessment_id())) {
    return Refuse(e, v1::DUPLICATE_EVENT,
                  absl::StrCat("assessment_id '", body.assessment_id(), "' recorded before"));
  }
  auto a = std::make_unique<Assessment>();
  a->id = body.assessment_id();
  a->person_id = body.person_id();
  a->institution_id = body.institution_id();
  a->violation = body.violation();
  a->responsibility = body.responsibility();
  a->points = body.points();
  a->decision_time = FromProto(body.has_decision_time() ? body.decision_time() : e.time());
  a->seq = ++seq_;
  a->profile = &profile;
  const v1::InstitutionStatus* inst = FindInstitution(body.institution_id());
  const std::string region = inst == nullptr ? std::string() : inst->region();
  const bool first_in_region = assessments_by_region_[region]++ == 0;
  a->needs_review = profile.NeedsReview(a->points, first_in_region);

  Person& p = PersonFor(body.person_id());
  p.assessment_ids.push_back(a->id);
  const Assessment& stored = *(assessments_[a->id] = std::move(a));
  ApplyResult r;
  if (stored.needs_review) {
    v1::LedgerNotice& n = r.notices.emplace_back();
    n.set_event_id(e.event_id());
    n.set_notice("ASSESSMENT_PENDING_REVIEW");
    n.set_person_id(stored.person_id);
    n.set_institution_id(stored.institution_id);
    n.set_assessment_id(stored.id);
    n.set_message(first_in_region ? "first assessment of the region: awaiting confirmation"
                                  : "single assessment at or above the review threshold");
    return r;
  }
  Recompute(p, e, &stored.id, r);
  return r;
}

ApplyResult Ledger::ApplyAssessmentConfirmed(const v1::Event& e) {
  auto it = assessments_.find(e.assessment_confirmed().assessment_id());
  if (it == assessments_.end() || it->second->revoked) {
    return Refuse(
        e, v1::UNKNOWN_ASSESSMENT,
        absl::StrCat("no live assessment '", e.assessment_confirmed().assessment_id(), "'"));
  }
  Assessment& a = *it->second;
  ApplyResult r;
  if (!a.needs_review || a.confirmed_at.has_value()) return r;  // already effective: no-op
  a.confirmed_at = FromProto(e.time());
  Recompute(*persons_.at(a.person_id), e, &a.id, r);
  return r;
}

ApplyResult Ledger::ApplyAssessmentRevoked(const v1::Event& e) {
  auto it = assessments_.find(e.assessment_revoked().assessment_id());
  if (it == assessments_.end()) {
    return Refuse(e, v1::UNKNOWN_ASSESSMENT,
                  absl::StrCat("no assessment '", e.assessment_revoked().assessment_id(), "'"));
  }
  Assessment& a = *it->second;
  ApplyResult r;
  if (a.revoked) return r;  // revoked before: no-op
  a.revoked = true;
  Recompute(*persons_.at(a.person_id), e, nullptr, r);
  return r;
}

ApplyResult Ledger::ApplyAssessmentAdjusted(const v1::Event& e) {
  const v1::AssessmentAdjusted& body = e.assessment_adjusted();
  auto it = assessments_.find(body.assessment_id());
  if (it == assessments_.end() || it->second->revoked) {
    return Refuse(e, v1::UNKNOWN_ASSESSMENT,
                  absl::StrCat("no live assessment '", body.assessment_id(), "'"));
  }
  Assessment& a = *it->second;
  v1::ScoreAssessed as_assessed;
  as_assessed.set_violation(a.violation);
  as_assessed.set_responsibility(a.responsibility);
  if (auto refusal = CheckPoints(*a.profile, as_assessed, body.points())) {
    return Refuse(e, refusal->first, std::move(refusal->second));
  }
  a.points = body.points();
  return Recomputed(*persons_.at(a.person_id), e);
}

ApplyResult Ledger::ApplyRestorationCredited(const v1::Event& e) {
  const v1::RestorationCredited& body = e.restoration_credited();
  const absl::Time t = FromProto(e.time());
  Person& p = PersonFor(body.person_id());
  const Profile& profile = ProfileForPerson(p, t);
  const bool training = body.kind() == RestorationCredited::TRAINING_EXAM;
  int points = body.points();
  if (!training && points == 0) points = 1;  // one point per activity
  if (training ? (points < 1 || points > kMaxPoints) : points != 1) {
    return Refuse(
        e, v1::INVALID_POINTS,
        absl::StrCat(RestorationCredited::Kind_Name(body.kind()), " credit of ", points,
                     training ? " points: must be positive" : " points: each activity is 1"));
  }
  const int year = profile.calendar().YearOf(t);
  int training_sum = 0, activity_sum = 0;
  for (const auto& c : p.credits) {
    if (c.year != year) continue;
    (c.kind == RestorationCredited::TRAINING_EXAM ? training_sum : activity_sum) += c.points;
  }
  const v1::RestorationCaps& caps = profile.proto().restoration();
  std::string exceeded;
  if (training && training_sum + points > caps.training_exam_per_year()) {
    exceeded = absl::StrCat("training/exam credits ", training_sum, "+", points, " > ",
                            caps.training_exam_per_year());
  } else if (!training && activity_sum + points > caps.activities_per_year()) {
    exceeded = absl::StrCat("activity credits ", activity_sum, "+", points, " > ",
                            caps.activities_per_year());
  } else if (training_sum + activity_sum + points > caps.total_per_year()) {
    exceeded = absl::StrCat("credits ", training_sum + activity_sum, "+", points, " > ",
                            caps.total_per_year());
  }
  if (!exceeded.empty()) {
    return Refuse(e, v1::RESTORATION_CAP_EXCEEDED,
                  absl::StrCat(exceeded, " in ", year, " (profile ", profile.name(), ")"));
  }
  p.credits.push_back({t, year, points, body.kind(), ++seq_});
  return Recomputed(p, e);
}

ApplyResult Ledger::ApplySanctionShortened(const v1::Event& e) {
  const v1::SanctionShortened& body = e.sanction_shortened();
  const absl::Time t = FromProto(e.time());
  Person& p = PersonFor(body.person_id());
  bool in_force = false;
  for (const auto& term : p.status.terminations()) {
    if (FromProto(term.since()) <= t && t < FromProto(term.bar_until())) in_force = true;
  }
  for (const auto& s : p.status.suspensions()) {
    if (s.cause() != v1::AGREEMENT && FromProto(s.since()) <= t && t < FromProto(s.until())) {
      in_force = true;
    }
  }
  if (!in_force) {
    return Refuse(e, v1::NO_SANCTION_IN_FORCE,
                  absl::StrCat("person ", body.person_id(),
                               " has no points suspension or "
                               "re-registration bar in force at ",
                               FormatRfc3339(t)));
  }
  p.shortenings.push_back({t, body.days(), ++seq_});
  return Recomputed(p, e);
}

ApplyResult Ledger::ApplyAgreementChanged(const v1::Event& e) {
  const v1::AgreementChanged& body = e.agreement_changed();
  const absl::Time t = FromProto(e.time());
  Institution& inst = InstitutionFor(body.institution_id());
  // The step function stays ordered by time.
  v1::InstitutionStatus::AgreementPeriod period;
  SetProto(t, period.mutable_since());
  period.set_state(body.state());
  InsertBySince(inst.status.mutable_agreement(), std::move(period));
  ApplyResult r;
  r.changed_institutions.push_back(body.institution_id());
  const Profile& profile = ProfileOf(body.institution_id());
  if (body.state() != AgreementChanged::ACTIVE) {
    for (const std::string& id : body.responsible_person_ids()) {
      Person& p = PersonFor(id);
      p.agreement_actions.push_back({body.institution_id(), body.state(), t, ++seq_, &profile});
      inst.named_persons.insert(id);
    }
  }
  // Every person ever named here may see an agreement suspension end or begin.
  std::vector<std::string> named(inst.named_persons.begin(), inst.named_persons.end());
  std::sort(named.begin(), named.end());
  for (const std::string& id : named) Recompute(*persons_.at(id), e, nullptr, r);
  return r;
}

// Recompute's points and sanctions phase: the facts that move points or sanctions, replayed in time
// order into year totals, point suspensions and terminations.
struct Ledger::SanctionTimeline {
  std::vector<Interval> point_suspensions;
  std::vector<Interval> terminations;          // until = bar end
  std::map<int, int> totals;                   // calendar year -> running total
  std::optional<std::pair<int, int>> reached;  // (year, total) of the effective assessment

  void Assess(const Assessment& a, absl::Time at, const std::string* effective_assessment,
              PersonStatus& next);
  void Credit(const Person::Credit& c, absl::Time at, PersonStatus& next);
  void Shorten(const Person::Shortening& s);
  void Terminate(absl::Time at, absl::Time bar, v1::SanctionCause cause, std::string source);
  // When `reg` ended: its own end, or earlier the start of a termination that ended it (at the
  // latest; never before it began).
  absl::Time EndOf(const Person::Registration& reg) const;
};

void Ledger::SanctionTimeline::Assess(const Assessment& a, absl::Time at,
                                      const std::string* effective_assessment,
                                      PersonStatus& next) {
  const Profile& profile = *a.profile;
  const int year = profile.calendar().YearOf(a.decision_time);
  const int t0 = totals[year];
  const int t1 = std::min(kMaxPoints, t0 + a.points);
  totals[year] = t1;
  RecordTotal(next, at, year, t1);
  if (effective_assessment != nullptr && *effective_assessment == a.id) reached = {year, t1};

  Sanction chosen = profile.Single(a.points);
  v1::SanctionCause cause = v1::POINTS_SINGLE;
  if (Tier(t1) > Tier(t0) && profile.Cumulative(t1).MoreSevereThan(chosen)) {
    chosen = profile.Cumulative(t1);
    cause = v1::POINTS_CUMULATIVE;
  }
  switch (chosen.kind) {
    case Sanction::Kind::kNone:
      break;
    case Sanction::Kind::kSuspend: {
      const absl::Time end = profile.calendar().AddMonths(at, chosen.months);
      if (!point_suspensions.empty() && point_suspensions.back().since <= at &&
          at < point_suspensions.back().until) {
        // No stacking: the suspension in force runs to the later end.
        point_suspensions.back().until = std::max(point_suspensions.back().until, end);
      } else {
        point_suspensions.push_back({at, end, cause, a.id});
      }
      break;
    }
    case Sanction::Kind::kTerminate:
      Terminate(at, profile.calendar().AddYears(at, chosen.bar_years), cause, a.id);
      break;
  }
}

void Ledger::SanctionTimeline::Credit(const Person::Credit& c, absl::Time at, PersonStatus& next) {
  int& total = totals[c.year];
  total = std::max(0, total - c.points);
  RecordTotal(next, at, c.year, total);
}

void Ledger::SanctionTimeline::Shorten(const Person::Shortening& s) {
  const absl::Duration by = absl::Hours(24) * s.days;
  if (!terminations.empty() && terminations.back().since <= s.at &&
      s.at < terminations.back().until) {
    Interval& term = terminations.back();
    term.until = std::max(term.since, term.until - by);
  } else if (!point_suspensions.empty() && point_suspensions.back().since <= s.at &&
             s.at < point_suspensions.back().until) {
    Interval& susp = point_suspensions.back();
    susp.until = std::max(susp.since, susp.until - by);
  }
}

void Ledger::SanctionTimeline::Terminate(absl::Time at, absl::Time bar, v1::SanctionCause cause,
                                         std::string source) {
  if (!terminations.empty() && terminations.back().until > at) {
    bar = std::max(bar, terminations.back().until);  // the longer bar wins
  }
  terminations.push_back({at, bar, cause, std::move(source)});
}

absl::Time Ledger::SanctionTimeline::EndOf(const Person::Registration& reg) const {
  absl::Time end = reg.until;
  for (const Interval& term : terminations) {
    if (TerminationEndsRegistration(term.since, term.until, reg.since, reg.until)) {
      end = std::min(end, std::max(reg.since, term.since));
    }
  }
  return end;
}

void Ledger::Recompute(Person& p, const v1::Event& cause, const std::string* effective_assessment,
                       ApplyResult& result) {
  PersonStatus next;
  next.set_person_id(p.status.person_id());
  next.set_ledger_position(p.status.ledger_position());
  const SanctionTimeline sanctions = DeriveSanctions(p, effective_assessment, next);
  AppendSanctions(p, sanctions, next);
  AppendRegistrations(p, sanctions, next);
  AppendNotices(p, next, cause, effective_assessment, sanctions.reached, result);
  if (next.SerializeAsString() != p.status.SerializeAsString()) {
    p.status = std::move(next);
    result.changed_persons.push_back(p.status.person_id());
  }
}

Ledger::SanctionTimeline Ledger::DeriveSanctions(const Person& p,
                                                 const std::string* effective_assessment,
                                                 PersonStatus& next) const {
  // The sanction-relevant facts in time order (ties: arrival order).
  enum class Kind { kAssessment, kCredit, kShortening, kAgreementTermination };
  struct Item {
    absl::Time at;
    uint64_t seq;
    Kind kind;
    const void* fact;
  };
  std::vector<Item> items;
  for (const std::string& id : p.assessment_ids) {
    const Assessment& a = *assessments_.at(id);
    if (a.effective()) items.push_back({a.effective_time(), a.seq, Kind::kAssessment, &a});
  }
  for (const auto& c : p.credits) items.push_back({c.at, c.seq, Kind::kCredit, &c});
  for (const auto& s : p.shortenings) items.push_back({s.at, s.seq, Kind::kShortening, &s});
  for (const auto& act : p.agreement_actions) {
    if (act.state == AgreementChanged::TERMINATED) {
      items.push_back({act.since, act.seq, Kind::kAgreementTermination, &act});
    }
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::tie(a.at, a.seq) < std::tie(b.at, b.seq);
  });

  SanctionTimeline timeline;
  for (const Item& item : items) {
    switch (item.kind) {
      case Kind::kAssessment:
        timeline.Assess(*static_cast<const Assessment*>(item.fact), item.at, effective_assessment,
                        next);
        break;
      case Kind::kCredit:
        timeline.Credit(*static_cast<const Person::Credit*>(item.fact), item.at, next);
        break;
      case Kind::kShortening:
        timeline.Shorten(*static_cast<const Person::Shortening*>(item.fact));
        break;
      case Kind::kAgreementTermination: {
        const auto& act = *static_cast<const Person::AgreementAction*>(item.fact);
        timeline.Terminate(act.since,
                           act.profile->calendar().AddYears(
                               act.since, act.profile->proto().agreement_termination_bar_years()),
                           v1::AGREEMENT, act.institution_id);
        break;
      }
    }
  }
  return timeline;
}

void Ledger::AppendSanctions(const Person& p, const SanctionTimeline& sanctions,
                             PersonStatus& next) const {
  // Agreement suspensions run until the institution's agreement is ACTIVE again.
  std::vector<Interval> suspensions = sanctions.point_suspensions;
  for (const auto& act : p.agreement_actions) {
    if (act.state != AgreementChanged::SUSPENDED) continue;
    absl::Time until = absl::InfiniteFuture();
    for (const auto& period : institutions_.at(act.institution_id)->status.agreement()) {
      const absl::Time since = FromProto(period.since());
      if (since > act.since && period.state() == AgreementChanged::ACTIVE) {
        until = since;
        break;
      }
    }
    suspensions.push_back({act.since, until, v1::AGREEMENT, act.institution_id});
  }
  std::stable_sort(suspensions.begin(), suspensions.end(),
                   [](const Interval& a, const Interval& b) { return a.since < b.since; });
  for (const Interval& s : suspensions) {
    if (s.until <= s.since) continue;  // shortened to nothing
    PersonStatus::Suspension* out = next.add_suspensions();
    SetProto(s.since, out->mutable_since());
    if (s.until != absl::InfiniteFuture()) SetProto(s.until, out->mutable_until());
    out->set_cause(s.cause);
    out->set_source_id(s.source);
  }
  for (const Interval& term : sanctions.terminations) {
    PersonStatus::Termination* out = next.add_terminations();
    SetProto(term.since, out->mutable_since());
    SetProto(term.until, out->mutable_bar_until());
    out->set_cause(term.cause);
    out->set_source_id(term.source);
  }
}

void Ledger::AppendRegistrations(const Person& p, const SanctionTimeline& sanctions,
                                 PersonStatus& next) {
  // Registrations, each with the first commitment that counts for it (docs/assumptions.md D11). A
  // termination ends the registrations it overlaps (SPEC §4.3): a commitment before that end
  // belongs to the ended registration, one after it to the next registration there.
  std::vector<const Person::Registration*> regs;
  for (const auto& reg : p.registrations) regs.push_back(&reg);
  std::stable_sort(regs.begin(), regs.end(),
                   [](const auto* a, const auto* b) { return a->since < b->since; });
  for (size_t i = 0; i < regs.size(); ++i) {
    const Person::Registration& reg = *regs[i];
    // From the end of the previous registration there; one that overlaps this one (registrations
    // that arrived out of order) shares its commitments.
    absl::Time window_start = absl::InfinitePast();
    for (size_t j = 0; j < i; ++j) {
      const absl::Time end = sanctions.EndOf(*regs[j]);
      if (regs[j]->institution_id == reg.institution_id && end <= reg.since) {
        window_start = std::max(window_start, end);
      }
    }
    const absl::Time window_end = sanctions.EndOf(reg);
    std::optional<absl::Time> committed;
    for (const auto& c : p.commitments) {
      if (c.institution_id == reg.institution_id && c.at >= window_start && c.at < window_end &&
          (!committed || c.at < *committed)) {
        committed = c.at;
      }
    }
    PersonStatus::Registration* out = next.add_registrations();
    out->set_institution_id(reg.institution_id);
    out->set_role(reg.role);
    SetProto(reg.since, out->mutable_since());
    if (reg.until != absl::InfiniteFuture()) SetProto(reg.until, out->mutable_until());
    if (committed) SetProto(*committed, out->mutable_committed_at());
  }
}

void Ledger::AppendNotices(const Person& p, const PersonStatus& next, const v1::Event& cause,
                           const std::string* effective_assessment,
                           const std::optional<std::pair<int, int>>& reached,
                           ApplyResult& result) const {
  // The band notice for the total an assessment reached, and PUBLISH_STATUS for every sanction that
  // is new or changed.
  const std::string& person_id = p.status.person_id();
  if (reached) {
    const Assessment& a = *assessments_.at(*effective_assessment);
    if (const std::string* code = a.profile->NoticeFor(reached->second)) {
      v1::LedgerNotice& n = result.notices.emplace_back();
      n.set_event_id(cause.event_id());
      n.set_notice(*code);
      n.set_person_id(person_id);
      n.set_institution_id(a.institution_id);
      n.set_assessment_id(a.id);
      n.set_year(reached->first);
      n.set_year_total(reached->second);
    }
  }
  absl::flat_hash_set<std::string> before;
  for (const auto& s : p.status.suspensions()) before.insert(SanctionKey(s));
  for (const auto& t : p.status.terminations()) before.insert(SanctionKey(t));
  const Profile& notice_profile = ProfileForPerson(p, FromProto(cause.time()));
  auto publish = [&](const google::protobuf::Message& m, const google::protobuf::Timestamp& since,
                     absl::string_view what) {
    if (before.contains(SanctionKey(m))) return;
    v1::LedgerNotice& n = result.notices.emplace_back();
    n.set_event_id(cause.event_id());
    n.set_notice("PUBLISH_STATUS");
    n.set_person_id(person_id);
    SetProto(notice_profile.calendar().AddWorkingDays(
                 FromProto(since), notice_profile.proto().publish_status_working_days()),
             n.mutable_deadline());
    n.set_message(std::string(what));
  };
  for (const auto& s : next.suspensions()) publish(s, s.since(), "SUSPENDED");
  for (const auto& t : next.terminations()) publish(t, t.since(), "TERMINATED");
}

}  // namespace claimgate::ledger
