// Weights files: key parity with the module tree, and every way loading
// must fail loudly (and without touching the model).
#include <cmath>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <torch/serialize.h>

#include "fdiwn/errors.hpp"
#include "fdiwn/upscaler.hpp"
#include "fdiwn/weights.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

// --- Key parity ------------------------------------------------------------

class KeyParity : public ::testing::TestWithParam<int> {};

TEST_P(KeyParity, TreeParametersEqualFileTensors) {
  const int scale = GetParam();
  SCOPED_TRACE("x" + std::to_string(scale));
  const WeightsFile file = read_weights_file(weights_path(scale));
  EXPECT_EQ(file.scale, scale);
  FDIWN model(config_from_weights(file));

  std::map<std::string, std::string> in_file, in_tree;
  for (const auto& kv : file.tensors) in_file[kv.first] = shape_of(kv.second);
  for (const auto& kv : model->named_parameters()) in_tree[kv.key()] = shape_of(kv.value());
  for (const auto& kv : model->named_buffers()) in_tree[kv.key()] = shape_of(kv.value());

  for (const auto& [key, shape] : in_tree) {
    auto it = in_file.find(key);
    if (it == in_file.end()) {
      ADD_FAILURE() << "missing in file: " << key << " " << shape;
    } else {
      EXPECT_EQ(it->second, shape) << "shape of " << key;
    }
  }
  for (const auto& [key, shape] : in_file) {
    EXPECT_TRUE(in_tree.count(key)) << "unexpected in file: " << key << " " << shape;
  }
  EXPECT_EQ(in_tree.size(), 1393u);
}

TEST_P(KeyParity, ParameterCountIsThePapers) {
  const int scale = GetParam();
  // FDIWN paper, Table 1 (weight normalisation's g counted, as in the paper).
  const std::map<int, int64_t> paper = {{2, 629176}, {3, 646486}, {4, 663848}};
  const WeightsFile file = read_weights_file(weights_path(scale));
  EXPECT_EQ(file.source_parameters, paper.at(scale));
  EXPECT_EQ(file.source, "FDIWNx" + std::to_string(scale) + ".pt");
}

TEST_P(KeyParity, WidthsComeFromTheFile) {
  const int scale = GetParam();
  const FdiwnConfig cfg = config_from_weights(read_weights_file(weights_path(scale)));
  EXPECT_EQ(cfg.scale, scale);
  EXPECT_EQ(cfg.n_feats, 24);
  EXPECT_EQ(cfg.wirw_expand, scale == 4 ? 60 : 48);
  EXPECT_EQ(cfg.wirw_squeeze, 12);
  EXPECT_EQ(cfg.wcrw_expand, scale == 4 ? 54 : 48);
  EXPECT_EQ(cfg.fusion_expand, scale == 4 ? 108 : 96);
  EXPECT_EQ(cfg.tail_feats, scale == 4 ? 32 : 64);
  EXPECT_EQ(cfg.tail_from_shifted, scale == 4);
}

INSTANTIATE_TEST_SUITE_P(Scales, KeyParity, ::testing::Values(2, 3, 4),
                         [](const auto& info) { return "x" + std::to_string(info.param); });

// --- Loader failures -------------------------------------------------------

// Writes a weights file like the converter's, from (possibly edited) parts.
void save_weights(const std::string& path, const WeightsFile& file, const std::string& format,
                  int64_t version) {
  c10::Dict<std::string, torch::Tensor> tensors;
  for (const auto& kv : file.tensors) tensors.insert(kv.first, kv.second);
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("format", format);
  root.insert("version", version);
  root.insert("scale", file.scale);
  root.insert("tensors", tensors);
  const std::vector<char> bytes = torch::pickle_save(root);
  write_file(path, std::string(bytes.begin(), bytes.end()));
}

class LoaderFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = read_weights_file(weights_path(2));
    config_ = config_from_weights(file_);
  }

  // Loads `path` into a fresh x2 model; expects a WeightsError whose message
  // names the file and contains `needle`, and the model left untouched.
  void expect_refused(const std::string& path, const std::string& needle) {
    SCOPED_TRACE(path);
    FDIWN model(config_);
    const torch::Tensor before = model->head->weight.clone();
    try {
      const WeightsFile broken = read_weights_file(path);
      load_weights_strict(*model, broken);
      ADD_FAILURE() << "no exception for " << path;
    } catch (const WeightsError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;
    }
    EXPECT_TRUE(torch::equal(before, model->head->weight)) << "partial load";
  }

  std::string save_edited(const std::string& name) {
    const std::string path = dir_.file(name);
    save_weights(path, file_, "fdiwn-weights", 1);
    return path;
  }

  TempDir dir_;
  WeightsFile file_;
  FdiwnConfig config_;
};

TEST_F(LoaderFailure, TruncatedFile) {
  const std::string bytes = read_file(weights_path(2));
  const std::string path = dir_.file("truncated.pt");
  write_file(path, bytes.substr(0, bytes.size() / 2));
  expect_refused(path, "truncated or corrupt");
}

