// The library's vocabulary: every name parses back to its value, and any
// other name is refused with the choices listed.
#include <string>

#include <gtest/gtest.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/options.hpp"

namespace fdiwn::test {
namespace {

template <class E, std::size_t N>
void expect_round_trip(const E (&all)[N], E (*parse)(const std::string&)) {
  for (const E value : all) {
    SCOPED_TRACE(to_string(value));
    EXPECT_EQ(parse(to_string(value)), value);
  }
}

template <class E>
void expect_refused(E (*parse)(const std::string&), const std::string& name,
                    const std::string& listed) {
  SCOPED_TRACE(name);
  try {
    parse(name);
    ADD_FAILURE() << "accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'" + name + "': not one of " + listed), std::string::npos)
        << e.what();
  }
}

TEST(Options, NamesRoundTrip) {
  expect_round_trip(kModes, parse_mode);
  expect_round_trip(kAlphaModes, parse_alpha_mode);
  expect_round_trip(kPaths, parse_path);
}

TEST(Options, OtherNamesAreRefusedWithTheChoices) {
  expect_refused(parse_mode, "Whole", "auto, whole, chop");
  expect_refused(parse_mode, "", "auto, whole, chop");
  expect_refused(parse_alpha_mode, "nearest", "network, bicubic");
  expect_refused(parse_path, "optimised", "engine, plain");
}

}  // namespace
}  // namespace fdiwn::test
