// Calendar arithmetic in a fixed-offset zone.
#include "ledger/calendar.h"

#include <algorithm>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace claimgate::ledger {
namespace {

int DaysInMonth(absl::CivilMonth m) {
  return static_cast<int>(absl::CivilDay(m + 1) - absl::CivilDay(m));
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
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
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
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

Calendar::Calendar(int utc_offset_minutes)
    : offset_minutes_(utc_offset_minutes), zone_(absl::FixedTimeZone(utc_offset_minutes * 60)) {}

int Calendar::YearOf(absl::Time t) const {
  return static_cast<int>(absl::ToCivilYear(t, zone_).year());
}

absl::CivilDay Calendar::DayOf(absl::Time t) const { return absl::ToCivilDay(t, zone_); }

absl::Time Calendar::StartOf(absl::CivilDay day) const { return absl::FromCivil(day, zone_); }

absl::Time Calendar::AddMonths(absl::Time t, int months) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  const absl::CivilSecond cs = absl::ToCivilSecond(t, zone_);
  const absl::Duration subsecond = t - absl::FromCivil(cs, zone_);
  const absl::CivilMonth target = absl::CivilMonth(cs) + months;
  const int day = std::min(cs.day(), DaysInMonth(target));
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
