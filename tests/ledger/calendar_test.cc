// Calendar arithmetic in UTC+08:00: year boundaries, month clamping, working days, RFC 3339.
#include "ledger/calendar.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/render.h"
#include "tests/testing/events.h"

namespace claimgate::ledger {
namespace {

using claimgate::testing::T;

TEST(CalendarTest, YearBoundaryIsChinaMidnightNotUtc) {
  Calendar cst;
  // 2025-12-31T16:30Z is already 2026-01-01 00:30 in China.
  EXPECT_EQ(cst.YearOf(T("2025-12-31T16:30:00Z")), 2026);
  EXPECT_EQ(cst.YearOf(T("2025-12-31T15:59:59Z")), 2025);
  EXPECT_EQ(cst.YearOf(T("2026-01-01T00:00")), 2026);
  EXPECT_EQ(cst.YearOf(T("2025-12-31T23:59:59")), 2025);
  // The same instant written with another offset.
  EXPECT_EQ(cst.YearOf(T("2025-12-31T18:30:00+02:00")), 2026);
}

struct MonthCase {
  const char* from;
  int months;
  const char* want;
};

class AddMonthsTest : public ::testing::TestWithParam<MonthCase> {};

TEST_P(AddMonthsTest, SameClockTimeClampedToMonthEnd) {
  Calendar cst;
  EXPECT_EQ(RenderTime(cst.AddMonths(T(GetParam().from), GetParam().months)), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Clamping, AddMonthsTest,
                         ::testing::Values(MonthCase{"2025-01-31T10:00", 1, "2025-02-28T10:00"},
                                           MonthCase{"2024-01-31T10:00", 1, "2024-02-29T10:00"},
                                           MonthCase{"2025-03-31T10:00", 2, "2025-05-31T10:00"},
                                           MonthCase{"2025-03-31T10:00", 3, "2025-06-30T10:00"},
                                           MonthCase{"2025-08-31T23:30", 6, "2026-02-28T23:30"},
                                           MonthCase{"2025-10-31T00:00", 4, "2026-02-28T00:00"},
                                           MonthCase{"2025-12-31T23:59:59", 2,
                                                     "2026-02-28T23:59:59"},
                                           MonthCase{"2025-03-10T10:00", 10, "2026-01-10T10:00"},
                                           MonthCase{"2024-02-29T08:00", 12, "2025-02-28T08:00"},
                                           MonthCase{"2025-05-15T12:00", 0, "2025-05-15T12:00"}));

TEST(CalendarTest, AddMonthsWorksInTheProfileZoneNotUtc) {
  Calendar cst;
  // 2025-01-31 01:00 in China is 2025-01-30 17:00 UTC. In China's calendar +1 month clamps to 28
  // Feb 01:00; a UTC calendar would give 28 Feb 17:00 UTC = 1 Mar 01:00 China time.
  EXPECT_EQ(RenderTime(cst.AddMonths(T("2025-01-31T01:00"), 1)), "2025-02-28T01:00");
}

TEST(CalendarTest, YearsAreTwelveMonths) {
  Calendar cst;
  EXPECT_EQ(RenderTime(cst.AddYears(T("2024-02-29T09:00"), 1)), "2025-02-28T09:00");
  EXPECT_EQ(RenderTime(cst.AddYears(T("2025-03-10T10:00"), 3)), "2028-03-10T10:00");
}

TEST(CalendarTest, WorkingDaysSkipWeekends) {
  Calendar cst;
  EXPECT_EQ(RenderTime(cst.AddWorkingDays(T("2025-03-10T10:00"), 7)), "2025-03-19T10:00");  // Mon
  EXPECT_EQ(RenderTime(cst.AddWorkingDays(T("2025-03-07T10:00"), 7)), "2025-03-18T10:00");  // Fri
  EXPECT_EQ(RenderTime(cst.AddWorkingDays(T("2025-03-08T10:00"), 1)), "2025-03-10T10:00");  // Sat
  // Saturday 00:30 in China is Friday in UTC: the weekday is China's.
  EXPECT_EQ(RenderTime(cst.AddWorkingDays(T("2025-03-08T00:30"), 1)), "2025-03-10T00:30");
}

TEST(CalendarTest, Rfc3339NeedsAnOffset) {
  EXPECT_TRUE(ParseRfc3339("2025-01-02T09:00:00+08:00").ok());
  EXPECT_TRUE(ParseRfc3339("2025-01-02T01:00:00Z").ok());
  EXPECT_TRUE(ParseRfc3339("2025-01-02T09:00:00.250+08:00").ok());
  EXPECT_FALSE(ParseRfc3339("2025-01-02T09:00:00").ok());
  EXPECT_FALSE(ParseRfc3339("2025-01-02").ok());
  EXPECT_EQ(*ParseRfc3339("2025-01-02T09:00:00+08:00"), *ParseRfc3339("2025-01-02T01:00:00Z"));
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2025-01-02T01:00:00Z")), "2025-01-02T09:00:00+08:00");
}

// Issue 15 item 9: UTC as Protobuf's JSON mapping writes it (the decisions' and audit records'
// form), whatever offset the time was read with.
TEST(CalendarTest, FormatUtcWritesTimesAsProtobufDoes) {
  EXPECT_EQ(FormatUtc(*ParseRfc3339("2025-01-02T09:00:00+08:00")), "2025-01-02T01:00:00Z");
  EXPECT_EQ(FormatUtc(*ParseRfc3339("2025-01-02T09:00:00.25+08:00")), "2025-01-02T01:00:00.250Z");
  EXPECT_EQ(FormatUtc(*ParseRfc3339("2025-01-02T01:00:00.0000015Z")),
            "2025-01-02T01:00:00.000001500Z");
  EXPECT_EQ(FormatUtc(*ParseRfc3339("0001-01-01T00:00:00Z")), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(*ParseRfc3339("9999-12-31T23:59:59Z") + absl::Hours(24 * 31)),
            "10000-01-31T23:59:59Z");
}

// Issue 12 item 5: google.protobuf.Timestamp holds 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z;
// a time outside it once its offset is applied, or with anything after it, is refused.
TEST(CalendarTest, Rfc3339RefusesTimesOutsideTheTimestampRange) {
  EXPECT_TRUE(ParseRfc3339("9999-12-31T23:59:59.999999999Z").ok());
  EXPECT_TRUE(ParseRfc3339("9999-12-31T23:59:59+00:00").ok());
  EXPECT_TRUE(ParseRfc3339("0001-01-01T08:00:00+08:00").ok());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-12:00").ok());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:00:00-01:00").ok());
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00+00:01").ok());
  EXPECT_FALSE(ParseRfc3339("0000-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseRfc3339("10000-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339(std::string("2025-03-20T10:30:00Z\0garbage", 28)).ok());
  EXPECT_FALSE(ParseRfc3339("2025-03-20T10:30:00Z ").ok());
  EXPECT_FALSE(ParseRfc3339(" 2025-03-20T10:30:00Z").ok());
  // More fraction digits than nanoseconds hold would be cut silently.
  EXPECT_FALSE(ParseRfc3339("2025-03-20T10:30:00.1234567891Z").ok());
  const absl::StatusOr<absl::Time> late = ParseRfc3339("9999-12-31T23:59:59-12:00");
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("outside years 1-9999"), std::string::npos)
      << late.status();
}

// The calendar computes times inside years 1-9999 by arithmetic and the rest through absl's civil
// time: both must agree everywhere, in every zone a profile may name, at the edges of days, months,
// leap years and the range.
TEST(CalendarTest, ArithmeticAgreesWithAbsl) {
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int64_t> seconds(kMinTimestampSeconds - 86400 * 400,
                                                 kMaxTimestampSeconds + 86400 * 400);
  std::uniform_int_distribution<int> offsets(-12 * 60, 14 * 60), months(-2400, 2400),
      nanos(0, 999999999);
  std::vector<int64_t> instants = {0, -1, 1, 86399, 86400, -86400, -86401, 951782400,
                                   951868800, 4107542400, kMinTimestampSeconds,
                                   kMaxTimestampSeconds, -62135596800 + 86400 * 59};
  for (int i = 0; i < 200000; ++i) instants.push_back(seconds(rng));
  int checked = 0;
  for (size_t i = 0; i < instants.size(); ++i) {
    const int offset = i % 7 == 0 ? 480 : offsets(rng) / 15 * 15;
    const absl::TimeZone zone = absl::FixedTimeZone(offset * 60);
    const Calendar calendar(offset);
    const absl::Time t =
        absl::FromUnixSeconds(instants[i]) + absl::Nanoseconds(i % 3 ? nanos(rng) : 0);
    SCOPED_TRACE(absl::StrCat(FormatUtc(t), " offset ", offset));
    ASSERT_EQ(calendar.YearOf(t), absl::ToCivilYear(t, zone).year());
    ASSERT_EQ(calendar.DayOf(t), absl::ToCivilDay(t, zone));
    const absl::CivilDay day = absl::ToCivilDay(t, zone);
    ASSERT_EQ(calendar.StartOf(day), absl::FromCivil(day, zone));
    const int m = i % 5 == 0 ? 36 : months(rng);
    const absl::CivilSecond cs = absl::ToCivilSecond(t, zone);
    const absl::CivilMonth target = absl::CivilMonth(cs) + m;
    const int last = static_cast<int>(absl::CivilDay(target + 1) - absl::CivilDay(target));
    const absl::CivilSecond moved(target.year(), target.month(), std::min(cs.day(), last),
                                  cs.hour(), cs.minute(), cs.second());
    ASSERT_EQ(calendar.AddMonths(t, m),
              absl::FromCivil(moved, zone) + (t - absl::FromCivil(cs, zone)));
    const CivilFields c = CivilFromUnixSeconds(instants[i]);
    const absl::CivilSecond utc = absl::ToCivilSecond(absl::FromUnixSeconds(instants[i]),
                                                      absl::UTCTimeZone());
    ASSERT_EQ(absl::CivilSecond(c.year, c.month, c.day, c.hour, c.minute, c.second), utc);
    ++checked;
  }
  EXPECT_EQ(checked, 200013);
}

TEST(CalendarTest, ProtoRoundTripKeepsNanos) {
  const absl::Time t = *ParseRfc3339("2025-01-02T09:00:00.123456789+08:00");
  EXPECT_EQ(FromProto(ToProto(t)), t);
  const absl::Time before_epoch = *ParseRfc3339("1969-12-31T23:59:59.5Z");
  EXPECT_EQ(FromProto(ToProto(before_epoch)), before_epoch);
  EXPECT_GE(ToProto(before_epoch).nanos(), 0);
}

}  // namespace
}  // namespace claimgate::ledger
