// The ledger: applies ledger events (SPEC §4) under each institution's policy profile and keeps
// every person's and institution's status timeline. Event-sourced and pure: the state is a function
// of the ordered events and the profiles; no clock, no I/O.
#ifndef CLAIMGATE_LEDGER_LEDGER_H_
#define CLAIMGATE_LEDGER_LEDGER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/person_record.h"
#include "ledger/profile.h"

namespace claimgate::ledger {

// What applying one event did.
struct ApplyResult {
  bool refused = false;
  v1::LedgerError error = v1::LEDGER_ERROR_UNSPECIFIED;  // set when refused
  std::string message;                                   // why, when refused
  // Notices for downstream (talks, training, publication); a refusal also yields an EVENT_REFUSED
  // notice.
  std::vector<v1::LedgerNotice> notices;
  // Ids whose status record changed (to publish).
  std::vector<std::string> changed_persons;
  std::vector<std::string> changed_institutions;
  std::vector<std::string> changed_insured;  // insured persons (SPEC §8.1)
};

class Ledger {
 public:
  // `profiles` must outlive the ledger. `default_profile` governs institutions that name no profile
  // (and unknown institutions). NotFound when `default_profile` is not in `profiles`.
  static absl::StatusOr<std::unique_ptr<Ledger>> Create(const ProfileSet* profiles,
                                                        absl::string_view default_profile);

  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Applies the next ledger event of the total order. Never fails: a refused event is reported in
  // the result (SPEC §4.6) and counts towards position() like any other. A claim or bodiless event
  // is refused MALFORMED. Not thread-safe.
  ApplyResult Apply(const v1::Event& event);

  // Number of ledger events consumed so far, refused and duplicate ones included
  // (docs/assumptions.md D2).
  int64_t position() const { return position_; }

  // Status records; null when the id was never seen. Pointers stay valid until the next Apply().
  const v1::PersonStatus* FindPerson(absl::string_view person_id) const;
  // The same status flattened for decisions (kept in step with FindPerson).
  const PersonRecord* FindPersonRecord(absl::string_view person_id) const;
  const v1::InstitutionStatus* FindInstitution(absl::string_view institution_id) const;
  // An insured person's settlement suspensions (SPEC §8.1); null when never suspended.
  const v1::InsuredStatus* FindInsured(absl::string_view insured_id) const;

  // The profile governing an institution: its registered profile, else the default.
  const Profile& ProfileOf(absl::string_view institution_id) const;
  const Profile& default_profile() const { return *default_profile_; }
  const ProfileSet& profiles() const { return *profiles_; }

  // Every person / institution id, sorted.
  std::vector<std::string> PersonIds() const;

  // Recomputes every person's timeline from its facts; returns the ids whose record changed.
  // Incremental application must leave nothing to change: the property tests assert an empty
  // result.
  std::vector<std::string> RecomputeAllForTest();
  std::vector<std::string> InstitutionIds() const;
  std::vector<std::string> InsuredIds() const;

 private:
  struct Assessment;
  struct Person;
  struct Institution;

  Ledger(const ProfileSet* profiles, const Profile* default_profile);

  ApplyResult Refuse(const v1::Event& e, v1::LedgerError error, std::string message);
  ApplyResult ApplyInstitutionRegistered(const v1::Event& e);
  ApplyResult ApplyPersonRegistered(const v1::Event& e);
  ApplyResult ApplyPersonDeregistered(const v1::Event& e);
  ApplyResult ApplyCommitmentSigned(const v1::Event& e);
  ApplyResult ApplyScoreAssessed(const v1::Event& e);
  ApplyResult ApplyAssessmentConfirmed(const v1::Event& e);
  ApplyResult ApplyAssessmentRevoked(const v1::Event& e);
  ApplyResult ApplyAssessmentAdjusted(const v1::Event& e);
  ApplyResult ApplyRestorationCredited(const v1::Event& e);
  ApplyResult ApplySanctionShortened(const v1::Event& e);
  ApplyResult ApplyAgreementChanged(const v1::Event& e);
  // SPEC §8.1 and §8.2 (ledger/settlement.cc).
  ApplyResult ApplyInsuredSettlementSuspended(const v1::Event& e);
  ApplyResult ApplyInsuredSuspensionRevoked(const v1::Event& e);
  ApplyResult ApplySettlementSuspended(const v1::Event& e);
  ApplyResult ApplySettlementResumed(const v1::Event& e);
  // Whether a decision id was used by any suspension (SPEC §8.1, §8.2: spent once used).
  bool DecisionSpent(const std::string& decision_id) const;
  // The subject of `decision_id` in `decisions`, lifted now; null when unknown or lifted before.
  const std::string* Lift(const absl::flat_hash_map<std::string, std::string>& decisions,
                          const std::string& decision_id);
  // SPEC §8.5: the INSTITUTION_SANCTION_RATIO_EXCEEDED notices the changed persons' sanctions
  // call for, each (institution, year) once (ledger/settlement.cc).
  void CheckSanctionRatios(const v1::Event& cause, ApplyResult& result);
  // Suspensions and terminations beginning in [from, to) of `p` while registered at
  // `institution_id`; and whether a registration there overlaps [from, to).
  static int SanctionsAt(const Person& p, absl::string_view institution_id, absl::Time from,
                         absl::Time to);
  static bool RegisteredDuring(const Person& p, absl::string_view institution_id, absl::Time from,
                               absl::Time to);

