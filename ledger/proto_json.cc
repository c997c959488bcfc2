// The direct JSON writer (proto_json.h).
#include "ledger/proto_json.h"

#include <array>
#include <cstdint>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/calendar.h"
#include "absl/time/time.h"

namespace claimgate::ledger {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// `v` (0 <= v < 10^width) in exactly `width` decimal digits.
char* Digits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {
    thread_local std::vector<std::vector<const FieldDescriptor*>> fields;  // kept between calls
    fields_ = &fields;
  }

  bool Object(const Message& m) {
    if (m.GetDescriptor() == google::protobuf::Timestamp::descriptor()) return Time(m);
    if (absl::StartsWith(m.GetDescriptor()->full_name(), "google.protobuf.")) return false;
    const Reflection* r = m.GetReflection();
    if (depth_ >= fields_->size()) fields_->resize(depth_ + 1);
    std::vector<const FieldDescriptor*>& fields = (*fields_)[depth_];  // reused: no allocation
    fields.clear();
    r->ListFields(m, &fields);  // the set fields, by number
    ++depth_;
    const bool ok = Fields(m, r, fields);
    --depth_;
    return ok;
  }

 private:
  bool Fields(const Message& m, const Reflection* r,
              const std::vector<const FieldDescriptor*>& fields) {
    out_->push_back('{');
    bool first = true;
    for (const FieldDescriptor* f : fields) {
      if (f->is_map()) return false;
      if (!first) out_->push_back(',');
      first = false;
      absl::StrAppend(out_, "\"", f->name(), "\":");
      if (!f->is_repeated()) {
        if (!Value(m, r, f, -1)) return false;
        continue;
      }
      out_->push_back('[');
      const int n = r->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out_->push_back(',');
        if (!Value(m, r, f, i)) return false;
      }
      out_->push_back(']');
    }
    out_->push_back('}');
    return true;
  }

  // Field `f` of `m` (element `i` when repeated, -1 otherwise).
  bool Value(const Message& m, const Reflection* r, const FieldDescriptor* f, int i) {
    const bool rep = i >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        if (f->type() != FieldDescriptor::TYPE_STRING) return false;  // bytes: base64
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, i, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        if (!IsPlainJsonString(s)) return false;
        absl::StrAppend(out_, "\"", s, "\"");
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(out_, rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(out_, rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f));
        return true;
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(out_, "\"", rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f), "\"");
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(out_, "\"", rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f),
                        "\"");
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_->append((rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f)) ? "true" : "false");
        return true;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number = rep ? r->GetRepeatedEnumValue(m, f, i) : r->GetEnumValue(m, f);
        const google::protobuf::EnumValueDescriptor* v = f->enum_type()->FindValueByNumber(number);
        if (v == nullptr) return false;  // an unknown number: Protobuf's form
        absl::StrAppend(out_, "\"", v->name(), "\"");
        return true;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Object(rep ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f));
      default:  // floats
        return false;
    }
  }

  bool Time(const Message& m) {
    const auto* ts = google::protobuf::DynamicCastToGenerated<google::protobuf::Timestamp>(&m);
    return ts != nullptr && AppendJsonTimestamp(ts->seconds(), ts->nanos(), out_);
  }

  std::string* out_;
  size_t depth_ = 0;
  std::vector<std::vector<const FieldDescriptor*>>* fields_;  // the set fields, per depth
};

}  // namespace

bool IsPlainJsonString(absl::string_view s) {
  // Printable ASCII but for the characters Protobuf's escaper changes.
  static constexpr auto kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c <= 0x7e; ++c) plain[c] = true;
    for (const char c : {'"', '\\', '<', '>', '&', '\'', '='}) {
      plain[static_cast<uint8_t>(c)] = false;
    }
    return plain;
  }();
  bool plain = true;
  for (const char c : s) plain &= kPlain[static_cast<uint8_t>(c)];  // no branch a byte
  return plain;
}

bool AppendJsonTimestamp(int64_t seconds, int32_t nanos, std::string* out) {
  char buf[kJsonTimestampBytes];
  const char* end = WriteJsonTimestamp(seconds, nanos, buf);
  if (end == nullptr) return false;
  out->append(buf, static_cast<size_t>(end - buf));
  return true;
}

char* WriteJsonTimestamp(int64_t seconds, int32_t nanos, char* out) {
  // Years 1 to 9999, nanos in range: what the printer can write.
  if (!InTimestampRange(seconds, nanos)) return nullptr;
  // TimeUtil::ToString's form: seconds in UTC, then 0, 3, 6 or 9 digits of fraction, then Z.
  const CivilFields c = CivilFromUnixSeconds(seconds);
  char* p = out;
  *p++ = '"';
  p = Digits(p, c.year, 4);
  *p++ = '-';
  p = Digits(p, c.month, 2);
  *p++ = '-';
  p = Digits(p, c.day, 2);
  *p++ = 'T';
  p = Digits(p, c.hour, 2);
  *p++ = ':';
  p = Digits(p, c.minute, 2);
  *p++ = ':';
  p = Digits(p, c.second, 2);
  if (nanos != 0) {
    *p++ = '.';
    if (nanos % 1000000 == 0) {
      p = Digits(p, nanos / 1000000, 3);
    } else if (nanos % 1000 == 0) {
      p = Digits(p, nanos / 1000, 6);
    } else {
      p = Digits(p, nanos, 9);
    }
  }
  *p++ = 'Z';
  *p++ = '"';
  return p;
}

bool AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  const size_t size = out->size();
  if (Writer(out).Object(message)) return true;
  out->resize(size);
  return false;
}

}  // namespace claimgate::ledger
