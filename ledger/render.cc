// Text renderings of status records.
#include "ledger/render.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace claimgate::ledger {
namespace {

std::string Cause(v1::SanctionCause c) {
  switch (c) {
    case v1::POINTS_SINGLE:
      return "single";
    case v1::POINTS_CUMULATIVE:
      return "cumulative";
    case v1::AGREEMENT:
      return "agreement";
    case v1::SANCTION_CAUSE_UNSPECIFIED:
      return "?";
    case v1::SanctionCause_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::SanctionCause_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return "?";
}

}  // namespace

std::string RenderTime(absl::Time t, int offset) {
  if (t == absl::InfiniteFuture()) return "";
  if (t == absl::InfinitePast()) return "";
  const absl::TimeZone zone = absl::FixedTimeZone(offset * 60);
  const absl::CivilSecond cs = absl::ToCivilSecond(t, zone);
  return absl::FormatTime(cs.second() == 0 ? "%Y-%m-%dT%H:%M" : "%Y-%m-%dT%H:%M:%S", t, zone);
}

std::string RenderPerson(const v1::PersonStatus& p, int offset) {
  auto time = [offset](const google::protobuf::Timestamp& ts) {
    return RenderTime(FromProto(ts), offset);
  };
  std::vector<std::string> parts = {p.person_id()};
  std::vector<std::string> regs;
  for (const auto& r : p.registrations()) {
    std::string s = absl::StrCat(r.institution_id(), " ", time(r.since()), "..",
                                 r.has_until() ? time(r.until()) : "");
    if (r.has_committed_at()) absl::StrAppend(&s, " c", time(r.committed_at()));
    regs.push_back(std::move(s));
  }
  if (!regs.empty()) parts.push_back(absl::StrCat("reg[", absl::StrJoin(regs, "; "), "]"));
  std::vector<std::string> susp;
  for (const auto& s : p.suspensions()) {
    susp.push_back(absl::StrCat(time(s.since()), "..", s.has_until() ? time(s.until()) : "", " ",
                                Cause(s.cause()), ":", s.source_id()));
  }
  if (!susp.empty()) parts.push_back(absl::StrCat("susp[", absl::StrJoin(susp, "; "), "]"));
  std::vector<std::string> terms;
  for (const auto& t : p.terminations()) {
    terms.push_back(absl::StrCat(time(t.since()), " bar..", time(t.bar_until()), " ",
                                 Cause(t.cause()), ":", t.source_id()));
  }
  if (!terms.empty()) parts.push_back(absl::StrCat("term[", absl::StrJoin(terms, "; "), "]"));
  std::vector<std::string> pts;
  for (const auto& y : p.points()) {
    pts.push_back(absl::StrCat(y.year(), "=", y.total(), "@", time(y.since())));
  }
  if (!pts.empty()) parts.push_back(absl::StrCat("pts[", absl::StrJoin(pts, " "), "]"));
  return absl::StrJoin(parts, " ");
}

std::string RenderInstitution(const v1::InstitutionStatus& i, int offset) {
  std::string s =
      absl::StrCat(i.institution_id(), " ", v1::InstitutionRegistered::Kind_Name(i.kind()), "/",
                   i.level(), " ", i.region(), " ", i.profile());
  std::vector<std::string> periods;
  for (const auto& a : i.agreement()) {
    periods.push_back(absl::StrCat(v1::AgreementChanged::State_Name(a.state()), "@",
                                   RenderTime(FromProto(a.since()), offset)));
  }
  if (!periods.empty()) absl::StrAppend(&s, " agreement[", absl::StrJoin(periods, " "), "]");
  return s;
}

}  // namespace claimgate::ledger
