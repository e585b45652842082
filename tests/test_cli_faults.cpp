// The smaller faults the hostile campaign found: entries skipped without a
// word, outputs that are folders, names and formats checked too late or not
// at all, values that overflow, messages that name no file or the wrong
// one, and a re-run that refused its own outputs.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "cli_files.hpp"
#include "cli_runner.hpp"
#include "test_support.hpp"

namespace fdiwn::test {
namespace {

namespace fs = std::filesystem;

TEST(Faults, EntriesLeftOutOfAFolderAreNoted) {
  TempDir dir;
  noise_image(dir, "in/a.png");
  fs::create_symlink(dir.file("in/nowhere.png"), dir.file("in/dangling.png"));
  fs::create_symlink(dir.file("in/loop.png"), dir.file("in/loop.png"));
  fs::create_directory_symlink(dir.file("in"), dir.file("in/cycle"));
  noise_image(dir, "in/locked/b.png");
  noise_image(dir, "in/.hidden.png");
  ::chmod(dir.file("in/locked").c_str(), 0);
  CliOptions o;
  o.unprivileged = true;  // root would list the locked folder anyway
  const auto r =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-s", "2", "-r"}, o);
  // The locked folder's images are missed: that fails the run (exit 0 once,
  // CliPermissions.UnreadableSubFolderFailsTheRunAndOthersGoOn).
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char* entry : {"dangling.png", "loop.png", "cycle", "locked"}) {
    EXPECT_NE(r.err.find(dir.file(std::string("in/") + entry) + ": "), std::string::npos)
        << entry << " not noted:\n"
        << r.err;
  }
  // Found by hand: a hidden image was left out without a word.
  EXPECT_NE(r.err.find("leaving out 1 hidden image (a name starting with '.'; first: " +
                       dir.file("in/.hidden.png") + ")"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/a.png")));
  // Without -r, the sub-folders are counted (they were left out without a
  // word).
  const auto flat =
      run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("flat"), "-s", "2"}, o);
  EXPECT_EQ(flat.exit_code, 0) << flat.err;
  EXPECT_NE(flat.err.find("leaving out 1 sub-folder (-r descends into sub-folders; first: " +
                          dir.file("in/locked") + ")"),
            std::string::npos)
      << flat.err;
}

// Found by hand: --quality with PNG outputs, and -r with no folder among
// the inputs, were ignored without a word.
TEST(Faults, OptionsThatCanDoNothingAreNoted) {
  TempDir dir;
  noise_image(dir, "a.png");
  const auto png = run_fdiwn({"upscale", "-i", dir.file("a.png"), "-o", dir.file("a_x2.png"), "-s",
                              "2", "--quality", "50", "-r"});
  EXPECT_EQ(png.exit_code, 0) << png.err;
  EXPECT_NE(png.err.find("--quality 50 is ignored: it sets JPEG, WebP and AVIF outputs, and the "
                         "outputs here are PNG"),
            std::string::npos)
      << png.err;
  EXPECT_NE(png.err.find("-r is ignored: no input is a folder"), std::string::npos) << png.err;
  EXPECT_TRUE(fs::exists(dir.file("a_x2.png")));
  // Where they act, nothing is said.
  noise_image(dir, "in/sub/b.png");
  const auto jpg = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-s", "2",
                              "-f", "jpg", "--quality", "50", "-r"});
  EXPECT_EQ(jpg.exit_code, 0) << jpg.err;
  EXPECT_EQ(jpg.err.find("is ignored"), std::string::npos) << jpg.err;
  EXPECT_TRUE(fs::exists(dir.file("out/sub/b.jpg")));
}

TEST(Faults, OutputPathThatIsAFolderFails) {
  TempDir dir;
  noise_image(dir, "in/a.png");
  fs::create_directories(dir.file("out/a.png"));
  const auto r = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-s", "2"});
  expect_error(r, 1, "is a folder");  // was reported "skipped"
}

