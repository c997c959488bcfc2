// Flattening a PersonStatus.
#include "ledger/person_record.h"

#include <limits>

#include "ledger/calendar.h"

namespace claimgate::ledger {
namespace {

size_t Align8(size_t n) { return (n + 7) & ~size_t{7}; }

int64_t Nanos(const google::protobuf::Timestamp& ts, bool present) {
  return present ? PersonRecord::ToNanos(FromProto(ts)) : PersonRecord::kOpen;
}

}  // namespace

int64_t PersonRecord::ToNanos(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kOpen;
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  const absl::Duration d = t - absl::UnixEpoch();
  // absl saturates out-of-range conversions to the int64 limits.
  const int64_t n = absl::ToInt64Nanoseconds(d);
  return n == kOpen ? kOpen - 1 : n;
}

absl::Time PersonRecord::FromNanos(int64_t n) {
  if (n == kOpen) return absl::InfiniteFuture();
  if (n == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return absl::UnixEpoch() + absl::Nanoseconds(n);
}

void PersonRecord::Assign(const v1::PersonStatus& s) {
  Header h{};
  h.count[0] = static_cast<uint32_t>(s.registrations_size());
  h.count[1] = static_cast<uint32_t>(s.suspensions_size());
  h.count[2] = static_cast<uint32_t>(s.terminations_size());
  h.count[3] = static_cast<uint32_t>(s.points_size());
  h.ledger_position = s.ledger_position();
  size_t at = Align8(sizeof(Header));
  h.offset[0] = static_cast<uint32_t>(at);
  at += h.count[0] * sizeof(Registration);
  h.offset[1] = static_cast<uint32_t>(at);
  at += h.count[1] * sizeof(Suspension);
  h.offset[2] = static_cast<uint32_t>(at);
  at += h.count[2] * sizeof(Termination);
  h.offset[3] = static_cast<uint32_t>(at);
  at += h.count[3] * sizeof(YearTotal);
  size_t strings = s.person_id().size();
  for (const auto& r : s.registrations()) strings += r.institution_id().size();

  blob_.assign(at + strings, '\0');
  char* base = blob_.data();
  size_t str_at = at;
  auto put_string = [&](const std::string& v, uint32_t* offset, auto* size) {
    *offset = static_cast<uint32_t>(str_at);
    *size = static_cast<std::remove_pointer_t<decltype(size)>>(v.size());
    std::memcpy(base + str_at, v.data(), v.size());
    str_at += v.size();
  };
  put_string(s.person_id(), &h.id_offset, &h.id_size);
  std::memcpy(base, &h, sizeof(h));

  auto* regs = reinterpret_cast<Registration*>(base + h.offset[0]);
  for (int i = 0; i < s.registrations_size(); ++i) {
    const auto& r = s.registrations(i);
    Registration& out = regs[i];
    out.since = Nanos(r.since(), true);
    out.until = Nanos(r.until(), r.has_until());
    out.committed_at = Nanos(r.committed_at(), r.has_committed_at());
    out.role = static_cast<uint16_t>(r.role());
    put_string(r.institution_id(), &out.institution_offset, &out.institution_size);
  }
  auto* susp = reinterpret_cast<Suspension*>(base + h.offset[1]);
  for (int i = 0; i < s.suspensions_size(); ++i) {
    susp[i] = {Nanos(s.suspensions(i).since(), true),
               Nanos(s.suspensions(i).until(), s.suspensions(i).has_until())};
  }
  auto* terms = reinterpret_cast<Termination*>(base + h.offset[2]);
  for (int i = 0; i < s.terminations_size(); ++i) {
    terms[i] = {Nanos(s.terminations(i).since(), true), Nanos(s.terminations(i).bar_until(), true)};
  }
  auto* pts = reinterpret_cast<YearTotal*>(base + h.offset[3]);
  for (int i = 0; i < s.points_size(); ++i) {
    pts[i] = {Nanos(s.points(i).since(), true), s.points(i).year(), s.points(i).total()};
  }
}

}  // namespace claimgate::ledger
