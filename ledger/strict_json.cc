// RFC 8259 JSON checked in one pass, with the message type alongside so that a field's two names
// and Timestamp strings are known. No allocation per value: keys are views into the text (decoded
// copies only for keys with escapes); duplicates are found when an object closes.
//
// The same pass builds the message (issue 17: Protobuf's JSON parser took 72 % of `check`) for the
// JSON that reads one way only: strings into string fields, integers in range into integer fields,
// enum names, true and false, objects, arrays, Timestamps, unknown keys skipped. Anything else
// (null, numbers as strings, enum numbers, floats, bytes, maps, a second member of a oneof) leaves
// the message to Protobuf's parser, which stays the authority; tests/ledger/strict_json_test.cc
// holds the two to the same messages and the same refusals.
#include "ledger/strict_json.h"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/calendar.h"

namespace claimgate::ledger {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 100;

// A known field by either of the names Protobuf's JSON parser takes for it.
const FieldDescriptor* FindField(const Descriptor& type, absl::string_view key) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* f = type.field(i);
    if (f->name() == key || f->json_name() == key) return f;
  }
  return nullptr;
}

bool IsTimestamp(const FieldDescriptor* f) {
  return f != nullptr && f->message_type() == google::protobuf::Timestamp::descriptor();
}

bool IsWellKnown(const FieldDescriptor* f) {
  return absl::StartsWith(f->message_type()->full_name(), "google.protobuf.");
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

class Checker {
 public:
  // `build` (optional): the message to build while checking (cleared by the caller).
  explicit Checker(absl::string_view text, Message* build = nullptr) : s_(text), build_(build) {}

  absl::Status Run(const Descriptor& type) {
    Space();
    if (!At('{')) {
      return absl::InvalidArgumentError("not a JSON object (SPEC §7: one object a line)");
    }
    if (Object(&type, build_, 1)) {
      Space();
      if (at_ != s_.size()) Fail("text after the object");
    }
    if (error_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(error_);
  }

  // Whether the message given to build holds all the text says (else Protobuf's parser must read
  // it).
  bool built() const { return build_ != nullptr && !unbuilt_; }

 private:
  // What the message type says of a value's place: its field (null: unknown, checked as JSON
  // only), and whether the value is one element of that repeated field.
  struct Place {
    const FieldDescriptor* field = nullptr;
    bool element = false;
  };
  struct Seen {
    absl::string_view key;  // unescaped
    int field = 0;          // its field number; 0: not a known field
  };

  // Records the first problem: JSON that RFC 8259 does not allow (Fail), or JSON that reads two
  // ways (Refuse).
  bool Fail(absl::string_view what) { return Refuse(absl::StrCat("not JSON (RFC 8259): ", what)); }
  bool Refuse(absl::string_view what) {
    if (error_.empty()) error_ = absl::StrCat(what, " at byte ", at_);
    return false;
  }
  bool At(char c) const { return at_ < s_.size() && s_[at_] == c; }
  bool Digit() const { return at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9'; }
  void Space() {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) {
      ++at_;
    }
  }

  // `msg`: the message `place.field` belongs to, when building; null otherwise.
  bool Value(Place place, Message* msg, int depth) {
    Space();
    if (at_ >= s_.size()) return Fail("a value expected");
    const FieldDescriptor* f = place.field;
    if (f != nullptr && f->is_repeated() && !place.element) {
      if (At('[')) return Array(f, msg, depth + 1);
      f = nullptr;  // not an array: Protobuf refuses it; only its JSON is checked here
      Unbuilt();
    }
    if (f == nullptr) msg = nullptr;  // an unknown key: skipped (or refused by Protobuf)
    if (msg != nullptr && f->containing_oneof() != nullptr &&
        msg->GetReflection()->HasOneof(*msg, f->containing_oneof())) {
      msg = Unbuilt();  // a second member of a oneof: Protobuf says what that means
    }
    switch (s_[at_]) {
      case '{': {
        // A map's keys are data, not field names.
        const bool message = f != nullptr && !f->is_map() &&
                             f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
                             !IsTimestamp(f);
        Message* sub = nullptr;
        // Well-known types have JSON forms of their own (a Duration is a string): Protobuf's.
        if (msg != nullptr && message && !IsWellKnown(f)) {
          sub = place.element ? msg->GetReflection()->AddMessage(msg, f)
                              : msg->GetReflection()->MutableMessage(msg, f);
        } else if (msg != nullptr) {
          Unbuilt();
        }
        return Object(message ? f->message_type() : nullptr, sub, depth + 1);
      }
      case '[':
        if (msg != nullptr) Unbuilt();
        return Array(nullptr, nullptr, depth + 1);
      case '"':
        if (IsTimestamp(f)) return Time(f, place.element, msg);
        return msg != nullptr ? StringValue(f, place.element, msg) : String(nullptr, nullptr);
      case 't':
      case 'f': {
        const bool value = s_[at_] == 't';
        if (!Word(value ? "true" : "false")) return false;
        if (msg == nullptr) return true;
        if (f->cpp_type() != FieldDescriptor::CPPTYPE_BOOL) return Unbuilt(), true;
        if (place.element) {
          msg->GetReflection()->AddBool(msg, f, value);
        } else {
          msg->GetReflection()->SetBool(msg, f, value);
        }
        return true;
      }
      case 'n':
        if (msg != nullptr) Unbuilt();
        return Word("null");
      default:
        return NumberValue(f, place.element, msg);
    }
  }

  // Leaves the message to Protobuf's parser; null (no message to build from here on).
  Message* Unbuilt() {
    unbuilt_ = true;
    return nullptr;
  }

  // A string into a string or enum field of `msg`.
  bool StringValue(const FieldDescriptor* f, bool element, Message* msg) {
    value_.clear();
    if (!String(&value_, nullptr)) return false;
    const Reflection* r = msg->GetReflection();
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (element) {
        r->AddString(msg, f, std::move(value_));
      } else {
        r->SetString(msg, f, std::move(value_));
      }
      return true;
    }
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      const google::protobuf::EnumValueDescriptor* v = f->enum_type()->FindValueByName(value_);
      if (v == nullptr) return Unbuilt(), true;
      if (element) {
        r->AddEnumValue(msg, f, v->number());
      } else {
        r->SetEnumValue(msg, f, v->number());
      }
      return true;
    }
    // An integer as a string (how Protobuf writes 64-bit integers): the canonical form only.
    if (SetInteger(f, element, value_, /*exact=*/true, msg)) return true;
    Unbuilt();  // anything else as a string: Protobuf's reading
    return true;
  }

  // Sets integer field `f` from `digits` when they are -?(0|[1-9][0-9]*) and in the field's range
  // (beyond 2^53 only when `exact`: a JSON number may be read as a double); false otherwise.
  static bool SetInteger(const FieldDescriptor* f, bool element, absl::string_view digits,
                         bool exact, Message* msg) {
    const absl::string_view magnitude = absl::StripPrefix(digits, "-");
    if (magnitude.empty() || magnitude.size() > 19 ||
        (magnitude[0] == '0' && magnitude.size() > 1) ||
        magnitude.find_first_not_of("0123456789") != absl::string_view::npos) {
      return false;
    }
    int64_t v = 0;
    if (!absl::SimpleAtoi(digits, &v)) return false;
    constexpr int64_t kExact = int64_t{1} << 53;
    if (!exact && (v > kExact || v < -kExact)) return false;
    const Reflection* r = msg->GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        if (v < INT32_MIN || v > INT32_MAX) return false;
        element ? r->AddInt32(msg, f, static_cast<int32_t>(v))
                : r->SetInt32(msg, f, static_cast<int32_t>(v));
        return true;
      case FieldDescriptor::CPPTYPE_INT64:
        element ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        if (v < 0 || v > UINT32_MAX) return false;
        element ? r->AddUInt32(msg, f, static_cast<uint32_t>(v))
                : r->SetUInt32(msg, f, static_cast<uint32_t>(v));
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        if (v < 0) return false;
        element ? r->AddUInt64(msg, f, static_cast<uint64_t>(v))
                : r->SetUInt64(msg, f, static_cast<uint64_t>(v));
        return true;
      default:
        return false;
    }
  }

  // A number; into an integer field of `msg` when it is an integer in the field's range.
  bool NumberValue(const FieldDescriptor* f, bool element, Message* msg) {
    const size_t start = at_;
    if (!Number()) return false;
    if (msg == nullptr) return true;
    if (!SetInteger(f, element, s_.substr(start, at_ - start), /*exact=*/false, msg)) Unbuilt();
    return true;
  }


  // A Timestamp as the one time reader reads it: Protobuf's own reads a C string (text after a
  // NUL is ignored) and takes years its printer cannot write.
  bool Time(const FieldDescriptor* f, bool element, Message* msg) {
    std::string text;
    const size_t start = at_;
    if (!String(&text, nullptr)) return false;
    int64_t seconds = 0;
    int32_t nanos = 0;
    if (ParseRfc3339Parts(text, &seconds, &nanos)) {
      if (msg != nullptr) {
        Message* m = element ? msg->GetReflection()->AddMessage(msg, f)
                             : msg->GetReflection()->MutableMessage(msg, f);
        auto* ts = google::protobuf::DynamicCastToGenerated<google::protobuf::Timestamp>(m);
        if (ts == nullptr) return Unbuilt(), true;
        ts->set_seconds(seconds);
        ts->set_nanos(nanos);
      }
      return true;
    }
    at_ = start;
    return Refuse(absl::StrCat("\"", f->name(), "\": \"", absl::CHexEscape(text),
                               "\" is not an RFC 3339 time inside years 1-9999"));
  }

  bool Array(const FieldDescriptor* repeated, Message* msg, int depth) {
    if (depth > kMaxDepth) return Fail("nested deeper than 100");
    ++at_;  // '['
    Space();
    if (At(']')) {
      ++at_;
      return true;
    }
    for (;;) {
      if (!Value(Place{repeated, true}, msg, depth)) return false;
      Space();
      if (At(',')) {
        ++at_;
      } else if (At(']')) {
        ++at_;
        return true;
      } else {
        return Fail("',' or ']' expected");
      }
    }
  }

  bool Object(const Descriptor* type, Message* msg, int depth) {
    if (depth > kMaxDepth) return Fail("nested deeper than 100");
    ++at_;  // '{'
    const size_t from = seen_.size();
    Space();
    if (At('}')) {
      ++at_;
      return true;
    }
    for (;;) {
      Space();
      if (!At('"')) return Fail("a key in double quotes expected");
      const size_t start = at_;
      bool escaped = false;
      decoded_.clear();
      if (!String(&decoded_, &escaped)) return false;
      const absl::string_view key =
          escaped ? absl::string_view(keys_.emplace_back(decoded_))
                  : s_.substr(start + 1, at_ - start - 2);
      const FieldDescriptor* f = type != nullptr ? FindField(*type, key) : nullptr;
      // Protobuf refuses an empty key in a message ("Proto fields must have a name"), even
      // when it skips unknown ones: its parser says so (found by json_lines_fuzzer).
      if (type != nullptr && key.empty()) Unbuilt();
      seen_.push_back({key, f != nullptr ? f->number() : 0});
      Space();
      if (!At(':')) return Fail("':' expected");
      ++at_;
      if (!Value(Place{f, false}, msg, depth)) return false;
      Space();
      if (At(',')) {
        ++at_;
      } else if (At('}')) {
        ++at_;
        break;
      } else {
        return Fail("',' or '}' expected");
      }
    }
    const bool unique = Unique(from);
    seen_.resize(from);
    return unique;
  }

  // No key twice among the keys of the object just closed (seen_[from...]), and no field named
  // twice under its two names.
  bool Unique(size_t from) {
    if (seen_.size() - from > 16) return UniqueSorted(from);
    for (size_t i = from; i < seen_.size(); ++i) {
      for (size_t j = i + 1; j < seen_.size(); ++j) {
        const Seen& a = seen_[i];
        const Seen& b = seen_[j];
        if (a.key == b.key) {
          return Refuse(absl::StrCat("key \"", absl::CHexEscape(a.key), "\" given twice"));
        }
        if (a.field != 0 && a.field == b.field) {
          return Refuse(absl::StrCat("keys \"", absl::CHexEscape(a.key), "\" and \"",
                                   absl::CHexEscape(b.key), "\" name one field"));
        }
      }
    }
    return true;
  }

  // The same for objects with many keys (unknown fields only: messages have few).
  bool UniqueSorted(size_t from) {
    std::vector<Seen> keys(seen_.begin() + static_cast<ptrdiff_t>(from), seen_.end());
    std::sort(keys.begin(), keys.end(), [](const Seen& a, const Seen& b) { return a.key < b.key; });
    for (size_t i = 1; i < keys.size(); ++i) {
      if (keys[i].key == keys[i - 1].key) {
        return Refuse(absl::StrCat("key \"", absl::CHexEscape(keys[i].key), "\" given twice"));
      }
    }
    std::sort(keys.begin(), keys.end(),
              [](const Seen& a, const Seen& b) { return a.field < b.field; });
    for (size_t i = 1; i < keys.size(); ++i) {
      if (keys[i].field != 0 && keys[i].field == keys[i - 1].field) {
        return Refuse(absl::StrCat("keys \"", absl::CHexEscape(keys[i - 1].key), "\" and \"",
                                 absl::CHexEscape(keys[i].key), "\" name one field"));
      }
    }
    return true;
  }

  // A string at at_ (its opening quote); `decoded` (may be null) gets its unescaped bytes,
  // `escaped` (may be null) whether it held an escape.
  bool String(std::string* decoded, bool* escaped) {
    ++at_;
    size_t run = at_;
    auto flush = [&]() {
      const absl::string_view piece = s_.substr(run, at_ - run);
      if (!IsValidUtf8(piece)) return Fail("invalid UTF-8 in a string");
      if (decoded != nullptr) decoded->append(piece.data(), piece.size());
      return true;
    };
    while (at_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[at_]);
      if (c == '"') {
        if (!flush()) return false;
        ++at_;
        return true;
      }
      if (c == '\\') {
        if (!flush() || !Escape(decoded)) return false;
        if (escaped != nullptr) *escaped = true;
        run = at_;
      } else if (c < 0x20) {
        return Fail("a raw control character in a string");
      } else {
        ++at_;
      }
    }
    return Fail("an unterminated string");
  }

  bool Hex4(uint32_t* out) {
    if (at_ + 4 > s_.size()) return Fail("a short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[at_ + i];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return Fail("a bad \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    at_ += 4;
    *out = v;
    return true;
  }

  // An escape at at_ (its backslash).
  bool Escape(std::string* decoded) {
    ++at_;
    if (at_ >= s_.size()) return Fail("an unterminated string");
    const char e = s_[at_++];
    char plain = 0;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        plain = e;
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u':
        return Unicode(decoded);
      default:
        --at_;
        return Fail("an unknown escape");
    }
    if (decoded != nullptr) decoded->push_back(plain);
    return true;
  }

  // \uXXXX after its "\u": a surrogate must pair.
  bool Unicode(std::string* decoded) {
    uint32_t cp = 0;
    if (!Hex4(&cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) return Fail("a lone low surrogate");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      uint32_t low = 0;
      if (!(At('\\') && at_ + 1 < s_.size() && s_[at_ + 1] == 'u')) {
        return Fail("a lone high surrogate");
      }
      at_ += 2;
      if (!Hex4(&low)) return false;
      if (low < 0xdc00 || low > 0xdfff) return Fail("a lone high surrogate");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (decoded != nullptr) AppendUtf8(cp, decoded);
    return true;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    if (At('-')) ++at_;
    if (At('0')) {
      ++at_;
    } else if (Digit()) {
      while (Digit()) ++at_;
    } else {
      return Fail("a value expected");
    }
    if (At('.')) {
      ++at_;
      if (!Digit()) return Fail("a digit expected");
      while (Digit()) ++at_;
    }
    if (At('e') || At('E')) {
      ++at_;
      if (At('+') || At('-')) ++at_;
      if (!Digit()) return Fail("a digit expected");
      while (Digit()) ++at_;
    }
    return true;
  }

  bool Word(absl::string_view word) {
    if (s_.substr(at_, word.size()) != word) return Fail("a value expected");
    at_ += word.size();
    return true;
  }

  absl::string_view s_;
  size_t at_ = 0;
  Message* build_ = nullptr;
  bool unbuilt_ = false;  // something was left to Protobuf's parser
  std::string value_;     // a string value, unescaped
  std::string error_;
  std::vector<Seen> seen_;        // keys of the objects open, innermost last
  std::deque<std::string> keys_;  // keys that held escapes, unescaped (addresses stay put)
  std::string decoded_;
};

}  // namespace

