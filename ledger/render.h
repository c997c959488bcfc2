// Compact, deterministic text renderings of status records, for golden tests and operators' eyes:
//   D001 reg[H001 01-02T09:00.. c01-02T10:00] susp[03-10T10:00..07-10T10:00 single:A1]
//   pts[2025=9@03-10T10:00]
// Times are shown in the given zone as YYYY-MM-DDTHH:MM (seconds when not zero).
#ifndef CLAIMGATE_LEDGER_RENDER_H_
#define CLAIMGATE_LEDGER_RENDER_H_

#include <string>

#include "absl/time/time.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/calendar.h"

namespace claimgate::ledger {

std::string RenderTime(absl::Time t, int utc_offset_minutes = Calendar::kChinaStandardTimeMinutes);
std::string RenderPerson(const v1::PersonStatus& p,
                         int utc_offset_minutes = Calendar::kChinaStandardTimeMinutes);
std::string RenderInstitution(const v1::InstitutionStatus& i,
                              int utc_offset_minutes = Calendar::kChinaStandardTimeMinutes);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_RENDER_H_
