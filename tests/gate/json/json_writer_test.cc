// The one printer of the JSON we build (gate/json/json_writer.h): keys in insertion order, UTF-8
// as is, invalid UTF-8 replaced so the text always parses, and figures with printf's digits.
#include "gate/json/json_writer.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace claimgate::gate {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

TEST(JsonWriterTest, KeysInInsertionOrderCompactOnOneLine) {
  Json j = {{"z", 1}, {"a", {{"y", true}, {"b", nullptr}}}, {"m", Json::array()}};
  j["c"] = Json::object();
  EXPECT_EQ(JsonText(j), R"({"z":1,"a":{"y":true,"b":null},"m":[],"c":{}})");
  Json sized = JsonObject(3);
  EXPECT_EQ(JsonText(sized), "{}");
  sized["z"] = 1;
  sized["a"] = "x";
  EXPECT_EQ(JsonText(sized), R"({"z":1,"a":"x"})");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharactersOnly) {
  EXPECT_EQ(JsonText("q\"b\\/\x01\x1f\x7f"), R"("q\"b\\/\u0001\u001f)" "\x7f\"");
  // Five control characters by their short names (JsonQuote, before issue 15, wrote \u0009 ...).
  EXPECT_EQ(JsonText("\b\t\n\f\r"), R"("\b\t\n\f\r")");
  EXPECT_EQ(JsonText("医保 D001 ✓"), "\"医保 D001 ✓\"");
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacterAndTheTextParses) {
  struct Case {
    std::string in, out;
  };
  for (const Case& c : {
           Case{"D\xff" "1", std::string("D") + kReplacement + "1"},
           Case{"\xc3", kReplacement},                                  // truncated at the end
           Case{"\xe5\x8c" "A", std::string(kReplacement) + "A"},       // truncated in the middle
           Case{"\xc0\xaf", std::string(kReplacement) + kReplacement},  // overlong '/'
           // A UTF-16 surrogate: not a character in UTF-8.
           Case{"\xed\xa0\x80", std::string(kReplacement) + kReplacement + kReplacement},
       }) {
    const std::string text = JsonText({{"id", c.in}});
    EXPECT_EQ(text, "{\"id\":\"" + c.out + "\"}");
    EXPECT_TRUE(Json::accept(text)) << text;  // the parser refuses invalid UTF-8
  }
}

TEST(JsonWriterTest, FixedPrintsPrintfDigitsWithoutTrailingZeros) {
  EXPECT_EQ(JsonText(Fixed(212487.4, 0)), "212487");
  EXPECT_EQ(JsonText(Fixed(46.06, 1)), "46.1");
  EXPECT_EQ(JsonText(Fixed(2, 1)), "2.0");      // %.1f: 2.0
  EXPECT_EQ(JsonText(Fixed(0.04, 1)), "0.0");   // %.1f: 0.0
  EXPECT_EQ(JsonText(Fixed(7.9754, 3)), "7.975");
  EXPECT_EQ(JsonText(Fixed(0.5, 3)), "0.5");    // %.3f: 0.500
  EXPECT_EQ(JsonText(Fixed(0.83456, 4)), "0.8346");
  EXPECT_EQ(JsonText(Fixed(1234567.126, 2)), "1234567.13");
  EXPECT_EQ(JsonText(Fixed(std::numeric_limits<double>::infinity(), 0)), "null");
  EXPECT_EQ(JsonText(Fixed(std::nan(""), 3)), "null");
}

}  // namespace
}  // namespace claimgate::gate
