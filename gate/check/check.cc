// The file path: one in-process ledger, one decision core, JSON Lines in and out.
#include "gate/check/check.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gate/audit/audit_chain.h"
#include "gate/codes.h"
#include "gate/store/code_store.h"
#include "gate/decision.h"
#include "gate/ledger_lookup.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/ledger.h"

#ifndef CLAIMGATE_VERSION
#define CLAIMGATE_VERSION "dev"
#endif

namespace claimgate::gate {
namespace {

void WriteRefusal(std::ostream& err, const std::string& event_id, v1::LedgerError error,
                  absl::string_view message, int64_t line) {
  v1::Refusal r;
  r.set_event_id(event_id);
  r.set_error(error);
  r.set_message(std::string(message));
  r.set_line(static_cast<int32_t>(line));
  err << ledger::ToJson(r, /*print_defaults=*/true) << '\n';
}

}  // namespace

absl::StatusOr<bool> Reverse(const v1::Event& event, const DecisionContext& ctx,
                             ClaimCodeBook& book, v1::Decision* out) {
  absl::StatusOr<std::optional<std::vector<std::string>>> released =
      book.Reverse(event.claim_reversed().claim_id());
  if (!released.ok()) return released.status();
  if (!released->has_value()) return false;
  ToReversalProto(event, **released, ctx, out);
  return true;
}

const std::string& GateVersion() {
  static const std::string kVersion = absl::StrCat("claimgate/", CLAIMGATE_VERSION);
  return kVersion;
}

namespace {

// One run of the file path: the ledger, the code book and the output chain, fed line by line.
class FileRun {
 public:
  FileRun(std::ostream& out, std::ostream& err, const CheckOptions& options, Clock& clock)
      : out_(out), err_(err), options_(options), clock_(clock) {}

  absl::Status Open(const ledger::ProfileSet& profiles) {
    absl::StatusOr<std::unique_ptr<ledger::Ledger>> created =
        ledger::Ledger::Create(&profiles, options_.default_profile);
    if (!created.ok()) return created.status();
    ledger_ = std::move(*created);
    lookup_ = std::make_unique<LedgerLookup>(ledger_.get());
    ctx_.profiles = &profiles;
    ctx_.default_profile = &ledger_->default_profile();
    ctx_.shadow = options_.shadow;
    ctx_.gate_version = GateVersion();
    ctx_.source.set_file(options_.source_file);
    // The traceability codes the input's claims settled (SPEC §8.3): in memory, or on disk.
    if (options_.codes_dir.empty()) {
      book_ = std::make_unique<CodeBook>();
    } else {
      CodeStoreOptions so;
      so.path = options_.codes_dir;
      so.block_cache_bytes = options_.codes_cache_bytes;
      absl::StatusOr<std::unique_ptr<CodeStore>> opened = CodeStore::Open(so);
      if (!opened.ok()) return opened.status();
      code_store_ = std::move(*opened);
      book_ = std::make_unique<StoredCodeBook>(code_store_.get());
    }
    ctx_.codes = book_.get();
    return absl::OkStatus();
  }

  // One input line. An error only when the environment fails (the code store); a bad line is
  // refused on `err` and the run goes on.
  absl::Status Line(const std::string& line) {
    ++summary_.lines;
    if (absl::StripAsciiWhitespace(line).empty()) return absl::OkStatus();
    v1::Event event;
    if (absl::Status s = ledger::ParseEventJson(line, &event); !s.ok()) {
      ++summary_.malformed;
      ++summary_.refusals["MALFORMED"];
      WriteRefusal(err_, event.event_id(), v1::MALFORMED, s.message(), summary_.lines);
      return absl::OkStatus();
    }
    if (ledger::IsLedgerEvent(event)) {
      ApplyLedgerEvent(event);
      return absl::OkStatus();
    }
    ctx_.ledger_position = ledger_->position();
    ctx_.event_id = event.event_id();
    ctx_.source.set_offset(summary_.lines);
    ctx_.processing_time = clock_.Now();
    v1::Decision decision;
    absl::StatusOr<bool> decided =
        event.has_claim_reversed() ? ReverseClaim(event, &decision) : DecideClaim(event, &decision);
    if (!decided.ok() || !*decided) return decided.status();
    ChainAudit(decision.mutable_audit(), &chain_);
    out_ << ledger::ToJson(decision) << '\n';
    return absl::OkStatus();
  }

  const CheckSummary& summary() const { return summary_; }

