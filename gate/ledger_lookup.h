// Status lookups served straight from an in-process ledger (the file path, `claimgate check`).
#ifndef CLAIMGATE_GATE_LEDGER_LOOKUP_H_
#define CLAIMGATE_GATE_LEDGER_LOOKUP_H_

#include "gate/decision.h"
#include "ledger/ledger.h"

namespace claimgate::gate {

class LedgerLookup final : public StatusLookup {
 public:
  explicit LedgerLookup(const ledger::Ledger* ledger) : ledger_(ledger) {}
  const ledger::PersonRecord* FindPerson(absl::string_view id) const override {
    return ledger_->FindPersonRecord(id);
  }
  const v1::InstitutionStatus* FindInstitution(absl::string_view id) const override {
    return ledger_->FindInstitution(id);
  }
  const v1::InsuredStatus* FindInsured(absl::string_view id) const override {
    return ledger_->FindInsured(id);
  }

 private:
  const ledger::Ledger* ledger_;  // not owned
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_LEDGER_LOOKUP_H_