TEST(Faults, NamesAndFormatsAreCheckedBeforeTheWork) {
  TempDir dir;
  noise_image(dir, "in/a.png");
  const std::string in = dir.file("in"), out = dir.file("out");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--name", "{name}.foo"}), 2, ".foo");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--name", "{name}.png", "-f", "jpg"}), 2,
               "does not match --format jpg");
  // No extension at all: said so, -f or not (found by hand: "does not match").
  expect_error(
      run_fdiwn({"upscale", "-i", dir.file("in/a.png"), "-o", dir.file("noext"), "-f", "png"}), 2,
      "no extension to choose the image format from");
  // A device that is not /dev/null: named as one (found by hand: "no
  // extension", although -f was given).
  if (fs::exists("/dev/full")) {
    expect_error(run_fdiwn({"upscale", "-i", dir.file("in/a.png"), "-o", "/dev/full", "-f", "png"}),
                 2, "/dev/full: is a character device; fdiwn writes files, FIFOs, terminals and");
  }
  EXPECT_FALSE(fs::exists(out));
  // Two spellings of one format agree.
  const std::string a = dir.file("in/a.png");
  EXPECT_EQ(
      run_fdiwn({"upscale", "-i", a, "-o", dir.file("x.jpg"), "-f", "jpeg", "-s", "2"}).exit_code,
      0);
  EXPECT_EQ(
      run_fdiwn({"upscale", "-i", a, "-o", dir.file("x.tif"), "-f", "tiff", "-s", "2"}).exit_code,
      0);
}

// Found by hand: each was taken, then ignored or misread.
TEST(Faults, OptionsThatCannotDoWhatTheySayAreRefused) {
  TempDir dir;
  const std::string in = noise_image(dir, "a.png"), out = dir.file("o.png");
  // -q won over -v without a word.
  expect_error(run_fdiwn({"-v", "upscale", "-i", in, "-o", out, "-q"}), 2, "excludes");
  // One output file named by -o: --name has nothing to name.
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--name", "{name}_x.png"}), 2,
               "--name '{name}_x.png' names the files of an output folder; -o " + out);
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", "-", "--name", "{name}.png"}), 2,
               "names the files of an output folder");
  // A budget no image fits in: refused before the work, with the least one.
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--max-memory", "100M"}), 2,
               "--max-memory '100M': fdiwn needs at least ");
  EXPECT_FALSE(fs::exists(out));
  // A word after a list option is not one of its values ("--scale: a.png"),
  // and a value given twice is refused (bench ran the scale twice).
  const std::vector<std::string> metrics = {"metrics", "--hr", dir.path(), "--sr", dir.path()};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  expect_error(run_fdiwn(with(metrics, {"-s", "4", in})), 2,
               "The following argument was not expected: " + in);
  expect_error(run_fdiwn(with(metrics, {"-s", "4", "-s", "4"})), 2, "--scale: 4 is given twice");
  expect_error(run_fdiwn(with(metrics, {"-s", "2,4,2"})), 2, "--scale: 2 is given twice");
  expect_error(run_fdiwn({"bench", "--hr", dir.path(), "-s", "2", "--baseline", "bicubic",
                          "--baseline", "bicubic"}),
               2, "--baseline: bicubic is given twice");
  // Several scales in one value: both scored.
  noise_image(dir, "hr/a.png", 48, 48);
  noise_image(dir, "sr/x2/a.png", 48, 48);
  noise_image(dir, "sr/x4/a.png", 48, 48);
  const auto both = run_fdiwn({"metrics", "--hr", dir.file("hr"), "--sr", dir.file("sr/x{scale}"),
                               "-s", "2,4", "--json", dir.file("s.json")});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  const auto runs = nlohmann::json::parse(read_file(dir.file("s.json"))).at("runs");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs.at(0).at("scale"), 2);
  EXPECT_EQ(runs.at(1).at("scale"), 4);
  EXPECT_EQ(runs.at(1).at("images").size(), 1u);
}

TEST(Faults, ResultTooLargeForItsFormatFailsBeforeTheWork) {
  TempDir dir;
  const std::string in = noise_image(dir, "wide.png", 9000, 4);
  const auto r = run_fdiwn({"upscale", "-i", in, "-o", dir.file("wide.webp"), "-s", "2", "--json"});
  expect_error(r, 1, "16383");
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_TRUE(doc.at("files").at(0).at("input_size").is_null()) << "it was decoded and upscaled";
}

