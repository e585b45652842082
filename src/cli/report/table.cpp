#include "cli/report/table.hpp"

#include <algorithm>
#include <sstream>
#include <string_view>

#include "cli/report/printable.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace {

// Characters are counted as code points, so that a dagger or a ± is one
// column wide in the text table.
std::size_t columns(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, std::size_t width, bool right) {
  const std::string fill(width > columns(s) ? width - columns(s) : 0, ' ');
  return right ? fill + s : s + fill;
}

// Markdown's punctuation that could start emphasis, code, a link, HTML or
// end the cell is written escaped (CommonMark: a backslash before any ASCII
// punctuation is that character).
std::string escape_markdown(const std::string& text) {
  std::string out;
  for (const char c : printable(text)) {
    if (std::string_view("\\`*_[]<>|#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string escape_latex(const std::string& text) {
  std::string out;
  for (const char c : printable(text)) {
    switch (c) {
      case '|':
        out += "\\textbar{}";
        break;
      case '<':
        out += "\\textless{}";
        break;
      case '>':
        out += "\\textgreater{}";
        break;
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
      case '{':
      case '}':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string latex_mark(const std::string& mark) {
  if (mark.empty()) return "";
  return mark == kFootnoteMark ? "$^\\dagger$" : "\\textsuperscript{" + escape_latex(mark) + "}";
}

bool any_best(const Table& t) {
  for (const auto& row : t.rows) {
    for (const auto& cell : row) {
      for (const auto& v : cell.values) {
        if (v.best) return true;
      }
    }
  }
  return false;
}

std::size_t widest_mark(const Table& t) {
  std::size_t w = 0;
  for (const auto& row : t.rows) {
    for (const auto& cell : row) w = std::max(w, columns(cell.mark));
  }
  return w;
}

std::string text_cell(const TableCell& cell, bool marks_best, std::size_t mark_width) {
  std::string s;
  for (std::size_t i = 0; i < cell.values.size(); ++i) {
    if (i) s += " / ";
    s += printable(cell.values[i].text);
    // A space where another row has its '*', so that the values line up.
    if (marks_best) s += cell.values[i].best ? "*" : " ";
  }
  if (mark_width && !cell.values.empty()) s += pad(cell.mark, mark_width, false);
  return s;
}

std::string render_text(const Table& t) {
  const bool marks_best = any_best(t);
  const std::size_t mark_width = widest_mark(t);
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(t.header.size(), 0);
  std::vector<std::string> header;
  for (const auto& h : t.header) header.push_back(printable(h));
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = columns(header[c]);
  for (const auto& row : t.rows) {
    cells.emplace_back();
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
      cells.back().push_back(c < t.label_columns ? text_cell(row[c], false, 0)
                                                 : text_cell(row[c], marks_best, mark_width));
      width[c] = std::max(width[c], columns(cells.back().back()));
    }
  }
  std::size_t total = 0;
  for (const std::size_t w : width) total += w + 2;
  const std::string rule(total > 2 ? total - 2 : 0, '-');
  std::ostringstream os;
  const auto line = [&](const std::vector<std::string>& row) {
    std::string s;
    for (std::size_t c = 0; c < width.size(); ++c) {
      if (c) s += "  ";
      s += pad(c < row.size() ? row[c] : "", width[c], c >= t.label_columns);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    os << s << "\n";
  };
  line(header);
  os << rule << "\n";
  for (std::size_t r = 0; r < cells.size(); ++r) {
    if (r > 0 && std::count(t.rules.begin(), t.rules.end(), r)) os << rule << "\n";
    line(cells[r]);
  }
  for (const auto& note : t.notes) os << note << "\n";
  return os.str();
}

std::string render_markdown(const Table& t) {
  std::ostringstream os;
  os << "|";
  for (const auto& h : t.header) os << " " << escape_markdown(h) << " |";
  os << "\n|";
  for (std::size_t c = 0; c < t.header.size(); ++c) os << (c < t.label_columns ? "---|" : "---:|");
  os << "\n";
  for (const auto& row : t.rows) {
    os << "|";
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      std::string s;
      if (c < row.size()) {
        for (std::size_t i = 0; i < row[c].values.size(); ++i) {
          const auto& v = row[c].values[i];
          if (i) s += " / ";
          s += v.best ? "**" + escape_markdown(v.text) + "**" : escape_markdown(v.text);
        }
        s += escape_markdown(row[c].mark);
      }
      os << " " << s << " |";
    }
    os << "\n";
  }
  if (!t.notes.empty()) os << "\n";
  for (const auto& note : t.notes) os << escape_markdown(note) << "\n";
  return os.str();
}

std::string render_latex(const Table& t) {
  std::ostringstream os;
  os << "% needs \\usepackage{booktabs}\n\\begin{tabular}{";
  for (std::size_t c = 0; c < t.header.size(); ++c) os << (c < t.label_columns ? "l" : "c");
  os << "}\n\\toprule\n";
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    os << (c ? " & " : "") << escape_latex(t.header[c]);
  }
  os << " \\\\\n\\midrule\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    if (r > 0 && std::count(t.rules.begin(), t.rules.end(), r)) os << "\\midrule\n";
    const auto& row = t.rows[r];
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      if (c) os << " & ";
      if (c >= row.size()) continue;
      for (std::size_t i = 0; i < row[c].values.size(); ++i) {
        const auto& v = row[c].values[i];
        const std::string s = v.latex.empty() ? escape_latex(v.text) : v.latex;
        os << (i ? "/" : "") << (v.best ? "\\textbf{" + s + "}" : s);
      }
      os << latex_mark(row[c].mark);
    }
    os << " \\\\\n";
  }
  os << "\\bottomrule\n\\end{tabular}\n";
  for (const auto& note : t.notes) os << "% " << note << "\n";
  return os.str();
}

}  // namespace

TableFormat parse_table_format(const std::string& name) {
  if (name == "text") return TableFormat::Text;
  if (name == "md" || name == "markdown") return TableFormat::Markdown;
  if (name == "latex") return TableFormat::Latex;
  throw InvalidArgument("--table: '" + name + "' is not one of text, md, latex");
}

std::string render(const Table& table, TableFormat format) {
  switch (format) {
    case TableFormat::Markdown:
      return render_markdown(table);
    case TableFormat::Latex:
      return render_latex(table);
    case TableFormat::Text:
      break;
  }
  return render_text(table);
}

}  // namespace fdiwn::cli
