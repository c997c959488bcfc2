// The file path: one in-process ledger, one decision core, JSON Lines in and out.
#include "gate/check/check.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gate/audit/audit_chain.h"
#include "gate/codes.h"
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

bool Reverse(const v1::Event& event, const DecisionContext& ctx, CodeBook& book,
             v1::Decision* out) {
  const v1::ClaimReversed& body = event.claim_reversed();
  std::vector<std::string> released;
  if (!book.Reverse(body.claim_id(), &released)) return false;
  out->Clear();
  out->set_claim_id(body.claim_id());
  out->set_outcome(v1::Decision::REVERSED);
  v1::AuditRecord& audit = *out->mutable_audit();
  audit.set_claim_id(body.claim_id());
  audit.set_event_id(event.event_id());
  audit.set_outcome(v1::Decision::REVERSED);
  audit.set_ledger_position(ctx.ledger_position);
  audit.set_gate_version(ctx.gate_version);
  audit.set_claim_digest(ledger::Sha256Hex(ledger::DeterministicBytes(event)));
  *audit.mutable_source() = ctx.source;
  ledger::SetProto(ctx.processing_time, audit.mutable_processing_time());
  audit.set_mode(ctx.shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE);
  audit.set_reversal_reason(body.reason());
  for (std::string& code : released) audit.add_released_codes(std::move(code));
  return true;
}

const std::string& GateVersion() {
  static const std::string kVersion = absl::StrCat("claimgate/", CLAIMGATE_VERSION);
  return kVersion;
}

absl::StatusOr<CheckSummary> RunCheck(std::istream& in, std::ostream& out, std::ostream& err,
                                      const ledger::ProfileSet& profiles,
                                      const CheckOptions& options, Clock& clock) {
  absl::StatusOr<std::unique_ptr<ledger::Ledger>> created =
      ledger::Ledger::Create(&profiles, options.default_profile);
  if (!created.ok()) return created.status();
  ledger::Ledger& ledger = **created;
  LedgerLookup lookup(&ledger);

  DecisionContext ctx;
  ctx.profiles = &profiles;
  ctx.default_profile = &ledger.default_profile();
  ctx.shadow = options.shadow;
  ctx.gate_version = GateVersion();
  ctx.source.set_file(options.source_file);

  CodeBook book;  // the traceability codes the input's claims settled (SPEC §8.3)
  ctx.codes = &book;
  ClaimView view;
  DecisionResult result;

  CheckSummary summary;
  ChainHead chain;  // the output's audit records form one hash chain
  std::string line;
  while (std::getline(in, line)) {
    ++summary.lines;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    v1::Event event;
    if (absl::Status s = ledger::ParseEventJson(line, &event); !s.ok()) {
      ++summary.malformed;
      ++summary.refusals["MALFORMED"];
      WriteRefusal(err, event.event_id(), v1::MALFORMED, s.message(), summary.lines);
      continue;
    }
    if (ledger::IsLedgerEvent(event)) {
      ++summary.ledger_events;
      ledger::ApplyResult result = ledger.Apply(event);
      if (result.refused) {
        ++summary.ledger_refused;
        ++summary.refusals[v1::LedgerError_Name(result.error)];
        WriteRefusal(err, event.event_id(), result.error, result.message, summary.lines);
      }
      for (const v1::LedgerNotice& n : result.notices) {
        if (n.notice() != "EVENT_REFUSED") ++summary.notices[n.notice()];
        if (options.notices != nullptr) *options.notices << ledger::ToJson(n) << '\n';
      }
      continue;
    }
    ctx.ledger_position = ledger.position();
    ctx.event_id = event.event_id();
    ctx.source.set_offset(summary.lines);
    ctx.processing_time = clock.Now();
    v1::Decision decision;
    if (event.has_claim_reversed()) {
      if (!Reverse(event, ctx, book, &decision)) {
        ++summary.refusals["UNKNOWN_CLAIM"];
        WriteRefusal(err, event.event_id(), v1::UNKNOWN_CLAIM,
                     absl::StrCat("claim '", event.claim_reversed().claim_id(),
                                  "' unknown or reversed before"),
                     summary.lines);
        continue;
      }
      ++summary.reversals;
      ++summary.outcomes["REVERSED"];
    } else {
      ++summary.claims;
      ViewEvent(event, &view);
      DecideView(view, lookup, ctx, &result);
      ToDecisionProto(view, result, ctx, &decision);
      book.NoteDecided(view.claim_id);
      book.Settle(view, result.settled_codes, *result.profile);
      CountDecision(decision.outcome(), decision.reasons(), &summary.outcomes, &summary.reasons);
    }
    ChainAudit(decision.mutable_audit(), &chain);
    out << ledger::ToJson(decision) << '\n';
  }
  if (in.bad()) return absl::DataLossError("reading the input failed");
  return summary;
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