  Person& PersonFor(absl::string_view id);
  Institution& InstitutionFor(absl::string_view id);
  const Profile& ProfileForPerson(const Person& p, absl::Time t) const;
  // Checks the points of an assessment against range and fraud band; OK or the refusal.
  std::optional<std::pair<v1::LedgerError, std::string>> CheckPoints(const Profile& profile,
                                                                     const v1::ScoreAssessed& a,
                                                                     int points) const;
  // Recomputes one person's derived timeline from its facts and appends notices for what changed;
  // when `effective_assessment` is set, also the band notice for the year total that assessment
  // reached.
  void Recompute(Person& p, const v1::Event& cause, const std::string* effective_assessment,
                 ApplyResult& result);
  // Recompute's phases, in order (ledger.cc): the points and sanctions derived from the facts in
  // time order (the year totals written to `next`); the suspensions, agreement ones joined, and
  // terminations; the registrations, each with the commitment that counts for it; the notices for
  // what changed since the record before (`p.status`).
  struct SanctionTimeline;
  SanctionTimeline DeriveSanctions(const Person& p, const std::string* effective_assessment,
                                   v1::PersonStatus& next) const;
  void AppendSanctions(const Person& p, const SanctionTimeline& sanctions,
                       v1::PersonStatus& next) const;
  static void AppendRegistrations(const Person& p, const SanctionTimeline& sanctions,
                                  v1::PersonStatus& next);
  void AppendNotices(const Person& p, const v1::PersonStatus& next, const v1::Event& cause,
                     const std::string* effective_assessment,
                     const std::optional<std::pair<int, int>>& reached, ApplyResult& result) const;
  ApplyResult Recomputed(Person& p, const v1::Event& cause);

  const ProfileSet* profiles_;
  const Profile* default_profile_;
  int64_t position_ = 0;
  uint64_t seq_ = 0;  // arrival order of applied events, for tie-breaks
  absl::flat_hash_set<std::string> event_ids_;
  absl::flat_hash_map<std::string, std::unique_ptr<Person>> persons_;
  absl::flat_hash_map<std::string, std::unique_ptr<Institution>> institutions_;
  absl::flat_hash_map<std::string, std::unique_ptr<Assessment>> assessments_;
  absl::flat_hash_map<std::string, int> assessments_by_region_;
  absl::flat_hash_map<std::string, std::unique_ptr<v1::InsuredStatus>> insured_;
  // Decision ids of insured suspensions (-> insured id) and settlement suspensions (-> institution
  // id), every one ever applied: an id is spent once used (docs/assumptions.md R2-2).
  absl::flat_hash_map<std::string, std::string> insured_decisions_;
  absl::flat_hash_map<std::string, std::string> settlement_decisions_;
  absl::flat_hash_set<std::string> lifted_decisions_;  // revoked or resumed
  // Institution id -> every person ever registered there, in arrival order (SPEC §8.5).
  absl::flat_hash_map<std::string, std::vector<std::string>> registered_at_;
  // (institution id, year) already given the §8.5 notice.
  absl::flat_hash_set<std::pair<std::string, int>> ratio_noticed_;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_LEDGER_H_
