// The hot path's hand-written wire code against Protobuf's own: claim parsing, canonical claim
// bytes, decision and audit encoding, byte for byte, on random ledgers and claims, and on corrupted
// bytes.
#include "gate/wire.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gate/audit/audit_chain.h"
#include "gate/claim_view.h"
#include "gate/decision.h"
#include "gate/ledger_lookup.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/ledger.h"
#include "tests/testing/random_events.h"

namespace claimgate::gate {
namespace {

TEST(WireTest, EncodingsEqualProtobufSerialization) {
  int duplicates = 0;
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  for (int seed = 0; seed < 40; ++seed) {
    claimgate::testing::Random r(seed);
    auto ledger = std::move(*ledger::Ledger::Create(profiles.get(), "hebei"));
    for (const v1::Event& e : claimgate::testing::RandomStream(r, 150)) ledger->Apply(e);
    LedgerLookup lookup(ledger.get());
    DecisionContext ctx;
    ctx.profiles = profiles.get();
    ctx.default_profile = &ledger->default_profile();
    ctx.ledger_position = ledger->position();
    ctx.gate_version = "claimgate/test";
    ctx.shadow = seed % 5 == 0;
    ctx.status_stale = seed % 7 == 0;
    ctx.source.set_topic("claims");
    ctx.source.set_partition(seed % 3);
    ctx.source.set_offset(1000 + seed);
    ctx.processing_time = absl::FromUnixSeconds(1767225600) + absl::Nanoseconds(seed * 1000);
    // Odd seeds check duplicate codes (SPEC §8.3): audit fields 20, 23 and 24 after the chain's.
    CodeBook book;
    if (seed % 2 == 1) ctx.codes = &book;
    int k = 0;
    ChainHead wire_chain, message_chain;
    for (const v1::Claim& claim : claimgate::testing::RandomClaims(r, 50)) {
      v1::Event event;
      event.set_event_id(absl::StrCat("EV", ++k));
      event.mutable_time()->set_seconds(1767225600 + k);
      *event.mutable_claim() = claim;
      if (k % 3 == 0)
        event.mutable_claim()->mutable_items(0)->set_amount_fen(-5);  // negative varint
      const std::string bytes = event.SerializeAsString();

      ClaimView view;
      ASSERT_TRUE(ParseClaimEvent(bytes, &view).ok());
      std::string canonical;
      CanonicalClaimBytes(view, &canonical);
      ASSERT_EQ(canonical, ledger::DeterministicBytes(event.claim())) << "seed " << seed;

      DecisionResult result;
      DecideView(view, lookup, ctx, &result);
      v1::Decision proto;
      ToDecisionProto(view, result, ctx, &proto);
      std::string audit_bytes, decision_bytes;
      EncodeAudit(view, result, ctx, &audit_bytes);
      EncodeDecision(view, result, &decision_bytes);
      ASSERT_EQ(audit_bytes, ledger::DeterministicBytes(proto.audit())) << ledger::ToJson(proto);
      // The streaming path chains the encoded bytes, the file path the message: the same link.
      ChainEncodedAudit(&audit_bytes, &wire_chain);
      ChainAudit(proto.mutable_audit(), &message_chain);
      ASSERT_EQ(audit_bytes, ledger::DeterministicBytes(proto.audit()));
      ASSERT_EQ(wire_chain.hash, message_chain.hash);
      ASSERT_EQ(wire_chain.hash, ChainHash(proto.audit()));
      proto.clear_audit();
      ASSERT_EQ(decision_bytes, ledger::DeterministicBytes(proto)) << ledger::ToJson(proto);
      // And the message route decides alike (claim parsed by Protobuf, then viewed).
      ctx.event_id = event.event_id();
      v1::Decision via_message = Decide(event, lookup, ctx);
      via_message.clear_audit();
      ASSERT_EQ(ledger::ToJson(via_message), ledger::ToJson(proto));
      if (ctx.codes != nullptr) {
        duplicates += static_cast<int>(result.duplicates.size());
        ASSERT_TRUE(book.Record(view, result.settled_codes, *result.profile).ok());
      }
    }
  }
  EXPECT_GT(duplicates, 10);  // the duplicate-code fields are exercised
}

// Nested messages longer than 127 and 16,383 bytes: the writer reserves one byte for a nested
// message's length and moves the message along when its length needs two or three.
TEST(WireTest, LongNestedMessagesEqualProtobufSerialization) {
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  auto ledger = std::move(*ledger::Ledger::Create(profiles.get(), "hebei"));
  LedgerLookup lookup(ledger.get());
  DecisionContext ctx;
  ctx.profiles = profiles.get();
  ctx.default_profile = &ledger->default_profile();
  ctx.gate_version = "claimgate/test";
  ctx.source.set_topic(std::string(300, 't'));
  ctx.processing_time = absl::FromUnixSeconds(1767225600);
  for (const size_t n : {100, 127, 128, 200, 16383, 16384, 40000}) {
    SCOPED_TRACE(n);
    v1::Event event;
    event.set_event_id("E1");
    event.mutable_time()->set_seconds(1767225600);
    v1::Claim& claim = *event.mutable_claim();
    claim.set_claim_id("C1");
    claim.set_kind(v1::Claim::SETTLEMENT);
    claim.set_institution_id("H1");
    claim.mutable_service_time()->set_seconds(1767225000);
    claim.set_visit_type(v1::Claim::OUTPATIENT);
    claim.add_practitioners()->set_person_id(std::string(n, 'D'));
    v1::Claim::Item& item = *claim.add_items();
    item.set_item_code(std::string(n / 2, 'X'));
    item.set_amount_fen(100);
    for (size_t k = 0; k < n / 20; ++k) item.add_traceability_codes(absl::StrCat(10000000000 + k));
    const std::string bytes = event.SerializeAsString();
    ClaimView view;
    const absl::Status parsed = ParseClaimEvent(bytes, &view);
    ASSERT_TRUE(parsed.ok()) << parsed;
    std::string canonical;
    CanonicalClaimBytes(view, &canonical);
    ASSERT_EQ(canonical, ledger::DeterministicBytes(claim));
    DecisionResult result;
    DecideView(view, lookup, ctx, &result);
    ASSERT_FALSE(result.reasons.empty());  // the unknown practitioner, named in full
    v1::Decision proto;
    ToDecisionProto(view, result, ctx, &proto);
    std::string audit_bytes, decision_bytes;
    EncodeAudit(view, result, ctx, &audit_bytes);
    EncodeDecision(view, result, &decision_bytes);
    ASSERT_EQ(audit_bytes, ledger::DeterministicBytes(proto.audit()));
    proto.clear_audit();
    ASSERT_EQ(decision_bytes, ledger::DeterministicBytes(proto));
  }
}

// Corrupted bytes: the wire parser accepts exactly what Protobuf parsing plus ValidateEvent
// accepts, for claims (no crash, no read past the end).
TEST(WireTest, ParserAgreesWithProtobufOnCorruptedBytes) {
  // Protobuf logs every invalid UTF-8 string it refuses; thousands of expected refusals would drown
  // the log.
  google::protobuf::LogSilencer silence;
  claimgate::testing::Random r(99);
  std::mt19937 rng(5);
  int agreed_ok = 0, agreed_bad = 0;
  for (const v1::Claim& claim : claimgate::testing::RandomClaims(r, 300)) {
    v1::Event event;
    event.set_event_id("E");
    event.mutable_time()->set_seconds(1767225600);
    *event.mutable_claim() = claim;
    const std::string good = event.SerializeAsString();
    for (int m = 0; m < 20; ++m) {
      std::string bytes = good;
      switch (rng() % 3) {
        case 0:
          bytes[rng() % bytes.size()] = static_cast<char>(rng());
          break;
        case 1:
          bytes.resize(rng() % bytes.size());
          break;
        case 2:
          bytes.insert(rng() % bytes.size(), 1, static_cast<char>(rng()));
          break;
      }
      v1::Event parsed;
      const bool protobuf_ok = parsed.ParseFromString(bytes) &&
                               ledger::ValidateEvent(parsed).ok() &&
                               parsed.body_case() == v1::Event::kClaim;
      ClaimView view;
      const bool wire_ok = ParseClaimEvent(bytes, &view).ok();
      if (protobuf_ok && wire_ok) {
        // Canonical bytes carry known fields only: fields a newer producer added do not change a
        // digest.
        std::string canonical;
        CanonicalClaimBytes(view, &canonical);
        parsed.DiscardUnknownFields();
        ASSERT_EQ(canonical, ledger::DeterministicBytes(parsed.claim()));
        ++agreed_ok;
      } else if (!protobuf_ok && !wire_ok) {
        ++agreed_bad;
      } else {
        FAIL() << "the wire parser says " << wire_ok << ", Protobuf " << protobuf_ok;
      }
    }
  }
  EXPECT_GT(agreed_ok, 100);
  EXPECT_GT(agreed_bad, 100);
}

// Issue 12 item 6: shapes Protobuf's parser reads that the wire parser read otherwise (a body
// before the claim, the claim twice, a group, a field with another wire type, a time out of range).
TEST(WireTest, ParserReadsUnusualShapesAsProtobufDoes) {
  v1::Event event;
  event.set_event_id("E");
  event.mutable_time()->set_seconds(1767225600);
  v1::Claim& claim = *event.mutable_claim();
  claim.set_claim_id("C1");
  claim.set_institution_id("H1");
  claim.mutable_service_time()->set_seconds(1767225000);
  claim.set_visit_type(v1::Claim::OUTPATIENT);
  claim.add_practitioners()->set_person_id("D1");
  const std::string good = event.SerializeAsString();
  v1::Claim more;
  more.add_practitioners()->set_person_id("D2");
  more.mutable_service_time()->set_nanos(5);
  v1::Event body;
  body.mutable_person_registered()->set_person_id("D1");
  auto field = [](uint32_t number, wire::WireType type, absl::string_view payload) {
    std::string out;
    wire::PutTag(&out, number, type);
    if (type == wire::kLen) wire::PutVarint(&out, payload.size());
    out.append(payload.data(), payload.size());
    return out;
  };
  v1::Event far = event;
  far.mutable_claim()->mutable_service_time()->set_seconds(253402300800);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a body before the claim", body.SerializeAsString() + good},
      {"the claim twice (merged)", good + field(30, wire::kLen, more.SerializeAsString())},
      {"a group in the claim",
       absl::StrCat(good, field(30, wire::kLen,
                                absl::StrCat(field(9, wire::WireType(3), ""),
                                             field(1, wire::kVarint, "\x01"),
                                             field(9, wire::WireType(4), ""))))},
      {"claim_id as a varint",
       absl::StrCat(good, field(30, wire::kLen, field(1, wire::kVarint, "\x07")))},
      {"the time twice (merged)", good + field(2, wire::kLen, "\x10\x07")},
      {"a service time in year 10000", far.SerializeAsString()},
  };
  google::protobuf::LogSilencer silence;
  for (const auto& [name, bytes] : cases) {
    v1::Event parsed;
    const bool protobuf_ok = parsed.ParseFromString(bytes) && ledger::ValidateEvent(parsed).ok() &&
                             parsed.body_case() == v1::Event::kClaim;
    ClaimView view;
    const absl::Status wire_status = ParseClaimEvent(bytes, &view);
    ASSERT_EQ(wire_status.ok(), protobuf_ok) << name << ": " << wire_status;
    if (!protobuf_ok) continue;
    std::string canonical;
    CanonicalClaimBytes(view, &canonical);
    parsed.DiscardUnknownFields();
    EXPECT_EQ(canonical, ledger::DeterministicBytes(parsed.claim())) << name;
    EXPECT_EQ(view.event_id, parsed.event_id()) << name;
  }
}

TEST(WireTest, Utf8) {
  EXPECT_TRUE(wire::IsValidUtf8("D001"));
  EXPECT_TRUE(wire::IsValidUtf8("医保"));
  EXPECT_FALSE(wire::IsValidUtf8("\xff"));
  EXPECT_FALSE(wire::IsValidUtf8("\xe5\x8c"));      // truncated
  EXPECT_FALSE(wire::IsValidUtf8("\xc0\x80"));      // overlong
  EXPECT_FALSE(wire::IsValidUtf8("\xed\xa0\x80"));  // surrogate
}

}  // namespace
}  // namespace claimgate::gate
