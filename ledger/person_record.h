// A person's status timeline as one flat, immutable block of bytes: what the gate's hot tier holds
// and the decision reads. Same content as a v1::PersonStatus (less the causes and sources of
// sanctions, which no decision reads), in one allocation with fixed-size arrays, so a lookup
// touches one or two cache lines instead of a tree of messages.
//
// Times are int64 nanoseconds since the Unix epoch; kOpen marks an open end. Instants beyond the
// years 1678..2262 saturate (ledger times are decades from now at most).
#ifndef CLAIMGATE_LEDGER_PERSON_RECORD_H_
#define CLAIMGATE_LEDGER_PERSON_RECORD_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "claimgate/v1/status.pb.h"

namespace claimgate::ledger {

class PersonRecord {
 public:
  static constexpr int64_t kOpen =
      INT64_MAX;  // an open end (until, bar_until) or "none" (committed_at)

  struct Registration {
    int64_t since;
    int64_t until;         // kOpen: not deregistered
    int64_t committed_at;  // kOpen: no commitment counts
    uint32_t institution_offset;
    uint16_t institution_size;
    uint16_t role;
  };
  struct Suspension {
    int64_t since;
    int64_t until;  // kOpen: open (agreement suspension not lifted)
  };
  struct Termination {
    int64_t since;
    int64_t bar_until;
  };
  struct YearTotal {
    int64_t since;
    int32_t year;
    int32_t total;
  };

  PersonRecord() = default;
  explicit PersonRecord(const v1::PersonStatus& status) { Assign(status); }
  void Assign(const v1::PersonStatus& status);

  absl::string_view person_id() const { return Str(header().id_offset, header().id_size); }
  absl::Span<const Registration> registrations() const { return Array<Registration>(0); }
  absl::Span<const Suspension> suspensions() const { return Array<Suspension>(1); }
  absl::Span<const Termination> terminations() const { return Array<Termination>(2); }
  absl::Span<const YearTotal> points() const { return Array<YearTotal>(3); }
  absl::string_view institution(const Registration& r) const {
    return Str(r.institution_offset, r.institution_size);
  }
  int64_t ledger_position() const { return header().ledger_position; }

  // Bytes held (for the hot tier's bound).
  size_t SpaceUsed() const { return sizeof(*this) + blob_.capacity(); }
  const std::string& bytes() const { return blob_; }

  static int64_t ToNanos(absl::Time t);
  static absl::Time FromNanos(int64_t n);

 private:
  struct Header {
    uint32_t count[4];   // registrations, suspensions, terminations, points
    uint32_t offset[4];  // byte offsets of the arrays
    uint32_t id_offset;
    uint32_t id_size;
    int64_t ledger_position;
  };
  const Header& header() const { return *reinterpret_cast<const Header*>(blob_.data()); }
  template <typename T>
  absl::Span<const T> Array(int i) const {
    if (blob_.empty()) return {};
    return absl::Span<const T>(reinterpret_cast<const T*>(blob_.data() + header().offset[i]),
                               header().count[i]);
  }
  absl::string_view Str(uint32_t offset, uint32_t size) const {
    return blob_.empty() ? absl::string_view() : absl::string_view(blob_.data() + offset, size);
  }

  // 8-byte aligned: std::string's buffer comes from operator new (16-aligned) and every array
  // offset is a multiple of 8.
  std::string blob_;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_PERSON_RECORD_H_
