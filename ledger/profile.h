// Policy profiles: one jurisdiction's rule tables, loaded from Protobuf text files
// (ledger/profiles/*.textproto, built into the binary; more from a directory at run time). A new
// province is a new file.
#ifndef CLAIMGATE_LEDGER_PROFILE_H_
#define CLAIMGATE_LEDGER_PROFILE_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claimgate/v1/policy.pb.h"
#include "ledger/calendar.h"

namespace claimgate::ledger {

// A sanction a table row calls for. `kind == kNone` means the row gives none.
struct Sanction {
  enum class Kind { kNone, kSuspend, kTerminate };
  Kind kind = Kind::kNone;
  int months = 0;     // kSuspend
  int bar_years = 0;  // kTerminate

  // Termination over suspension; the longer bar or suspension over the shorter.
  bool MoreSevereThan(const Sanction& other) const;
};

// One validated profile. Immutable after loading; safe to share between threads.
class Profile {
 public:
  static constexpr int kMaxPoints = 12;
  static constexpr int kSuspensionTier = 9;  // totals 9, 10, 11, 12 are tiers of their own

  static absl::StatusOr<std::unique_ptr<Profile>> FromProto(v1::PolicyProfile proto);

  const v1::PolicyProfile& proto() const { return proto_; }
  const std::string& name() const { return proto_.name(); }
  // sha256 (hex) of the profile's deterministic Protobuf bytes: what the audit record cites.
  const std::string& digest() const { return digest_; }
  const Calendar& calendar() const { return calendar_; }

  const Sanction& Single(int points) const;
  const Sanction& Cumulative(int total) const;

  bool IsFraud(absl::string_view violation) const;
  // The points fraud carries for a responsibility; nullopt when the profile names none.
  std::optional<int> FraudPoints(v1::ScoreAssessed::Responsibility r) const;
  bool NeedsReview(int points, bool first_in_region) const;
  // The band notice for a year total, or nullptr.
  const std::string* NoticeFor(int total) const;
  // Whether the traceability mandate (无码不付) covers an institution at `service_time`.
  bool TraceabilityMandated(v1::InstitutionRegistered::Kind kind, int level,
                            absl::Time service_time) const;

  // Release 2 settings (SPEC §8), defaults applied.
  bool insured_emergency_exempt() const { return insured_emergency_exempt_; }
  bool settlement_suspension_emergency_exempt() const {
    return settlement_suspension_emergency_exempt_;
  }
  // Whether codes on an item of `category` settle and are checked for duplicates (§8.3).
  bool SettlesCodes(int category) const {
    return category >= 0 && category < 32 && (code_categories_ >> category & 1u) != 0;
  }
  bool duplicate_code_rejects() const {
    return proto_.duplicate_code_action() == v1::PolicyProfile::REJECT;
  }
  int code_retention_years() const { return code_retention_years_; }
  absl::Duration future_service_tolerance() const { return future_service_tolerance_; }
  // §8.5; nullopt: off.
  std::optional<double> sanctioned_staff_ratio() const {
    if (!proto_.has_sanctioned_staff_ratio()) return std::nullopt;
    return proto_.sanctioned_staff_ratio();
  }

 private:
  explicit Profile(v1::PolicyProfile proto);
  static absl::Status FillRelease2(const v1::PolicyProfile& pp, Profile& p);

  struct Mandate {
    std::vector<int> kinds;
    std::optional<int> min_level, max_level;
    absl::Time from;
  };

  v1::PolicyProfile proto_;
  std::string digest_;
  Calendar calendar_;
  std::array<Sanction, kMaxPoints + 1> single_{};
  std::array<Sanction, kMaxPoints + 1> cumulative_{};
  std::vector<Mandate> mandates_;
  bool insured_emergency_exempt_ = true;
  bool settlement_suspension_emergency_exempt_ = true;
  uint32_t code_categories_ = 0;  // bit per v1::Claim::Item::Category
  int code_retention_years_ = 3;
  absl::Duration future_service_tolerance_ = absl::Minutes(10);
};

// The profiles known to a process. Not thread-safe while loading; read-only use is thread-safe.
class ProfileSet {
 public:
  // The profiles built into the binary (national, hebei, tibet, guizhou).
  static absl::StatusOr<std::unique_ptr<ProfileSet>> Builtin();

  // Parses one profile in Protobuf text format and adds it, replacing a profile of the same name.
  // InvalidArgument with the source name and the reason when the text or a table is invalid.
  absl::Status AddText(absl::string_view source, absl::string_view text);
  // Adds every `*.textproto` in `dir`. NotFound when `dir` is not a readable directory.
  absl::Status AddDirectory(const std::string& dir);

  // nullptr when no profile has that name.
  const Profile* Find(absl::string_view name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::unique_ptr<Profile>, std::less<>> profiles_;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_PROFILE_H_
