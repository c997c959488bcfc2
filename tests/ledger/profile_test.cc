// Profiles are data: the builtin files load and validate; a new province is a new file.
#include "ledger/profile.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "tests/testing/events.h"

namespace claimgate::ledger {
namespace {

TEST(ProfileTest, BuiltinProfilesLoad) {
  auto set = ProfileSet::Builtin();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->Names(), (std::vector<std::string>{"guizhou", "hebei", "national", "tibet"}));
  for (const std::string& name : (*set)->Names()) {
    const Profile* p = (*set)->Find(name);
    EXPECT_EQ(p->calendar().utc_offset_minutes(), 480) << name;
    EXPECT_EQ(p->digest().size(), 64u) << name;
    EXPECT_EQ(p->Cumulative(12).kind, Sanction::Kind::kTerminate) << name;
    EXPECT_EQ(p->Cumulative(12).bar_years, 1) << name;
    EXPECT_EQ(p->Single(12).bar_years, 3) << name;
  }
  EXPECT_NE((*set)->Find("hebei")->digest(), (*set)->Find("national")->digest());
  EXPECT_EQ((*set)->Find("atlantis"), nullptr);
}

TEST(ProfileTest, SeverityOrder) {
  const Sanction none, s2{Sanction::Kind::kSuspend, 2, 0}, s4{Sanction::Kind::kSuspend, 4, 0},
      t1{Sanction::Kind::kTerminate, 0, 1}, t3{Sanction::Kind::kTerminate, 0, 3};
  EXPECT_TRUE(s2.MoreSevereThan(none));
  EXPECT_TRUE(s4.MoreSevereThan(s2));
  EXPECT_FALSE(s2.MoreSevereThan(s4));
  EXPECT_FALSE(s2.MoreSevereThan(s2));
  EXPECT_TRUE(t1.MoreSevereThan(s4));
  EXPECT_TRUE(t3.MoreSevereThan(t1));
  EXPECT_FALSE(none.MoreSevereThan(none));
}

TEST(ProfileTest, InvalidProfilesAreRefusedWithTheReason) {
  ProfileSet set;
  EXPECT_FALSE(set.AddText("a", "name: 'x' cumulative { points: 13 suspend_months: 1 }").ok());
  EXPECT_FALSE(set.AddText("b", "name: 'x' cumulative { points: 9 }").ok());
  EXPECT_FALSE(set.AddText("c", "name: 'x' cumulative { points: 5 suspend_months: 1 }").ok());
  EXPECT_FALSE(set.AddText("d",
                           "name: 'x' single { points: 9 suspend_months: 1 } "
                           "single { points: 9 suspend_months: 2 }")
                   .ok());
  EXPECT_FALSE(set.AddText("e", "name: 'x' traceability { from_date: '2025-13-01' }").ok());
  EXPECT_FALSE(set.AddText("f", "cumulative { points: 9 suspend_months: 1 }").ok());  // no name
  const absl::Status s = set.AddText("g.textproto", "name: 'x' no_such_field: 1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("g.textproto"), absl::string_view::npos);
}

TEST(ProfileTest, ANewProvinceIsANewFile) {
  const std::string dir = ::testing::TempDir() + "/profiles_new_province";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/shangri.textproto") << R"(
    # A made-up province: cumulative 9 suspends for 1 month only.
    name: "shangri"
    utc_offset_minutes: 480
    cumulative { points: 9 suspend_months: 1 }
    cumulative { points: 12 terminate_bar_years: 2 }
  )";
  auto set = ProfileSet::Builtin();
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE((*set)->AddDirectory(dir).ok());
  ASSERT_NE((*set)->Find("shangri"), nullptr);

  auto ledger = Ledger::Create(set->get(), "shangri");
  ASSERT_TRUE(ledger.ok());
  testing::EventBuilder ev;
  (*ledger)->Apply(ev.Register("D1", "H1", "2025-01-02T09:00"));
  (*ledger)->Apply(ev.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  const v1::PersonStatus* p = (*ledger)->FindPerson("D1");
  ASSERT_EQ(p->suspensions_size(), 1);
  EXPECT_EQ(FromProto(p->suspensions(0).until()), testing::T("2025-04-10T10:00"));
  EXPECT_FALSE((*set)->AddDirectory(dir + "/missing").ok());
}

}  // namespace
}  // namespace claimgate::ledger