TEST(Faults, ValuesOutOfRangeAreUsageErrors) {
  TempDir dir;
  const std::string in = noise_image(dir, "a.png");
  const std::string out = dir.file("o.png");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--max-memory", "1e30"}), 2,
               "--max-memory");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "-j", "100000"}), 2, "-j 100000");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", ""}), 2, "--output: an empty value");
  EXPECT_FALSE(fs::exists(dir.file("a.png.png")));
  // Found by hand: NaN passed the range check, and empty values were read
  // as "not given" (an unset shell variable ran the bundled weights).
  for (const char* nan : {"nan", "-nan", "NaN"}) {
    SCOPED_TRACE(nan);
    expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--outscale", nan}), 2,
                 std::string("--outscale: Value '") + nan + "' is not a plain decimal number");
  }
  for (const char* option : {"-w", "--max-memory", "--shard", "--name", "-f"}) {
    SCOPED_TRACE(option);
    expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, option, ""}), 2, "an empty value");
  }
  expect_error(run_fdiwn({"bench", "--hr", ""}), 2, "--hr: an empty value");
  // Found by hand: a required option was advised to be left out, " 2" was
  // "not in range [1 - 16]", and a missing folder was "not a folder".
  const auto no_input = run_fdiwn({"upscale", "-i", "", "-o", out});
  expect_error(no_input, 2, "--input: an empty value");
  EXPECT_EQ(no_input.err.find("leave the option out"), std::string::npos) << no_input.err;
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--outscale", " 2"}), 2,
               "--outscale: Value ' 2' is not a plain decimal number");
  expect_error(run_fdiwn({"bench", "--hr", dir.file("nowhere"), "-s", "2"}), 2,
               dir.file("nowhere") + ": no such folder");
  // Found by hand: "Value 0 not in range 0.000000 to 1797693134862...".
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--width", "0"}), 2,
               "--width: '0' is not a number above 0");
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "-j", "-1"}), 2,
               "--threads: '-1' is not a number of 0 or more");
  EXPECT_FALSE(fs::exists(out));
  // A tiny pixel limit is printed as a count, not as "0.0 MP".
  expect_error(run_fdiwn({"upscale", "-i", in, "-o", out, "--max-pixels", "1"}), 1,
               "more than the 1 pixel allowed");
}

TEST(Faults, WeightsErrorCreatesNoOutputFolder) {
  TempDir dir;
  const std::string in = noise_image(dir, "a.png");
  const auto r = run_fdiwn({"upscale", "-i", in, "-o", dir.file("new/"), "-w", dir.file("no.pt")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("new")));
}

TEST(Faults, JsonDocumentEvenOnUsageAndWeightsErrors) {
  TempDir dir;
  const std::string in = noise_image(dir, "a.png");
  for (const auto& [args, code] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{"upscale", "-i", in, "-o", "", "--json"}, 2},
           {{"upscale", "-i", in, "-o", dir.file("o.png"), "--json", "-s", "5"}, 2},
           {{"upscale", "-i", in, "-o", in, "--json"}, 2},
           {{"upscale", "-i", in, "-o", dir.file("o.png"), "-w", dir.file("no.pt"), "--json"},
            3}}) {
    const auto r = run_fdiwn(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc.at("exit_code"), code);
    EXPECT_FALSE(doc.at("error").get<std::string>().empty());
  }
}