namespace {
// Protobuf's JSON parser into `message` (cleared first), the text already checked.
absl::Status ParseWithProtobuf(absl::string_view text, google::protobuf::Message* message,
                               bool ignore_unknown_fields);
}  // namespace

absl::Status CheckStrictJson(absl::string_view text, const Descriptor& type) {
  return Checker(text).Run(type);
}

absl::Status ParseStrictJson(absl::string_view text, google::protobuf::Message* message,
                             bool ignore_unknown_fields) {
  message->Clear();
  // Unknown keys are skipped by the builder: what Protobuf does only when told to ignore them.
  Checker checker(text, ignore_unknown_fields ? message : nullptr);
  if (absl::Status s = checker.Run(*message->GetDescriptor()); !s.ok()) {
    message->Clear();
    return s;
  }
  if (checker.built()) return absl::OkStatus();
  return ParseWithProtobuf(text, message, ignore_unknown_fields);
}

absl::Status ParseStrictJsonWithProtobuf(absl::string_view text,
                                         google::protobuf::Message* message,
                                         bool ignore_unknown_fields) {
  message->Clear();
  if (absl::Status s = CheckStrictJson(text, *message->GetDescriptor()); !s.ok()) return s;
  return ParseWithProtobuf(text, message, ignore_unknown_fields);
}

namespace {

absl::Status ParseWithProtobuf(absl::string_view text, google::protobuf::Message* message,
                               bool ignore_unknown_fields) {
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown_fields;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), message, options);
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.message().as_string());
  return absl::OkStatus();
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

}  // namespace claimgate::ledger
