// Loading and validating policy profiles.
#include "ledger/profile.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "ledger/digest.h"

namespace claimgate::ledger {

extern const std::pair<const char*, const char*> kEmbeddedProfiles[];

namespace {

absl::Status Invalid(const v1::PolicyProfile& p, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("profile '", p.name(), "': ", what));
}

absl::StatusOr<Sanction> ToSanction(const v1::PolicyProfile& p, const v1::SanctionRule& r) {
  Sanction s;
  switch (r.action_case()) {
    case v1::SanctionRule::kSuspendMonths:
      if (r.suspend_months() <= 0) return Invalid(p, "suspend_months must be positive");
      s.kind = Sanction::Kind::kSuspend;
      s.months = r.suspend_months();
      return s;
    case v1::SanctionRule::kTerminateBarYears:
      if (r.terminate_bar_years() < 0) return Invalid(p, "terminate_bar_years must be >= 0");
      s.kind = Sanction::Kind::kTerminate;
      s.bar_years = r.terminate_bar_years();
      return s;
    case v1::SanctionRule::ACTION_NOT_SET:
      break;
  }
  return Invalid(p, absl::StrCat("rule for ", r.points(), " points has no action"));
}

absl::Status FillTable(const v1::PolicyProfile& p,
                       const google::protobuf::RepeatedPtrField<v1::SanctionRule>& rules,
                       std::array<Sanction, Profile::kMaxPoints + 1>& table) {
  for (const v1::SanctionRule& r : rules) {
    if (r.points() < 1 || r.points() > Profile::kMaxPoints) {
      return Invalid(p, absl::StrCat("sanction rule points ", r.points(), " outside 1..12"));
    }
    if (table[r.points()].kind != Sanction::Kind::kNone) {
      return Invalid(p, absl::StrCat("two sanction rules for ", r.points(), " points"));
    }
    absl::StatusOr<Sanction> s = ToSanction(p, r);
    if (!s.ok()) return s.status();
    table[r.points()] = *s;
  }
  return absl::OkStatus();
}

}  // namespace

bool Sanction::MoreSevereThan(const Sanction& other) const {
  if (kind != other.kind) {
    // kTerminate > kSuspend > kNone.
    return static_cast<int>(kind) > static_cast<int>(other.kind);
  }
  switch (kind) {
    case Kind::kNone:
      return false;
    case Kind::kSuspend:
      return months > other.months;
    case Kind::kTerminate:
      return bar_years > other.bar_years;
  }
  return false;
}

absl::Status Profile::FillRelease2(const v1::PolicyProfile& pp, Profile& p) {
  p.insured_emergency_exempt_ =
      !pp.has_insured_emergency_exempt() || pp.insured_emergency_exempt();
  p.settlement_suspension_emergency_exempt_ = !pp.has_settlement_suspension_emergency_exempt() ||
                                              pp.settlement_suspension_emergency_exempt();
  p.code_categories_ = 0;
  for (int c : pp.traceability_categories()) {
    if (c == v1::Claim::Item::CATEGORY_UNSPECIFIED || !v1::Claim::Item::Category_IsValid(c)) {
      return Invalid(pp, "traceability_categories names no category");
    }
    p.code_categories_ |= 1u << c;
  }
  if (p.code_categories_ == 0) p.code_categories_ = 1u << v1::Claim::Item::DRUG;
  if (pp.has_code_retention_years()) {
    if (pp.code_retention_years() < 1 || pp.code_retention_years() > 100) {
      return Invalid(pp, "code_retention_years outside 1..100");
    }
    p.code_retention_years_ = pp.code_retention_years();
  }
  if (pp.has_future_service_tolerance()) {
    const auto& d = pp.future_service_tolerance();
    if (d.seconds() < 0 || d.nanos() < 0 || d.seconds() > 366LL * 86400) {
      return Invalid(pp, "future_service_tolerance outside 0..366 days");
    }
    p.future_service_tolerance_ = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
  }
  if (pp.has_sanctioned_staff_ratio() &&
      !(pp.sanctioned_staff_ratio() >= 0 && pp.sanctioned_staff_ratio() <= 1)) {
    return Invalid(pp, "sanctioned_staff_ratio outside 0..1");
  }
  return absl::OkStatus();
}

Profile::Profile(v1::PolicyProfile proto)
    : proto_(std::move(proto)), calendar_(proto_.utc_offset_minutes()) {}

