// Every unit of the module tree against the authors' network: the golden
// files hold each unit's input and output on a fixed 1x3x20x28 image.
#include <functional>
#include <map>
#include <string>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

// Outputs reach ~440 in magnitude; float32 reordering gives ~1e-4.
constexpr double kTolerance = 1e-3;

using Golden = std::map<std::string, torch::Tensor>;

const Golden& golden(int scale) {
  static std::map<int, Golden> cache;
  auto it = cache.find(scale);
  if (it != cache.end()) return it->second;
  const std::string path = data_path("golden/fdiwn_x" + std::to_string(scale) + "_modules.pt");
  const std::string bytes = read_file(path);
  const auto root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  Golden g;
  for (const auto& kv : root.toGenericDict())
    g[kv.key().toStringRef()] = kv.value().toTensor();
  return cache[scale] = g;
}

FDIWN& model(int scale) {
  static std::map<int, FDIWN> cache;
  auto it = cache.find(scale);
  if (it == cache.end()) it = cache.emplace(scale, load_fdiwn(weights_path(scale), scale)).first;
  return it->second;
}

using UnitFn = std::function<torch::Tensor(FDIWN&, const torch::Tensor&)>;

// Golden name -> how to run that unit of our tree.
const std::map<std::string, UnitFn>& units() {
  static const std::map<std::string, UnitFn> u = {
      {"head", [](FDIWN& m, const torch::Tensor& x) { return m->head(x); }},
      {"Li1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1(x); }},
      {"Li1.MY1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1(x); }},
      {"Li1.MY1.srb1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->srb1(x); }},
      {"Li1.MY1.srb1.SAlayer",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->srb1->SAlayer(x); }},
      {"Li1.MY1.rb1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->rb1(x); }},
      {"Li1.MY1.fuse1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->fuse1(x); }},
      {"Li1.MY1.A1_coffconv",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->A1_coffconv(x); }},
      {"Li1.MY1.SAlayer", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->SAlayer(x); }},
      {"Li1.rb1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->rb1(x); }},
      {"Li1.conv1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->conv1(x); }},
      {"Li1.channel_shuffle1",
       [](FDIWN&, const torch::Tensor& x) { return fdiwn::channel_shuffle(x, 4); }},
      {"conv1", [](FDIWN& m, const torch::Tensor& x) { return m->conv1(x); }},
      {"UP1", [](FDIWN& m, const torch::Tensor& x) { return m->UP1->forward(x); }},
      {"conv2", [](FDIWN& m, const torch::Tensor& x) { return m->conv2(x); }},
      {"UP2", [](FDIWN& m, const torch::Tensor& x) { return m->UP2->forward(x); }},
  };
  return u;
}

void check_unit(int scale, const std::string& unit) {
  SCOPED_TRACE("x" + std::to_string(scale) + " " + unit);
  c10::InferenceMode guard;
  const Golden& g = golden(scale);
  const bool whole = unit == "FDIWN";
  const auto& in = g.at(whole ? "input" : unit + ".in");
  const auto& expected = g.at(whole ? "output" : unit + ".out");
  const torch::Tensor out = whole ? model(scale)->forward(in) : units().at(unit)(model(scale), in);
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double diff = (out - expected).abs().max().item<double>();
  const double magnitude = expected.abs().max().item<double>();
  ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
  std::printf("x%d %-22s max |diff| %.3g (output magnitude %.1f)\n", scale, unit.c_str(), diff,
              magnitude);
  EXPECT_LT(diff, kTolerance);
}

class UnitParity : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(UnitParity, MatchesAuthorsNetwork) {
  check_unit(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

TEST(UnitParityCoverage, EveryGoldenUnitIsTested) {
  for (int scale : {2, 3, 4}) {
    for (const auto& kv : golden(scale)) {
      const std::string& name = kv.first;
      if (name == "input" || name == "output") continue;
      const std::string unit = name.substr(0, name.rfind('.'));
      EXPECT_TRUE(units().count(unit)) << "golden unit without a test: " << unit;
    }
  }
}

std::vector<std::string> unit_names() {
  std::vector<std::string> names = {"FDIWN"};
  for (const auto& kv : units())
    names.push_back(kv.first);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllScales, UnitParity,
                         ::testing::Combine(::testing::Values(2, 3, 4),
                                            ::testing::ValuesIn(unit_names())),
                         [](const auto& info) {
                           std::string name = "x" + std::to_string(std::get<0>(info.param)) + "_" +
                                              std::get<1>(info.param);
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace fdiwn::test
