// Every unit of the module tree against the authors' network: the golden
// files hold each unit's input and output on a fixed 1x3x20x28 image.
#include <functional>
#include <map>
#include <string>

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include "engine/engine.hpp"
#include "engine/kernels.hpp"
#include "fdiwn/model.hpp"
#include "fdiwn/weights.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

// Outputs reach ~440 in magnitude; float32 reordering gives ~1e-4.
constexpr double kTolerance = 1e-3;
// The engine runs the 3x3s by Winograd's F(6x6, 3x3), whose transforms
// scale terms by up to 32 before they cancel: over the whole network its
// rounding reaches ~1.8e-3 (under a five-hundredth of an 8-bit level). A unit alone
// stays under kTolerance.
constexpr double kEngineNetworkTolerance = 3e-3;

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

const engine::Engine& compiled(int scale) {
  static std::map<int, std::unique_ptr<engine::Engine>> cache;
  auto& e = cache[scale];
  if (!e) e = std::make_unique<engine::Engine>(*model(scale));
  return *e;
}

// Per-channel mean and population variance, as the engine gathers them.
engine::Stats stats_of(const torch::Tensor& x) {
  engine::Stats s;
  const auto mean = x.mean({0, 2, 3}), var = x.var({0, 2, 3}, /*unbiased=*/false);
  for (int64_t c = 0; c < x.size(1); ++c) {
    s.mean[c] = mean[c].item<double>();
    s.var[c] = var[c].item<double>();
  }
  return s;
}

// The engine's shuffle attention: gates from the statistics, one apply.
torch::Tensor engine_attention(const engine::AttentionGate& gate, const torch::Tensor& x) {
  const auto in = x.permute({0, 2, 3, 1}).contiguous();
  auto out = torch::empty_like(in);
  engine::ops::attend(in.data_ptr<float>(), gate.gates(stats_of(x)), 1.0f, nullptr, 0.0f, 1.0f,
                      out.data_ptr<float>(), engine::kC, in.numel() / engine::kC);
  return out.permute({0, 3, 1, 2});
}

// The engine's interaction weights from the statistics.
torch::Tensor engine_coffconv(const engine::InteractionGate& gate, const torch::Tensor& x) {
  engine::Weights w = gate.weights(stats_of(x));
  return torch::from_blob(w.data(), {1, 24, 1, 1}).clone();
}

const engine::WdibKernels& my1(int scale) {
  return compiled(scale).kernels().li1.my1;
}

// The same units through the engine (band passes, oneDNN kernels, scales
// folded into weights).
using EngineFn = std::function<torch::Tensor(int, const torch::Tensor&)>;
const std::map<std::string, EngineFn>& engine_units() {
  static const std::map<std::string, EngineFn> u = {
      {"Li1", [](int s, const torch::Tensor& x) { return run_unit(compiled(s).kernels().li1, x); }},
      {"Li1.MY1", [](int s, const torch::Tensor& x) { return run_unit(my1(s), x); }},
      {"Li1.MY1.srb1", [](int s, const torch::Tensor& x) { return run_unit(my1(s).srb1, x); }},
      {"Li1.MY1.srb1.SAlayer",
       [](int s, const torch::Tensor& x) { return engine_attention(my1(s).srb1.attention, x); }},
      {"Li1.MY1.rb1", [](int s, const torch::Tensor& x) { return run_unit(my1(s).rb1, x); }},
      {"Li1.MY1.fuse1",
       [](int s, const torch::Tensor& x) {
         // Compiled for the unscaled concatenation: undo scale_x1/scale_x2.
         auto& my = model(s)->Li1->MY1;
         const auto unscaled = torch::cat(
             {x.narrow(1, 0, 24) / my->scale_x1->scale, x.narrow(1, 24, 24) / my->scale_x2->scale},
             1);
         return run_unit(my1(s).fuse1, unscaled);
       }},
      {"Li1.MY1.A1_coffconv",
       [](int s, const torch::Tensor& x) { return engine_coffconv(my1(s).a1, x); }},
      {"Li1.MY1.SAlayer",
       [](int s, const torch::Tensor& x) { return engine_attention(my1(s).attention, x); }},
      {"Li1.rb1",
       [](int s, const torch::Tensor& x) { return run_unit(compiled(s).kernels().li1.rb1, x); }},
      {"FDIWN", [](int s, const torch::Tensor& x) { return compiled(s).forward(x); }},
  };
  return u;
}

void check_unit(int scale, const std::string& unit, bool on_engine = false) {
  SCOPED_TRACE("x" + std::to_string(scale) + " " + unit + (on_engine ? " (engine)" : ""));
  c10::InferenceMode guard;
  const Golden& g = golden(scale);
  const bool whole = unit == "FDIWN";
  const auto& in = g.at(whole ? "input" : unit + ".in");
  const auto& expected = g.at(whole ? "output" : unit + ".out");
  const torch::Tensor out = on_engine ? engine_units().at(unit)(scale, in)
                            : whole   ? model(scale)->forward(in)
                                      : units().at(unit)(model(scale), in);
  ASSERT_EQ(out.sizes(), expected.sizes());
  const double diff = (out - expected).abs().max().item<double>();
  const double magnitude = expected.abs().max().item<double>();
  ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
  std::printf("x%d %-22s %-9s max |diff| %.3g (output magnitude %.1f)\n", scale, unit.c_str(),
              on_engine ? "engine" : "plain", diff, magnitude);
  EXPECT_LT(diff, on_engine && whole ? kEngineNetworkTolerance : kTolerance);
}

class UnitParity : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(UnitParity, MatchesAuthorsNetwork) {
  check_unit(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

class EngineUnitParity : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(EngineUnitParity, MatchesAuthorsNetwork) {
  check_unit(std::get<0>(GetParam()), std::get<1>(GetParam()), /*on_engine=*/true);
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

std::vector<std::string> engine_unit_names() {
  std::vector<std::string> names;
  for (const auto& kv : engine_units()) names.push_back(kv.first);
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

INSTANTIATE_TEST_SUITE_P(AllScales, EngineUnitParity,
                         ::testing::Combine(::testing::Values(2, 3, 4),
                                            ::testing::ValuesIn(engine_unit_names())),
                         [](const auto& info) {
                           return case_name(std::get<0>(info.param), std::get<1>(info.param));
                         });

}  // namespace
}  // namespace fdiwn::test
