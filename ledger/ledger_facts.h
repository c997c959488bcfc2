// The ledger's facts per assessment, person and institution: the private parts of Ledger shared by
// its implementation files (ledger.cc: the person rules; settlement.cc: SPEC §8). Not for users of
// the ledger.
#ifndef CLAIMGATE_LEDGER_LEDGER_FACTS_H_
#define CLAIMGATE_LEDGER_LEDGER_FACTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "ledger/person_record.h"
#include "ledger/profile.h"

namespace claimgate::ledger {

// Inserts `item` into a status record's list ordered by `since`; equal times keep arrival order.
template <typename List, typename Item>
void InsertBySince(List* list, Item item) {
  const absl::Time t = FromProto(item.since());
  list->Add(std::move(item));
  for (int i = list->size() - 1; i > 0 && FromProto(list->at(i - 1).since()) > t; --i) {
    list->SwapElements(i, i - 1);
  }
}

struct Ledger::Assessment {
  std::string id;
  std::string person_id;
  std::string institution_id;
  std::string violation;
  v1::ScoreAssessed::Responsibility responsibility = v1::ScoreAssessed::RESPONSIBILITY_UNSPECIFIED;
  int points = 0;
  absl::Time decision_time;
  bool needs_review = false;
  std::optional<absl::Time> confirmed_at;
  bool revoked = false;
  uint64_t seq = 0;
  const Profile* profile = nullptr;

  bool effective() const { return !revoked && (!needs_review || confirmed_at.has_value()); }
  absl::Time effective_time() const { return needs_review ? *confirmed_at : decision_time; }
};

struct Ledger::Person {
  struct Registration {
    std::string institution_id;
    v1::PersonRegistered::Role role;
    absl::Time since;
    absl::Time until = absl::InfiniteFuture();
    uint64_t seq;
  };
  struct Commitment {
    std::string institution_id;
    absl::Time at;
  };
  struct Credit {
    absl::Time at;
    int year;
    int points;
    v1::RestorationCredited::Kind kind;
    uint64_t seq;
  };
  struct Shortening {
    absl::Time at;
    int days;
    uint64_t seq;
  };
  struct AgreementAction {
    std::string institution_id;
    v1::AgreementChanged::State state;
    absl::Time since;
    uint64_t seq;
    const Profile* profile;
  };

  std::vector<Registration> registrations;
  std::vector<Commitment> commitments;
  std::vector<std::string> assessment_ids;
  std::vector<Credit> credits;
  std::vector<Shortening> shortenings;
  std::vector<AgreementAction> agreement_actions;
  v1::PersonStatus status;
  PersonRecord record;  // `status` flattened; refreshed whenever it changes
};

struct Ledger::Institution {
  v1::InstitutionStatus status;
  const Profile* profile = nullptr;                // null: the ledger's default
  absl::flat_hash_set<std::string> named_persons;  // named in any agreement action
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_LEDGER_FACTS_H_
