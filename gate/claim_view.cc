// Wire parsing and canonical encoding of claims.
#include "gate/claim_view.h"

#include "gate/wire.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

using wire::Reader;
using wire::WireType;

bool ReadString(Reader& r, WireType type, absl::string_view* out) {
  return type == wire::kLen && r.ReadLen(out) && wire::IsValidUtf8(*out);
}

bool ReadInt(Reader& r, WireType type, int64_t* out) {
  uint64_t v = 0;
  if (type != wire::kVarint || !r.ReadVarint(&v)) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

bool ReadEnum(Reader& r, WireType type, int* out) {
  int64_t v = 0;
  if (!ReadInt(r, type, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

bool ReadMessage(Reader& r, WireType type, absl::string_view* out) {
  return type == wire::kLen && r.ReadLen(out);
}

bool ParsePractitioner(absl::string_view bytes, ClaimView::Practitioner* p) {
  return wire::ForEachField(bytes, [p](uint32_t field, WireType type, Reader& r) {
    switch (field) {
      case 1:
        return ReadString(r, type, &p->person_id);
      case 2:
        return ReadEnum(r, type, &p->role);
      default:
        return r.Skip(type);
    }
  });
}

bool ParseItem(absl::string_view bytes, ClaimView::Item* item) {
  return wire::ForEachField(bytes, [item](uint32_t field, WireType type, Reader& r) {
    absl::string_view code;
    switch (field) {
      case 1:
        return ReadString(r, type, &item->item_code);
      case 2:
        return ReadEnum(r, type, &item->category);
      case 3:
        return ReadInt(r, type, &item->amount_fen);
      case 4:
        if (!ReadString(r, type, &code)) return false;
        item->traceability_codes.push_back(code);
        return true;
      default:
        return r.Skip(type);
    }
  });
}

// The claim's fields; false for anything Protobuf might read otherwise than this view would (a
// known field with another wire type, which Protobuf keeps as an unknown field; a service time
// twice, which it merges) or not at all.
bool ParseClaim(absl::string_view bytes, ClaimView* c) {
  return wire::ForEachField(bytes, [c](uint32_t field, WireType type, Reader& r) {
    absl::string_view sub;
    switch (field) {
      case 1:
        return ReadString(r, type, &c->claim_id);
      case 2:
        return ReadEnum(r, type, &c->kind);
      case 3:
        return ReadString(r, type, &c->institution_id);
      case 4:
        if (c->has_service_time) return false;
        c->has_service_time =
            ReadMessage(r, type, &sub) && wire::ReadTimestamp(sub, &c->service_time);
        return c->has_service_time;
      case 5:
        return ReadEnum(r, type, &c->visit_type);
      case 6:
        return ReadString(r, type, &c->insured_id);
      case 7:
        return ReadMessage(r, type, &sub) &&
               ParsePractitioner(sub, &c->practitioners.emplace_back());
      case 8:
        return ReadMessage(r, type, &sub) && ParseItem(sub, &c->items.emplace_back());
      case 9:
        return ReadString(r, type, &c->insured_region);
      default:
        return r.Skip(type);
    }
  });
}

// What ValidateEvent checks of a claim event.
bool Valid(const ClaimView& c, bool has_time, bool has_claim) {
  if (c.event_id.empty() || !has_time || !has_claim || c.claim_id.empty() ||
      c.institution_id.empty() || !c.has_service_time || c.visit_type == 0 ||
      c.practitioners.empty()) {
    return false;
  }
  for (const auto& p : c.practitioners) {
    if (p.person_id.empty()) return false;
  }
  return true;
}

// The hot path: the shape producers write (each field once, the claim the only body). True only
// when the view is what Protobuf's parser and ValidateEvent make of the bytes; false leaves the
// answer to them.
bool ParseClaimEventFast(absl::string_view bytes, ClaimView* c) {
  Reader r(bytes);
  bool has_time = false, has_claim = false;
  while (!r.done()) {
    uint32_t field = 0;
    WireType type;
    if (!r.ReadTag(&field, &type)) return false;
    absl::string_view sub;
    if (field == 1) {
      if (!ReadString(r, type, &c->event_id)) return false;
    } else if (field == 2) {
      // A second time would merge into the first.
      if (has_time || type != wire::kLen || !r.ReadLen(&sub) ||
          !wire::ReadTimestamp(sub, &c->submitted))
        return false;
      has_time = c->has_submitted = true;
    } else if (field >= 10 && field != 30) {
      return false;  // another body (Protobuf's oneof keeps the last one set), or a new field
    } else if (field == 30) {
      // A second claim would merge into the first.
      if (has_claim || type != wire::kLen || !r.ReadLen(&sub) || !ParseClaim(sub, c)) return false;
      has_claim = true;
    } else if (!r.Skip(type)) {
      return false;
    }
  }
  return Valid(*c, has_time, has_claim);
}

}  // namespace

void ClaimView::Clear() {
  event_id = claim_id = institution_id = insured_id = insured_region = {};
  has_submitted = false;
  submitted = absl::UnixEpoch();
  kind = visit_type = 0;
  has_service_time = false;
  service_time = absl::UnixEpoch();
  practitioners.clear();
  items.clear();
}

absl::Status ParseClaimEvent(absl::string_view bytes, ClaimView* c) {
  c->Clear();
  if (ParseClaimEventFast(bytes, c)) return absl::OkStatus();
  // Everything else reads as Protobuf reads it (issue 12: one reading of every input).
  c->Clear();
  absl::StatusOr<v1::Event> event = ledger::ParseEventBinary(bytes);
  if (!event.ok()) return event.status();
  if (!event->has_claim()) return absl::InvalidArgumentError("not a claim event");
  if (c->owned == nullptr) c->owned = std::make_unique<v1::Event>();
  *c->owned = std::move(*event);
  ViewEvent(*c->owned, c);
  return absl::OkStatus();
}

void ViewClaim(const v1::Claim& claim, absl::string_view event_id, ClaimView* c) {
  c->Clear();
  c->event_id = event_id;
  c->claim_id = claim.claim_id();
  c->kind = claim.kind();
  c->institution_id = claim.institution_id();
  c->has_service_time = claim.has_service_time();
  if (c->has_service_time) c->service_time = ledger::FromProto(claim.service_time());
  c->visit_type = claim.visit_type();
  c->insured_id = claim.insured_id();
  c->insured_region = claim.insured_region();
  for (const auto& p : claim.practitioners()) c->practitioners.push_back({p.person_id(), p.role()});
  for (const auto& i : claim.items()) {
    ClaimView::Item& item = c->items.emplace_back();
    item.item_code = i.item_code();
    item.category = i.category();
    item.amount_fen = i.amount_fen();
    for (const std::string& code : i.traceability_codes()) item.traceability_codes.push_back(code);
  }
}

void ViewEvent(const v1::Event& event, ClaimView* c) {
  ViewClaim(event.claim(), event.event_id(), c);
  c->has_submitted = event.has_time();
  if (c->has_submitted) c->submitted = ledger::FromProto(event.time());
}

void CanonicalClaimBytes(const ClaimView& c, std::string* out) {
  out->clear();
  wire::Out o(out);
  o.String(1, c.claim_id);
  o.Int(2, c.kind);
  o.String(3, c.institution_id);
  if (c.has_service_time) o.Timestamp(4, c.service_time);
  o.Int(5, c.visit_type);
  o.String(6, c.insured_id);
  for (const auto& p : c.practitioners) {
    const size_t m = o.Begin(7);
    o.String(1, p.person_id);
    o.Int(2, p.role);
    o.End(m);
  }
  for (const auto& i : c.items) {
    const size_t m = o.Begin(8);
    o.String(1, i.item_code);
    o.Int(2, i.category);
    o.Int(3, i.amount_fen);
    // Repeated strings are written even when empty.
    for (absl::string_view code : i.traceability_codes) o.Len(4, code);
    o.End(m);
  }
  o.String(9, c.insured_region);
}

}  // namespace claimgate::gate
