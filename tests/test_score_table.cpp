// The summary table of a scoring run (rows scale x method, columns sets,
// best marked) and its three renderings; the names of folders.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/report/table.hpp"
#include "cli/scoring/named_folders.hpp"
#include "cli/scoring/score_table.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {
namespace {

// A set whose images score `psnr` and `ssim` each (one failed if `failed`).
ScoreSet scored(const std::string& set, const std::string& method, int scale, double psnr,
                double ssim, bool failed = false) {
  ScoreSet s;
  s.set_name = set;
  s.method = method;
  s.scale = scale;
  for (int i = 0; i < 2; ++i) {
    ImageScore r;
    r.name = "img" + std::to_string(i);
    r.psnr = psnr;
    r.ssim = ssim;
    s.images.push_back(r);
  }
  if (failed) s.images[1].error = "no image";  // the mean is then img0's
  return s;
}

// "text*" for a best value, "text" otherwise, joined by " / ", then the mark.
std::string cell_text(const TableCell& cell) {
  std::string s;
  for (const auto& v : cell.values) s += (s.empty() ? "" : " / ") + v.text + (v.best ? "*" : "");
  return s + cell.mark;
}

std::vector<std::string> row_text(const Table& t, std::size_t r) {
  std::vector<std::string> out;
  for (const auto& c : t.rows.at(r)) out.push_back(cell_text(c));
  return out;
}

using Row = std::vector<std::string>;

TEST(ScoreTable, RowPerScaleAndMethodColumnPerSet) {
  const Table t = score_table(
      {scored("Set5", "FDIWN", 4, 32.22671, 0.89551), scored("Urban", "FDIWN", 4, 26.1, 0.79),
       scored("Set5", "Bicubic", 4, 28.43, 0.8111), scored("Urban", "Bicubic", 4, 23.1, 0.66),
       scored("Set5", "FDIWN", 2, 38.07, 0.9608), scored("Set5", "Bicubic", 2, 33.67, 0.9303)},
      4);
  EXPECT_EQ(t.header, (Row{"scale", "method", "Set5", "Urban"}));
  ASSERT_EQ(t.rows.size(), 4u);
  // Scales in increasing order, methods in the order they came.
  EXPECT_EQ(row_text(t, 0), (Row{"x2", "FDIWN", "38.0700* / 0.9608*", "-"}));
  EXPECT_EQ(row_text(t, 1), (Row{"x2", "Bicubic", "33.6700 / 0.9303", "-"}));
  EXPECT_EQ(row_text(t, 2), (Row{"x4", "FDIWN", "32.2267* / 0.8955*", "26.1000* / 0.7900*"}));
  EXPECT_EQ(row_text(t, 3), (Row{"x4", "Bicubic", "28.4300 / 0.8111", "23.1000 / 0.6600"}));
  EXPECT_EQ(t.rules, (std::vector<std::size_t>{2}));
  EXPECT_TRUE(t.notes.empty());
}

TEST(ScoreTable, BestPsnrAndBestSsimAreMarkedApart) {
  const Table t =
      score_table({scored("S", "A", 4, 30.0, 0.80), scored("S", "B", 4, 29.0, 0.85)}, 4);
  EXPECT_EQ(row_text(t, 0)[2], "30.0000* / 0.8000");
  EXPECT_EQ(row_text(t, 1)[2], "29.0000 / 0.8500*");
}

TEST(ScoreTable, TiesAsPrintedAreAllMarked) {
  // 2 decimals: 30.004 and 30.001 both print 30.00.
  const Table t =
      score_table({scored("S", "A", 4, 30.004, 0.80), scored("S", "B", 4, 30.001, 0.79)}, 2);
  EXPECT_EQ(row_text(t, 0)[2], "30.00* / 0.8000*");
  EXPECT_EQ(row_text(t, 1)[2], "30.00* / 0.7900");
}

TEST(ScoreTable, MeanWithAFailedImageIsMarkedAndNotCompared) {
  // B's mean is higher only because an image is missing from it.
  const Table t = score_table(
      {scored("S", "A", 4, 30.0, 0.80), scored("S", "B", 4, 31.0, 0.81, /*failed=*/true),
       scored("S", "C", 4, 29.0, 0.79)},
      4);
  EXPECT_EQ(row_text(t, 0)[2], "30.0000* / 0.8000*");
  EXPECT_EQ(row_text(t, 1)[2], std::string("31.0000 / 0.8100") + kFootnoteMark);
  EXPECT_EQ(row_text(t, 2)[2], "29.0000 / 0.7900");
  ASSERT_EQ(t.notes.size(), 1u);
  EXPECT_NE(t.notes[0].find("not compared"), std::string::npos);
}

TEST(ScoreTable, AloneAgainstAnIncompleteMeanIsStillTheBest) {
  const Table t = score_table(
      {scored("S", "A", 4, 30.0, 0.80), scored("S", "B", 4, 31.0, 0.81, /*failed=*/true)}, 4);
  EXPECT_EQ(row_text(t, 0)[2], "30.0000* / 0.8000*");
}

TEST(ScoreTable, MeanOverFewerImagesThanTheOthersIsNotCompared) {
  // Merged results: B was scored on a smaller folder of the same name.
  ScoreSet b = scored("S", "B", 4, 31.0, 0.81);
  b.images.pop_back();
  const Table t = score_table({scored("S", "A", 4, 30.0, 0.80), b}, 4);
  EXPECT_EQ(row_text(t, 0)[2], "30.0000* / 0.8000*");
  EXPECT_EQ(row_text(t, 1)[2], std::string("31.0000 / 0.8100") + kFootnoteMark);
}

TEST(ScoreTable, OneMethodScoredTwoWaysGetsTwoRows) {
  ScoreSet chop = scored("S", "FDIWN", 4, 32.0, 0.8), whole = scored("S", "FDIWN", 4, 31.9, 0.8);
  chop.mode = "chop";
  whole.mode = "whole";
  ScoreSet rgb = scored("S", "Bicubic", 4, 28.0, 0.7);
  const Table t = score_table({chop, whole, rgb}, 4);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(row_text(t, 0)[1], "FDIWN (chop, Y, shave 0)");
  EXPECT_EQ(row_text(t, 1)[1], "FDIWN (whole, Y, shave 0)");
  EXPECT_EQ(row_text(t, 2)[1], "Bicubic");
  EXPECT_EQ(row_text(t, 0)[2], "32.0000* / 0.8000*");
}

TEST(ScoreTable, MethodNotScoredOnASetShowsADash) {
  const Table t = score_table({scored("S", "A", 4, 30.0, 0.8), scored("T", "A", 4, 29.0, 0.7),
                               scored("S", "B", 4, 28, 0.6)},
                              4);
  EXPECT_EQ(row_text(t, 1), (Row{"x4", "B", "28.0000 / 0.6000", "-"}));
  EXPECT_EQ(row_text(t, 0)[3], "29.0000 / 0.7000");  // alone in its column: not marked
}

TEST(ScoreTable, OneMethodMarksNothing) {
  const Table t = score_table({scored("S", "A", 4, 30.0, 0.8), scored("T", "A", 4, 31.0, 0.9)}, 4);
  EXPECT_EQ(row_text(t, 0), (Row{"x4", "A", "30.0000 / 0.8000", "31.0000 / 0.9000"}));
}

Table two_by_two() {
  Table t;
  t.header = {"scale", "method", "Set_5"};
  t.label_columns = 2;
  TableCell best;
  best.values = {{"32.23", true, {}}, {"0.8955", true, {}}};
  TableCell other;
  other.values = {{"28.43", false, {}}, {"0.8111", false, {}}};
  other.mark = kFootnoteMark;
  TableCell x4("x4");
  x4.values[0].latex = "$\\times$4";
  t.rows = {{x4, TableCell("FDIWN"), best}, {x4, TableCell("a|b"), other}};
  t.notes = {"note"};
  return t;
}

TEST(Table, TextAlignsColumnsAndMarksBestWithAStar) {
  EXPECT_EQ(render(two_by_two(), TableFormat::Text),
            "scale  method              Set_5\n"
            "--------------------------------\n"
            "x4     FDIWN   32.23* / 0.8955*\n"
            "x4     a|b     28.43  / 0.8111 \xE2\x80\xA0\n"
            "note\n");
}

TEST(Table, MarkdownBoldsBestAndEscapesBars) {
  EXPECT_EQ(render(two_by_two(), TableFormat::Markdown),
            "| scale | method | Set\\_5 |\n"
            "|---|---|---:|\n"
            "| x4 | FDIWN | **32.23** / **0.8955** |\n"
            "| x4 | a\\|b | 28.43 / 0.8111\xE2\x80\xA0 |\n"
            "\n"
            "note\n");
}

TEST(Table, LatexUsesBooktabsBoldAndEscapes) {
  EXPECT_EQ(render(two_by_two(), TableFormat::Latex),
            "% needs \\usepackage{booktabs}\n"
            "\\begin{tabular}{llc}\n"
            "\\toprule\n"
            "scale & method & Set\\_5 \\\\\n"
            "\\midrule\n"
            "$\\times$4 & FDIWN & \\textbf{32.23}/\\textbf{0.8955} \\\\\n"
            "$\\times$4 & a\\textbar{}b & 28.43/0.8111$^\\dagger$ \\\\\n"
            "\\bottomrule\n"
            "\\end{tabular}\n"
            "% note\n");
}

TEST(Table, NamesCannotBreakTheMarkup) {
  Table t;
  t.header = {"method", "*a*_<b>`c`"};
  t.rows = {{TableCell("x|y<z>"), TableCell("line\nbreak")}};
  EXPECT_EQ(
      render(t, TableFormat::Markdown),
      "| method | \\*a\\*\\_\\<b\\>\\`c\\` |\n|---|---:|\n| x\\|y\\<z\\> | line\\\\nbreak |\n");
  const std::string latex = render(t, TableFormat::Latex);
  EXPECT_NE(latex.find("x\\textbar{}y\\textless{}z\\textgreater{} & line\\textbackslash{}nbreak"),
            std::string::npos)
      << latex;
  // A newline in a name is written as an escape: it cannot start a row.
  EXPECT_NE(render(t, TableFormat::Text).find("line\\nbreak"), std::string::npos);
}

TEST(Table, FormatNames) {
  EXPECT_EQ(parse_table_format("md"), TableFormat::Markdown);
  EXPECT_EQ(parse_table_format("latex"), TableFormat::Latex);
  EXPECT_EQ(parse_table_format("text"), TableFormat::Text);
  EXPECT_THROW(parse_table_format("html"), InvalidArgument);
}

TEST(NamedFolders, LabelSkipsScalesAndRoles) {
  EXPECT_EQ(folder_label("tests/data/Set5/HR/x4"), "Set5");
  EXPECT_EQ(folder_label("Urban100/LR_bicubic/X{scale}/"), "Urban100");
  EXPECT_EQ(folder_label("results/EDSR/{set}/x{scale}"), "EDSR");
  // Nothing but generic parts: the folder it is in names it.
  EXPECT_EQ(folder_label("x4"), std::filesystem::current_path().filename().string());
}

TEST(NamedFolders, NameEqualsFolder) {
  const NamedFolder f = parse_named_folder("EDSR=out/edsr=x/{set}", "--sr");
  EXPECT_EQ(f.name, "EDSR");
  EXPECT_EQ(f.dir, "out/edsr=x/{set}");
  EXPECT_EQ(parse_named_folder("out/a=b", "--sr").name, "a=b");  // '/' before '=': no name
  EXPECT_THROW(parse_named_folder("EDSR=", "--sr"), InvalidArgument);
  EXPECT_THROW(parse_named_folder("=out/edsr", "--sr"), InvalidArgument);
  EXPECT_THROW(parse_named_folder(" =out/edsr", "--sr"), InvalidArgument);
  EXPECT_THROW(parse_named_folder("a\nb=out/edsr", "--sr"), InvalidArgument);
  EXPECT_THROW(parse_test_set("a/b=hr"), InvalidArgument);
  // Found by hand: a set named ".." saved its images beside --save-sr's folder.
  EXPECT_THROW(parse_test_set("..=hr"), InvalidArgument);
  EXPECT_THROW(parse_named_folder(".=out/edsr", "--sr"), InvalidArgument);
  EXPECT_NE(folder_label(".."), "..");
  // A path of generic parts is named after the folder it is in.
  EXPECT_EQ(folder_label("HR/x4").find('/'), std::string::npos);
  EXPECT_NE(folder_label("."), ".");
  const NamedFolder s = parse_test_set("Set5=hr/x4:lr/x{scale}");
  EXPECT_EQ(s.name, "Set5");
  EXPECT_EQ(s.dir, "hr/x4");
  EXPECT_EQ(s.lr, "lr/x{scale}");
  EXPECT_THROW(parse_test_set("hr/x4"), InvalidArgument);
  EXPECT_THROW(parse_test_set("S=hr:"), InvalidArgument);
  EXPECT_THROW(check_unique_names({{"A", "a", ""}, {"A", "b", ""}}, "--sr"), InvalidArgument);
  EXPECT_EQ(with_set("r/{set}/x4/{set}", "Set5"), "r/Set5/x4/Set5");
}

}  // namespace
}  // namespace fdiwn::cli
