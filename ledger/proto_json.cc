// The direct JSON writer (proto_json.h).
#include "ledger/proto_json.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

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
  explicit Writer(std::string* out) : out_(out) {}

  bool Object(const Message& m) {
    if (m.GetDescriptor() == google::protobuf::Timestamp::descriptor()) return Time(m);
    if (absl::StartsWith(m.GetDescriptor()->full_name(), "google.protobuf.")) return false;
    const Reflection* r = m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(m, &fields);  // the set fields, by number
    out_->push_back('{');
    bool first = true;
    for (const FieldDescriptor* f : fields) {
      if (f->is_map()) return false;
      if (!first) out_->push_back(',');
      first = false;
      absl::StrAppend(out_, "\"", f->name(), "\":");
      if (!f->is_repeated()) {
        if (!Value(m, f, -1)) return false;
        continue;
      }
      out_->push_back('[');
      const int n = r->FieldSize(m, f);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out_->push_back(',');
        if (!Value(m, f, i)) return false;
      }
      out_->push_back(']');
    }
    out_->push_back('}');
    return true;
  }

 private:
  // Field `f` of `m` (element `i` when repeated, -1 otherwise).
  bool Value(const Message& m, const FieldDescriptor* f, int i) {
    const Reflection* r = m.GetReflection();
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
    absl::StrAppend(out_, "\"", google::protobuf::util::TimeUtil::ToString(*ts), "\"");
    return true;
  }

  std::string* out_;
};

}  // namespace

bool AppendProtoJson(const google::protobuf::Message& message, std::string* out) {
  const size_t size = out->size();
  if (Writer(out).Object(message)) return true;
  out->resize(size);
  return false;
}

}  // namespace claimgate::ledger