absl::StatusOr<std::unique_ptr<Profile>> Profile::FromProto(v1::PolicyProfile proto) {
  if (proto.name().empty()) return absl::InvalidArgumentError("profile without a name");
  if (proto.utc_offset_minutes() < -14 * 60 || proto.utc_offset_minutes() > 14 * 60) {
    return Invalid(proto, "utc_offset_minutes outside -840..840");
  }
  std::unique_ptr<Profile> p(new Profile(std::move(proto)));
  const v1::PolicyProfile& pp = p->proto_;
  if (absl::Status s = FillTable(pp, pp.single(), p->single_); !s.ok()) return s;
  if (absl::Status s = FillTable(pp, pp.cumulative(), p->cumulative_); !s.ok()) return s;
  for (const v1::SanctionRule& r : pp.cumulative()) {
    if (r.points() < kSuspensionTier) {
      return Invalid(pp, "cumulative rules start at the suspension tier (9)");
    }
  }
  for (const v1::FraudPoints& f : pp.fraud_points()) {
    if (f.points() < 1 || f.points() > kMaxPoints) return Invalid(pp, "fraud points outside 1..12");
  }
  for (const v1::NoticeRule& n : pp.notices()) {
    if (n.min_total() > n.max_total() || n.min_total() < 0 || n.notice().empty()) {
      return Invalid(pp, "notice rule needs 0 <= min_total <= max_total and a notice code");
    }
  }
  for (const v1::TraceabilityMandate& m : pp.traceability()) {
    absl::StatusOr<absl::CivilDay> day = ParseCivilDay(m.from_date());
    if (!day.ok()) return Invalid(pp, day.status().message());
    Mandate mandate;
    for (int k : m.kinds()) mandate.kinds.push_back(k);
    if (m.has_min_level()) mandate.min_level = m.min_level();
    if (m.has_max_level()) mandate.max_level = m.max_level();
    mandate.from = p->calendar_.StartOf(*day);
    p->mandates_.push_back(std::move(mandate));
  }
  if (absl::Status s = FillRelease2(pp, *p); !s.ok()) return s;
  p->digest_ = Sha256Hex(DeterministicBytes(pp));
  return p;
}

const Sanction& Profile::Single(int points) const {
  static const Sanction kNone;
  return points >= 1 && points <= kMaxPoints ? single_[points] : kNone;
}

const Sanction& Profile::Cumulative(int total) const {
  static const Sanction kNone;
  return total >= 1 && total <= kMaxPoints ? cumulative_[total] : kNone;
}

bool Profile::IsFraud(absl::string_view violation) const {
  return !proto_.fraud_violation().empty() && violation == proto_.fraud_violation();
}

std::optional<int> Profile::FraudPoints(v1::ScoreAssessed::Responsibility r) const {
  for (const v1::FraudPoints& f : proto_.fraud_points()) {
    if (f.responsibility() == r) return f.points();
  }
  return std::nullopt;
}

bool Profile::NeedsReview(int points, bool first_in_region) const {
  const v1::ReviewRule& review = proto_.review();
  if (review.first_in_region() && first_in_region) return true;
  return review.min_single_points() > 0 && points >= review.min_single_points();
}

const std::string* Profile::NoticeFor(int total) const {
  for (const v1::NoticeRule& n : proto_.notices()) {
    if (total >= n.min_total() && total <= n.max_total()) return &n.notice();
  }
  return nullptr;
}

bool Profile::TraceabilityMandated(v1::InstitutionRegistered::Kind kind, int level,
                                   absl::Time service_time) const {
  for (const Mandate& m : mandates_) {
    if (service_time < m.from) continue;
    if (!m.kinds.empty() &&
        std::find(m.kinds.begin(), m.kinds.end(), static_cast<int>(kind)) == m.kinds.end()) {
      continue;
    }
    if (m.min_level && level < *m.min_level) continue;
    if (m.max_level && level > *m.max_level) continue;
    return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<ProfileSet>> ProfileSet::Builtin() {
  auto set = std::make_unique<ProfileSet>();
  for (const auto* e = kEmbeddedProfiles; e->first != nullptr; ++e) {
    if (absl::Status s = set->AddText(e->first, e->second); !s.ok()) return s;
  }
  return set;
}

absl::Status ProfileSet::AddText(absl::string_view source, absl::string_view text) {
  v1::PolicyProfile proto;
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string errors;
    void AddError(int line, int column, const std::string& message) override {
      absl::StrAppend(&errors, "line ", line + 1, ":", column + 1, ": ", message, "; ");
    }
  } collector;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", collector.errors));
  }
  absl::StatusOr<std::unique_ptr<Profile>> profile = Profile::FromProto(std::move(proto));
  if (!profile.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", profile.status().message()));
  }
  std::string name = (*profile)->name();
  profiles_[name] = std::move(*profile);
  return absl::OkStatus();
}

absl::Status ProfileSet::AddDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec)
    return absl::NotFoundError(absl::StrCat("profiles directory '", dir, "': ", ec.message()));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : it) {
    if (entry.path().extension() == ".textproto") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
    std::stringstream text;
    text << in.rdbuf();
    if (absl::Status s = AddText(path.string(), text.str()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

const Profile* ProfileSet::Find(absl::string_view name) const {
  auto it = profiles_.find(name);  // std::less<>: no string built per lookup
  return it == profiles_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProfileSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : profiles_) names.push_back(name);
  return names;
}

}  // namespace claimgate::ledger
