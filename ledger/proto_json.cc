// The direct JSON writer (proto_json.h).
#include "ledger/proto_json.h"

#include <cstdio>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace claimgate::ledger {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Printable ASCII that JSON escapers leave alone: no quote, backslash, HTML-sensitive character
// or DEL.
bool Plain(const std::string& s) {
  for (const char c : s) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' ||
        c == '\'' || c == '=') {
      return false;
    }
  }
  return true;
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
        if (!Plain(s)) return false;
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
    // Years 1 to 9999, nanos in range: what the printer can write.
    if (ts == nullptr || ts->seconds() < -62135596800 || ts->seconds() > 253402300799 ||
        ts->nanos() < 0 || ts->nanos() > 999999999) {
      return false;
    }
    // TimeUtil::ToString's form: seconds in UTC, then 0, 3, 6 or 9 digits of fraction, then Z.
    const absl::CivilSecond c =
        absl::ToCivilSecond(absl::FromUnixSeconds(ts->seconds()), absl::UTCTimeZone());
    char buf[40];
    int n = snprintf(buf, sizeof(buf), "\"%04d-%02d-%02dT%02d:%02d:%02d",
                     static_cast<int>(c.year()), c.month(), c.day(), c.hour(), c.minute(),
                     c.second());
    const int32_t nanos = ts->nanos();
    if (nanos != 0 && nanos % 1000000 == 0) {
      n += snprintf(buf + n, sizeof(buf) - n, ".%03d", nanos / 1000000);
    } else if (nanos != 0 && nanos % 1000 == 0) {
      n += snprintf(buf + n, sizeof(buf) - n, ".%06d", nanos / 1000);
    } else if (nanos != 0) {
      n += snprintf(buf + n, sizeof(buf) - n, ".%09d", nanos);
    }
    out_->append(buf, n);
    out_->append("Z\"");
    return true;
  }

  std::string* out_;
  size_t depth_ = 0;
  std::vector<std::vector<const FieldDescriptor*>>* fields_;  // the set fields, per depth
};

}  // namespace

bool AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  const size_t size = out->size();
  if (Writer(out).Object(message)) return true;
  out->resize(size);
  return false;
}

}  // namespace claimgate::ledger