TEST_F(LoaderFailure, DamagedTensorBytes) {
  // Eight bytes of a tensor overwritten: 0x7f7f7f7f is a finite float, so
  // only the zip entry's CRC tells (this loaded, and gave a black image).
  std::string bytes = read_file(weights_path(2));
  const size_t at = bytes.size() / 2;
  bytes.replace(at, 8, std::string(8, '\x7f'));
  const std::string path = dir_.file("damaged.pt");
  write_file(path, bytes);
  expect_refused(path, "CRC of entry 'archive/data/");
}

TEST_F(LoaderFailure, NonFiniteValue) {
  for (auto& kv : file_.tensors) {
    if (kv.first == "Li1.MY2.rb1.body.2.weight") kv.second.view(-1)[5] = NAN;
  }
  expect_refused(save_edited("nan.pt"),
                 "key 'Li1.MY2.rb1.body.2.weight' holds a value that is not a finite number");
}

TEST_F(LoaderFailure, KeyRemoved) {
  file_.tensors.erase(file_.tensors.begin() + 100);
  const std::string removed = read_weights_file(weights_path(2)).tensors[100].first;
  expect_refused(save_edited("removed.pt"), "missing key '" + removed + "'");
}

TEST_F(LoaderFailure, WrongShape) {
  for (auto& kv : file_.tensors) {
    if (kv.first == "Li2.MY3.fuse2.weight") kv.second = torch::zeros({24, 48, 3, 3});
  }
  expect_refused(save_edited("shape.pt"),
                 "key 'Li2.MY3.fuse2.weight': expected shape [24, 48, 1, 1], found [24, 48, 3, 3]");
}

TEST_F(LoaderFailure, ForeignKey) {
  file_.tensors.emplace_back("Li4.conv.weight", torch::zeros({24, 24, 3, 3}));
  expect_refused(save_edited("foreign.pt"),
                 "unexpected key 'Li4.conv.weight' (shape [24, 24, 3, 3])");
}

TEST_F(LoaderFailure, EmptyFile) {
  const std::string path = dir_.file("empty.pt");
  write_file(path, "");
  expect_refused(path, "empty");
}

TEST_F(LoaderFailure, TextFile) {
  const std::string path = dir_.file("notes.pt");
  write_file(path, "These are not the weights you are looking for.\n");
  expect_refused(path, "not an fdiwn weights file");
}

TEST_F(LoaderFailure, MissingFile) {
  expect_refused(dir_.file("nothing-here.pt"), "no such file");
}

TEST_F(LoaderFailure, Directory) {
  expect_refused(dir_.path(), "is a folder");
}

TEST_F(LoaderFailure, UnconvertedCheckpoint) {
  // Legacy PyTorch pickles (the authors' release) start with 0x80 0x02.
  const std::string path = dir_.file("FDIWNx2.pt");
  write_file(path, std::string("\x80\x02\x8a\x0alegacy", 10));
  expect_refused(path, "convert_weights.py");
}

TEST_F(LoaderFailure, ForeignZipArchive) {
  // A valid PyTorch zip file that is not one of ours: a bare tensor.
  const std::vector<char> bytes = torch::pickle_save(torch::zeros({2, 2}));
  const std::string path = dir_.file("tensor.pt");
  write_file(path, std::string(bytes.begin(), bytes.end()));
  expect_refused(path, "not an fdiwn weights file");
}

TEST_F(LoaderFailure, WrongFormatTag) {
  const std::string path = dir_.file("tag.pt");
  save_weights(path, file_, "something-else", 1);
  expect_refused(path, "'format'");
}

TEST_F(LoaderFailure, FutureVersion) {
  const std::string path = dir_.file("v2.pt");
  save_weights(path, file_, "fdiwn-weights", 2);
  expect_refused(path, "version");
}

TEST_F(LoaderFailure, UnsupportedScale) {
  file_.scale = 5;
  expect_refused(save_edited("x5.pt"), "scale x5 is not supported");
}

TEST_F(LoaderFailure, NonFloatTensor) {
  file_.tensors[0].second = file_.tensors[0].second.to(torch::kFloat64);
  expect_refused(save_edited("double.pt"), "not a dense float32 tensor");
}

TEST(UpscalerWeights, RefusesWeightsForAnotherScale) {
  UpscalerOptions options;
  options.scale = 2;
  options.weights_path = weights_path(3);
  try {
    Upscaler up(options);
    FAIL() << "x3 weights accepted for x2";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("these weights are for x3, not x2"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.path(), weights_path(3));
  }
}

TEST(UpscalerWeights, RefusesBadScaleBeforeLoading) {
  UpscalerOptions options;
  options.scale = 5;
  options.weights_path = weights_path(4);
  EXPECT_THROW(Upscaler{options}, InvalidArgument);
}

}  // namespace
}  // namespace fdiwn::test
