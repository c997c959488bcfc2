// Calendar arithmetic in a policy's time zone (SPEC §3): natural years, "N months from t" with day
// clamping, working days. Pure functions; the zone is a fixed UTC offset (China Standard Time has
// no daylight saving).
#ifndef CLAIMGATE_LEDGER_CALENDAR_H_
#define CLAIMGATE_LEDGER_CALENDAR_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace claimgate::ledger {

// A fixed-offset calendar. Cheap to copy.
class Calendar {
 public:
  static constexpr int kChinaStandardTimeMinutes = 480;

  explicit Calendar(int utc_offset_minutes = kChinaStandardTimeMinutes);

  int utc_offset_minutes() const { return offset_minutes_; }

  // The calendar year of `t` in this zone.
  int YearOf(absl::Time t) const;
  absl::CivilDay DayOf(absl::Time t) const;
  // The first instant of `day` in this zone.
  absl::Time StartOf(absl::CivilDay day) const;

  // The same clock time `months` calendar months later; a day the target month lacks clamps to its
  // last day (31 Jan + 1 month = 28/29 Feb). Sub-second parts are kept.
  absl::Time AddMonths(absl::Time t, int months) const;
  absl::Time AddYears(absl::Time t, int years) const { return AddMonths(t, 12 * years); }

  // The same clock time on the `n`-th working day (Monday to Friday) after the day of `t`.
  absl::Time AddWorkingDays(absl::Time t, int n) const;

 private:
  int offset_minutes_;
  absl::TimeZone zone_;
};

// Parses "YYYY-MM-DD".
absl::StatusOr<absl::CivilDay> ParseCivilDay(absl::string_view text);

// RFC 3339 with an offset ("2025-01-02T09:00:00+08:00"); a time without an offset is an error.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);
// RFC 3339 in the given offset, e.g. "2025-03-10T10:00:00+08:00".
std::string FormatRfc3339(absl::Time t,
                          int utc_offset_minutes = Calendar::kChinaStandardTimeMinutes);

absl::Time FromProto(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProto(absl::Time t);
void SetProto(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_CALENDAR_H_
