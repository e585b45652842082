// A results table rendered three ways: aligned text for the terminal,
// Markdown and LaTeX (booktabs) to paste into a README or a paper. The
// summary of scored sets and the efficiency report are built as one.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fdiwn::cli {

enum class TableFormat { Text, Markdown, Latex };

/// The names --table takes.
inline constexpr const char* kTableFormatNames[] = {"text", "md", "latex"};

/// "text", "md" (or "markdown"), "latex"; throws InvalidArgument otherwise.
TableFormat parse_table_format(const std::string& name);

/// The footnote sign (U+2020, a dagger; $^\dagger$ in LaTeX).
inline constexpr const char* kFootnoteMark = "\xE2\x80\xA0";

/// One value of a cell; the best of a column is bold (Markdown, LaTeX) or
/// followed by '*' (text).
struct TableValue {
  std::string text;
  bool best = false;
  std::string latex;  ///< written as is in LaTeX instead of `text`, if set
};

/// A cell: its values joined by " / " (PSNR / SSIM), then `mark` (a
/// footnote sign, as a superscript in LaTeX).
struct TableCell {
  std::vector<TableValue> values;
  std::string mark;
  TableCell() = default;
  TableCell(std::string text) : values{{std::move(text), false, {}}} {}  // NOLINT: implicit
};

struct Table {
  std::vector<std::string> header;
  std::size_t label_columns = 1;  ///< leading columns that are labels (left-aligned)
  std::vector<std::vector<TableCell>> rows;
  std::vector<std::size_t> rules;  ///< a rule is drawn before these rows (not in Markdown)
  std::vector<std::string> notes;  ///< footnotes, after the table
};

/// The table as text in `format`, ending with a newline.
std::string render(const Table& table, TableFormat format);

}  // namespace fdiwn::cli
