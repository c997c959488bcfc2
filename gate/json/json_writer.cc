// One way to print the JSON we build (gate/json/json_writer.h).
#include "gate/json/json_writer.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace claimgate::gate {

std::string JsonText(const Json& value) {
  return value.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                    Json::error_handler_t::replace);
}

Json JsonObject(size_t keys) {
  Json out = Json::object();
  out.get_ref<Json::object_t&>().reserve(keys);  // object_t, an ordered_map, is a std::vector
  return out;
}

Json Fixed(double x, int decimals) {
  if (!std::isfinite(x)) return nullptr;
  // printf's rounding, then the nearest double: its shortest form (what Json prints) is the same
  // digits, up to 15 significant ones.
  const std::string text = absl::StrFormat("%.*f", decimals, x);
  if (int64_t n = 0; decimals == 0 && absl::SimpleAtoi(text, &n)) return n;
  double rounded = 0;
  return absl::SimpleAtod(text, &rounded) ? Json(rounded) : Json(x);  // always the first
}

}  // namespace claimgate::gate
