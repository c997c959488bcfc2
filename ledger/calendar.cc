// Calendar arithmetic in a fixed-offset zone.
#include "ledger/calendar.h"

#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace claimgate::ledger {
namespace {

// Days in month `m` (1-12) of proleptic Gregorian year `y`.
int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Whole seconds of `t` (toward the infinite past) when inside years 1-9999 with a day to spare on
// either side for the zone's offset; false outside (the caller takes absl's way).
bool ArithmeticSeconds(absl::Time t, int64_t* seconds) {
  constexpr int64_t kMargin = 86400;
  if (t < absl::FromUnixSeconds(kMinTimestampSeconds + kMargin) ||
      t > absl::FromUnixSeconds(kMaxTimestampSeconds - kMargin)) {
    return false;
  }
  *seconds = absl::ToUnixSeconds(t);
  return true;
}

// `n` decimal digits at `at`.
bool Digits(absl::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// The form of RFC 3339 Protobuf writes, range unchecked (the instant may fall outside years
// 1-9999 once the offset is applied).
bool ParseForm(absl::string_view s, int64_t* seconds, int32_t* nanos) {
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || s[10] != 'T' || !Digits(s, 11, 2, &h) ||
      s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se)) {
    return false;
  }
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) ||
      h > 23 || mi > 59 || se > 59) {
    return false;
  }
  size_t at = 19;
  int32_t frac = 0;
  if (s[at] == '.') {
    size_t n = 0;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, ++n) {
      if (n == 9) return false;  // below a nanosecond: it would be cut silently
      frac = frac * 10 + (s[at] - '0');
    }
    if (n == 0) return false;
    for (; n < 9; ++n) frac *= 10;
  }
  int offset = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!Digits(s, at + 1, 2, &oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !Digits(s, at + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return false;
  }
  if (at != s.size()) return false;
  *seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  *nanos = frac;
  return true;
}

}  // namespace

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilFields CivilFromUnixSeconds(int64_t seconds) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t in_day = seconds - days * 86400;
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilFields c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(in_day / 3600);
  c.minute = static_cast<int>(in_day / 60 % 60);
  c.second = static_cast<int>(in_day % 60);
  return c;
}

Calendar::Calendar(int utc_offset_minutes)
    : offset_minutes_(utc_offset_minutes), zone_(absl::FixedTimeZone(utc_offset_minutes * 60)) {}

int Calendar::YearOf(absl::Time t) const {
  int64_t seconds;
  if (ArithmeticSeconds(t, &seconds)) {
    return static_cast<int>(CivilFromUnixSeconds(seconds + offset_minutes_ * 60).year);
  }
  return static_cast<int>(absl::ToCivilYear(t, zone_).year());
}

absl::CivilDay Calendar::DayOf(absl::Time t) const {
  int64_t seconds;
  if (ArithmeticSeconds(t, &seconds)) {
    const CivilFields c = CivilFromUnixSeconds(seconds + offset_minutes_ * 60);
    return absl::CivilDay(c.year, c.month, c.day);
  }
  return absl::ToCivilDay(t, zone_);
}

absl::Time Calendar::StartOf(absl::CivilDay day) const {
  if (day.year() >= 1 && day.year() <= 9999) {
    return absl::FromUnixSeconds(DaysFromCivil(day.year(), day.month(), day.day()) * 86400 -
                                 offset_minutes_ * 60);
  }
  return absl::FromCivil(day, zone_);
}

absl::Time Calendar::AddMonths(absl::Time t, int months) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  int64_t seconds;
  if (ArithmeticSeconds(t, &seconds) && months > -12 * 9000 && months < 12 * 9000) {
    const int64_t local = seconds + offset_minutes_ * 60;
    const CivilFields c = CivilFromUnixSeconds(local);
    const int64_t target = c.year * 12 + (c.month - 1) + months;
    const int64_t year = FloorDiv(target, 12);
    const int month = static_cast<int>(target - year * 12 + 1);
    if (year >= 1 && year <= 9999) {
      const int day = std::min(c.day, DaysInMonth(year, month));
      const int64_t moved = DaysFromCivil(year, month, day) * 86400 +
                            (local - FloorDiv(local, 86400) * 86400) - offset_minutes_ * 60;
      return absl::FromUnixSeconds(moved) + (t - absl::FromUnixSeconds(seconds));
    }
  }
  const absl::CivilSecond cs = absl::ToCivilSecond(t, zone_);
  const absl::Duration subsecond = t - absl::FromCivil(cs, zone_);
  const absl::CivilMonth target = absl::CivilMonth(cs) + months;
  const int day = std::min(cs.day(), DaysInMonth(target.year(), target.month()));
  const absl::CivilSecond moved(target.year(), target.month(), day, cs.hour(), cs.minute(),
                                cs.second());
  return absl::FromCivil(moved, zone_) + subsecond;
}

absl::Time Calendar::AddWorkingDays(absl::Time t, int n) const {
  absl::Time out = t;
  int left = n;
  while (left > 0) {
    out += absl::Hours(24);  // fixed offset: a civil day is always 24 h
    const absl::Weekday wd = absl::GetWeekday(DayOf(out));
    if (wd != absl::Weekday::saturday && wd != absl::Weekday::sunday) --left;
  }
  return out;
}

absl::StatusOr<absl::CivilDay> ParseCivilDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("not a date (YYYY-MM-DD): '", text, "'"));
  }
  return day;
}

bool InTimestampRange(int64_t seconds, int32_t nanos) {
  return seconds >= kMinTimestampSeconds && seconds <= kMaxTimestampSeconds && nanos >= 0 &&
         nanos <= 999999999;
}

bool InTimestampRange(const google::protobuf::Timestamp& ts) {
  return InTimestampRange(ts.seconds(), ts.nanos());
}

bool ParseRfc3339Parts(absl::string_view text, int64_t* seconds, int32_t* nanos) {
  int64_t s = 0;
  int32_t n = 0;
  if (!ParseForm(text, &s, &n) || !InTimestampRange(s, n)) return false;
  *seconds = s;
  *nanos = n;
  return true;
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!ParseRfc3339Parts(text, &seconds, &nanos)) {
    if (ParseForm(text, &seconds, &nanos)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "' is outside years 1-9999 in UTC (google.protobuf.Timestamp)"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "not an RFC 3339 time with offset (YYYY-MM-DDTHH:MM:SS[.fraction], then Z or +HH:MM): '",
        absl::CHexEscape(text), "'"));
  }
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

std::string FormatRfc3339(absl::Time t, int utc_offset_minutes) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", t,
                          absl::FixedTimeZone(utc_offset_minutes * 60));
}

std::string FormatUtc(absl::Time t) {
  const google::protobuf::Timestamp ts = ToProto(t);
  if (InTimestampRange(ts)) return google::protobuf::util::TimeUtil::ToString(ts);
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void SetProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  SetProto(t, &ts);
  return ts;
}

}  // namespace claimgate::ledger
