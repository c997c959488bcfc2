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

// A proleptic Gregorian date and time of day.
struct CivilFields {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
};
// The civil date and time `seconds` after 1970-01-01T00:00:00 (negative: before), by arithmetic
// (H. Hinnant's civil_from_days): what absl::ToCivilSecond gives in a fixed-offset zone for the
// seconds shifted by the offset, without a time zone lookup.
CivilFields CivilFromUnixSeconds(int64_t seconds);
// Days since 1970-01-01 of a proleptic Gregorian date (days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d);

// A fixed-offset calendar. Cheap to copy. Times inside years 1-9999 are computed by arithmetic,
// others (the infinite past and future, the far range absl::Time holds) through absl's civil time;
// both give the same answers (CalendarTest.ArithmeticAgreesWithAbsl).
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

// The range google.protobuf.Timestamp holds (and its JSON form can write): 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
inline constexpr int64_t kMinTimestampSeconds = -62135596800;
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;
bool InTimestampRange(int64_t seconds, int32_t nanos);
bool InTimestampRange(const google::protobuf::Timestamp& ts);

// RFC 3339 as Protobuf's JSON mapping writes a Timestamp, and nothing else:
// YYYY-MM-DDTHH:MM:SS, 1 to 9 fraction digits optionally, then Z or ±HH:MM; the whole text, inside
// the Timestamp range once the offset is applied. The one time reader of every input (JSON lines,
// the fast reader, command-line flags), so that they all refuse the same texts. False otherwise.
bool ParseRfc3339Parts(absl::string_view text, int64_t* seconds, int32_t* nanos);
// The same, InvalidArgument naming the text and what is wrong with it.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);
// RFC 3339 in the given offset, e.g. "2025-03-10T10:00:00+08:00".
std::string FormatRfc3339(absl::Time t,
                          int utc_offset_minutes = Calendar::kChinaStandardTimeMinutes);
// RFC 3339 in UTC as Protobuf's JSON mapping writes a Timestamp, e.g. "2025-03-10T02:00:00Z" (3, 6
// or 9 fraction digits when there is a fraction), so that an instant reads the same in a decision,
// an audit record and the status query. Outside the Timestamp range: the fraction digits it needs.
std::string FormatUtc(absl::Time t);

absl::Time FromProto(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp ToProto(absl::Time t);
void SetProto(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_CALENDAR_H_
