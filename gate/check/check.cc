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
#include "gate/decision_json.h"
#include "gate/ledger_lookup.h"
#include "gate/replay/json_lines.h"
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
    // The fast reader takes a claim line when it reads as the strict reader would; any other
    // line (and any it cannot take) goes the strict way below.
    if (options_.fast_path && reader_.Classify(line) == LineKind::kClaim &&
        reader_.ReadClaim(line, &view_, &read_error_)) {
      ++summary_.claims;
      return DecideClaim();
    }
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
    if (event.has_claim()) {
      ++summary_.claims;
      ViewEvent(event, &view_);
      return DecideClaim();
    }
    SetContext(event.event_id());
    v1::Decision decision;
    absl::StatusOr<bool> decided = ReverseClaim(event, &decision);
    if (!decided.ok() || !*decided) return decided.status();
    ChainAudit(decision.mutable_audit(), &chain_);
    out_ << ledger::ToJson(decision) << '\n';
    return absl::OkStatus();
  }

  const CheckSummary& summary() const { return summary_; }

  // Leaves the in-memory state to the process's exit (CheckOptions::free_state).
  void Abandon() {
    if (code_store_ != nullptr) return;
    lookup_.reset();
    (void)ledger_.release();
    ctx_.codes = nullptr;
    (void)book_.release();
  }

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

  void SetContext(absl::string_view event_id) {
    ctx_.ledger_position = ledger_->position();
    ctx_.event_id.assign(event_id.data(), event_id.size());
    ctx_.source.set_offset(summary_.lines);
    ctx_.processing_time = clock_.Now();
  }

  // Decides the claim in view_ and prints its decision line, chained.
  absl::Status DecideClaim() {
    SetContext(view_.event_id);
    if (absl::Status s = book_->Prepare(view_); !s.ok()) return s;
    DecideView(view_, *lookup_, ctx_, &result_);
    line_.clear();
    if (!options_.fast_path || !AppendChainedDecisionJson()) {
      v1::Decision decision;
      ToDecisionProto(view_, result_, ctx_, &decision);
      ChainAudit(decision.mutable_audit(), &chain_);
      line_ = ledger::ToJson(decision);
    }
    // After the line: recording may move the codes the result's duplicates point to.
    if (absl::Status s = book_->Record(view_, result_.settled_codes, *result_.profile); !s.ok())
      return s;
    CountDecision(result_.outcome, result_.reasons, &summary_.outcomes, &summary_.reasons);
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    return absl::OkStatus();
  }

  // The chain advanced over the audit record's wire bytes (what ChainAudit hashes), and the line
  // written from the result; false (chain unmoved, line_ empty) when only Protobuf's printer may
  // write it.
  bool AppendChainedDecisionJson() {
    ClaimDigestHex(view_, &digest_);
    EncodeAudit(view_, result_, ctx_, digest_, &audit_bytes_);
    ChainHead next = chain_;
    ChainEncodedAudit(&audit_bytes_, &next);
    if (!AppendDecisionJson(view_, result_, ctx_, digest_, next.seq, chain_.hash, &line_))
      return false;
    chain_ = std::move(next);
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
  JsonLineReader reader_;
  std::string read_error_;
  std::string line_;         // the decision line being written
  std::string audit_bytes_;  // its audit record's wire bytes, for the chain
  std::string digest_;       // the claim's
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
  if (!options.free_state) run.Abandon();
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
