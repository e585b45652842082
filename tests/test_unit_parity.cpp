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
#include "model/fused_ops.hpp"
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
  for (const auto& kv : root.toGenericDict()) g[kv.key().toStringRef()] = kv.value().toTensor();
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

// The optimised path's shuffle attention: statistics, gates, one apply pass.
torch::Tensor optimised_attention(ShuffleAttentionImpl& sa, const torch::Tensor& x_in) {
  const torch::Tensor x = x_in.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::Tensor out = fused::empty_nhwc(x.size(0), x.size(1), x.size(2), x.size(3));
  fused::ApplyArgs args;
  args.body = &x;
  args.gates = sa.gates(fused::channel_stats(x));
  args.out = &out;
  fused::attention_apply(args);
  return out;
}

// The optimised path's CoffConv: gates from one statistics pass.
torch::Tensor optimised_coffconv(CoffConvImpl& cc, const torch::Tensor& x) {
  const auto gates =
      cc.gates(fused::channel_stats(x.contiguous(torch::MemoryFormat::ChannelsLast)));
  return torch::from_blob(const_cast<float*>(gates[0].data()), {1, 24, 1, 1}).clone();
}

// The same units through the optimised path (fused kernels, channels-last,
// weights with scales folded in).
const std::map<std::string, UnitFn>& optimised_units() {
  static const std::map<std::string, UnitFn> u = {
      {"Li1", [](FDIWN& m, const torch::Tensor& x) { return m->Li1->forward_optimised(x); }},
      {"Li1.MY1",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->forward_optimised(x); }},
      {"Li1.MY1.srb1",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->srb1->forward_optimised(x); }},
      {"Li1.MY1.srb1.SAlayer",
       [](FDIWN& m, const torch::Tensor& x) {
         return optimised_attention(*m->Li1->MY1->srb1->SAlayer, x);
       }},
      {"Li1.MY1.rb1",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->MY1->rb1->forward_optimised(x); }},
      {"Li1.MY1.fuse1",
       [](FDIWN& m, const torch::Tensor& x) {
         // Prepared for the unscaled concatenation: undo scale_x1/scale_x2.
         auto& my = m->Li1->MY1;
         const auto unscaled = torch::cat(
             {x.narrow(1, 0, 24) / my->scale_x1->scale, x.narrow(1, 24, 24) / my->scale_x2->scale},
             1);
         return my->fuse1->forward_optimised(unscaled);
       }},
      {"Li1.MY1.A1_coffconv",
       [](FDIWN& m, const torch::Tensor& x) {
         return optimised_coffconv(*m->Li1->MY1->A1_coffconv, x);
       }},
      {"Li1.MY1.SAlayer",
       [](FDIWN& m, const torch::Tensor& x) {
         return optimised_attention(*m->Li1->MY1->SAlayer, x);
       }},
      {"Li1.rb1",
       [](FDIWN& m, const torch::Tensor& x) { return m->Li1->rb1->forward_optimised(x); }},
      {"FDIWN", [](FDIWN& m, const torch::Tensor& x) { return m->forward_optimised(x); }},
  };
  return u;
}

void check_unit(int scale, const std::string& unit, bool optimised = false) {
  SCOPED_TRACE("x" + std::to_string(scale) + " " + unit + (optimised ? " (optimised)" : ""));
  c10::InferenceMode guard;
  const Golden& g = golden(scale);
  const bool whole = unit == "FDIWN";
  const auto& in = g.at(whole ? "input" : unit + ".in");
  const auto& expected = g.at(whole ? "output" : unit + ".out");
  const torch::Tensor out = optimised ? optimised_units().at(unit)(model(scale), in)
                            : whole   ? model(scale)->forward_plain(in)
                                      : units().at(unit)(model(scale), in);
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double diff = (out - expected).abs().max().item<double>();
  const double magnitude = expected.abs().max().item<double>();
  ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
  std::printf("x%d %-22s %-9s max |diff| %.3g (output magnitude %.1f)\n", scale, unit.c_str(),
              optimised ? "optimised" : "plain", diff, magnitude);
  EXPECT_LT(diff, kTolerance);
}

class UnitParity : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(UnitParity, MatchesAuthorsNetwork) {
  check_unit(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

class OptimisedUnitParity : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(OptimisedUnitParity, MatchesAuthorsNetwork) {
  check_unit(std::get<0>(GetParam()), std::get<1>(GetParam()), /*optimised=*/true);
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
  for (const auto& kv : units()) names.push_back(kv.first);
  return names;
}

std::vector<std::string> optimised_unit_names() {
  std::vector<std::string> names;
  for (const auto& kv : optimised_units()) names.push_back(kv.first);
  return names;
}

std::string case_name(int scale, std::string unit) {
  for (char& c : unit) {
    if (c == '.') c = '_';
  }
  return "x" + std::to_string(scale) + "_" + unit;
}

INSTANTIATE_TEST_SUITE_P(AllScales, UnitParity,
                         ::testing::Combine(::testing::Values(2, 3, 4),
                                            ::testing::ValuesIn(unit_names())),
                         [](const auto& info) {
                           return case_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

INSTANTIATE_TEST_SUITE_P(AllScales, OptimisedUnitParity,
                         ::testing::Combine(::testing::Values(2, 3, 4),
                                            ::testing::ValuesIn(optimised_unit_names())),
                         [](const auto& info) {
                           return case_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

}  // namespace
}  // namespace fdiwn::test