 private:
  void ApplyLedgerEvent(const v1::Event& event) {
    ++summary_.ledger_events;
    const ledger::ApplyResult applied = ledger_->Apply(event);
    if (applied.refused) {
      ++summary_.ledger_refused;
      ++summary_.refusals[v1::LedgerError_Name(applied.error)];
      WriteRefusal(err_, event.event_id(), applied.error, applied.message, summary_.lines);
    }
    for (const v1::LedgerNotice& n : applied.notices) {
      if (n.notice() != "EVENT_REFUSED") ++summary_.notices[n.notice()];
      if (options_.notices != nullptr) *options_.notices << ledger::ToJson(n) << '\n';
    }
  }

  absl::StatusOr<bool> DecideClaim(const v1::Event& event, v1::Decision* decision) {
    ++summary_.claims;
    ViewEvent(event, &view_);
    if (absl::Status s = book_->Prepare(view_); !s.ok()) return s;
    DecideView(view_, *lookup_, ctx_, &result_);
    ToDecisionProto(view_, result_, ctx_, decision);
    if (absl::Status s = book_->Record(view_, result_.settled_codes, *result_.profile); !s.ok())
      return s;
    CountDecision(decision->outcome(), decision->reasons(), &summary_.outcomes,
                  &summary_.reasons);
    return true;
  }

  // False (and refused UNKNOWN_CLAIM) when there is nothing to reverse.
  absl::StatusOr<bool> ReverseClaim(const v1::Event& event, v1::Decision* decision) {
    absl::StatusOr<bool> reversed = Reverse(event, ctx_, *book_, decision);
    if (!reversed.ok()) return reversed.status();  // the code store failed: not the input's fault
    if (!*reversed) {
      ++summary_.refusals["UNKNOWN_CLAIM"];
      WriteRefusal(err_, event.event_id(), v1::UNKNOWN_CLAIM,
                   absl::StrCat("claim '", event.claim_reversed().claim_id(),
                                "' unknown or reversed before"),
                   summary_.lines);
      return false;
    }
    ++summary_.reversals;
    ++summary_.outcomes["REVERSED"];
    return true;
  }

  std::ostream& out_;
  std::ostream& err_;
  const CheckOptions& options_;
  Clock& clock_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<LedgerLookup> lookup_;
  std::unique_ptr<CodeStore> code_store_;  // when codes_dir is set; before book_, which uses it
  std::unique_ptr<ClaimCodeBook> book_;
  DecisionContext ctx_;
  ClaimView view_;
  DecisionResult result_;
  CheckSummary summary_;
  ChainHead chain_;  // the output's audit records form one hash chain
};

}  // namespace

absl::StatusOr<CheckSummary> RunCheck(std::istream& in, std::ostream& out, std::ostream& err,
                                      const ledger::ProfileSet& profiles,
                                      const CheckOptions& options, Clock& clock) {
  FileRun run(out, err, options, clock);
  if (absl::Status s = run.Open(profiles); !s.ok()) return s;
  std::string line;
  while (std::getline(in, line)) {
    if (absl::Status s = run.Line(line); !s.ok()) return s;
  }
  if (in.bad()) return absl::DataLossError("reading the input failed");
  return run.summary();
}

std::string FormatSummary(const CheckSummary& s) {
  std::string out;
  absl::StrAppendFormat(&out, "%-36s %10d\n", "input lines", s.lines);
  absl::StrAppendFormat(&out, "%-36s %10d\n", "ledger events", s.ledger_events);
  absl::StrAppendFormat(&out, "%-36s %10d\n", "ledger events refused", s.ledger_refused);
  absl::StrAppendFormat(&out, "%-36s %10d\n", "malformed lines", s.malformed);
  absl::StrAppendFormat(&out, "%-36s %10d\n", "claims decided", s.claims);
  absl::StrAppendFormat(&out, "%-36s %10d\n", "claims reversed", s.reversals);
  auto section = [&out](absl::string_view title, const std::map<std::string, int64_t>& rows) {
    absl::StrAppendFormat(&out, "\n%-36s %10s\n", title, "count");
    absl::StrAppend(&out, std::string(47, '-'), "\n");
    if (rows.empty()) absl::StrAppendFormat(&out, "%-36s %10d\n", "(none)", 0);
    for (const auto& [name, count] : rows) absl::StrAppendFormat(&out, "%-36s %10d\n", name, count);
  };
  section("claims by outcome", s.outcomes);
  section("claims by reason", s.reasons);
  section("refused lines by error", s.refusals);
  section("ledger notices", s.notices);
  return out;
}

}  // namespace claimgate::gate