TEST(Faults, ScoresNameTheFileAtFaultAndNoFalseMeans) {
  TempDir dir;
  noise_image(dir, "HR/tiny.png", 3, 3);  // nothing left after a mod-crop by 4
  noise_image(dir, "SR/tiny.png", 3, 3);
  const auto r = run_fdiwn({"metrics", "--hr", dir.file("HR"), "--sr", dir.file("SR"), "-s", "4",
                            "--json", dir.file("m.json")});
  expect_error(r, 1, dir.file("HR/tiny.png") + ": is 3x3");
  EXPECT_NE(r.out.find("mean of 0"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("0.0000"), std::string::npos) << "a mean of no images:\n" << r.out;
  const auto doc = nlohmann::json::parse(read_file(dir.file("m.json")));
  EXPECT_TRUE(doc.at("runs").at(0).at("mean").at("psnr").is_null());
}

TEST(Faults, InfinitePsnrIsWrittenAsInfAndMergesBack) {
  TempDir dir;
  fs::create_directories(dir.file("H"));
  fs::copy_file(data_path("Set5/HR/x4/head.png"), dir.file("H/head.png"));
  const auto r = run_fdiwn({"metrics", "--hr", dir.file("H"), "--sr", dir.file("H"), "-s", "4",
                            "--json", dir.file("m.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(read_file(dir.file("m.json")));
  EXPECT_EQ(doc.at("runs").at(0).at("images").at(0).at("psnr"), "inf");
  const auto merged = run_fdiwn({"bench", "--merge", dir.file("m.json")});
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("inf"), std::string::npos) << merged.out;
}

// Found by hand: a report into a missing folder failed after the whole run.
TEST(Faults, ReportsIntoAMissingFolderAreRefusedBeforeTheRun) {
  TempDir dir;
  noise_image(dir, "H/a.png", 32, 32);
  const std::string report = dir.file("no/such/m.json");
  const std::vector<std::vector<std::string>> runs = {
      {"metrics", "--hr", dir.file("H"), "--sr", dir.file("H"), "-s", "2", "--csv", report},
      {"bench", "--hr", dir.file("H"), "-s", "2", "--json", report},
      {"bench", "--speed", "-s", "2", "--sizes", "16x16", "--paths", "engine", "--json", report},
      {"bench", "--efficiency", "-s", "2", "--sizes", "16x16", "--json", report}};
  for (const auto& args : runs) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    const auto r = run_fdiwn(args);
    expect_error(r, 2, report + ": its folder " + dir.file("no/such") + " does not exist");
    EXPECT_EQ(r.out, "");  // nothing was run
  }
}

// Found by hand: hand-edited results merged into means of impossible scores.
TEST(Faults, MergeRefusesValuesThatAreNotScores) {
  TempDir dir;
  noise_image(dir, "H/a.png", 32, 32);
  noise_image(dir, "S/a.png", 32, 32);  // other random pixels
  ASSERT_EQ(run_fdiwn({"metrics", "--hr", dir.file("H"), "--sr", dir.file("S"), "-s", "2", "--json",
                       dir.file("m.json")})
                .exit_code,
            0);
  const auto doc = nlohmann::json::parse(read_file(dir.file("m.json")));
  for (const auto& [field, value, message] :
       std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"psnr", -3.0, "has PSNR -3.0"},
           {"ssim", 1.5, "SSIM 1.5"},
           {"ssim", nullptr, "SSIM null"},
           {"scale", 7, "a run of scale 7"},
           {"crop_border", -1, "crop border -1"}}) {
    SCOPED_TRACE(field + " " + value.dump());
    nlohmann::json edited = doc;
    auto& run = edited.at("runs").at(0);
    (run.contains(field) ? run[field] : run.at("images").at(0)[field]) = value;
    write_file(dir.file("e.json"), edited.dump());
    expect_error(run_fdiwn({"bench", "--merge", dir.file("e.json")}), 2, message);
  }
}

// Found by hand: merge reads no images, and --csv overwrote one it named.
TEST(Faults, MergeNeverWritesOverTheImagesScored) {
  TempDir dir;
  noise_image(dir, "H/a.png", 32, 32);
  ASSERT_EQ(run_fdiwn({"metrics", "--hr", dir.file("H"), "--sr", dir.file("H"), "-s", "2", "--json",
                       dir.file("m.json")})
                .exit_code,
            0);
  const std::string before = read_file(dir.file("H/a.png"));
  const auto r = run_fdiwn({"bench", "--merge", dir.file("m.json"), "--csv", dir.file("H/a.png")});
  expect_error(r, 2, "--csv would overwrite the input " + dir.file("H/a.png"));
  EXPECT_EQ(read_file(dir.file("H/a.png")), before);
}

TEST(Faults, SaveSrOntoAFileIsAUsageError) {
  TempDir dir;
  noise_image(dir, "H/a.png", 32, 32);
  write_file(dir.file("f"), "x");
  const auto r = run_fdiwn({"bench", "--hr", dir.file("H"), "-s", "2", "--save-sr", dir.file("f")});
  expect_error(r, 2, "--save-sr");
  EXPECT_EQ(r.err.find("unexpected error"), std::string::npos) << r.err;
}

TEST(Faults, ControlCharactersInNamesCannotForgeLogLines) {
  TempDir dir;
  const std::string name = dir.file("a\nerror: forged.png");
  write_file(name, "not an image");
  const auto r = run_fdiwn({"upscale", "-i", name, "-o", dir.file("o.png"), "-s", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("\nerror: forged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a\\nerror: forged.png"), std::string::npos) << r.err;
}

TEST(Faults, CollisionAdviceThatWorks) {
  TempDir dir;
  noise_image(dir, "in/a.png");
  noise_image(dir, "in/a.PNG");
  const auto r = run_fdiwn({"upscale", "-i", dir.file("in"), "-o", dir.file("out"), "-f", "png"});
  expect_error(r, 2, "rename one of them");
}

}  // namespace
}  // namespace fdiwn::test
