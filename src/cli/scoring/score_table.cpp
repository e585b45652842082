#include "cli/scoring/score_table.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace fdiwn::cli {

namespace {

template <class T>
std::size_t index_of(std::vector<T>& seen, const T& value) {
  const auto it = std::find(seen.begin(), seen.end(), value);
  if (it != seen.end()) return static_cast<std::size_t>(it - seen.begin());
  seen.push_back(value);
  return seen.size() - 1;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A mean is complete when no image of its set failed (a method's missing
// image is a failed row, so this also covers those).
bool complete(const ScoreSet& set, const SetMean& mean) {
  return mean.count > 0 && mean.count == static_cast<int>(set.images.size());
}

}  // namespace

int psnr_digits_for(TableFormat format) {
  return format == TableFormat::Text ? 4 : 2;
}

Table score_table(const std::vector<ScoreSet>& sets, int psnr_digits) {
  std::vector<int> scales;
  std::vector<std::string> methods, set_names;
  for (const auto& s : sets) {
    index_of(scales, s.scale);
    index_of(methods, s.method);
    index_of(set_names, s.set_name);
  }
  std::sort(scales.begin(), scales.end());

  Table table;
  table.header = {"scale", "method"};
  table.label_columns = 2;
  for (const auto& name : set_names) table.header.push_back(name.empty() ? "mean" : name);

  // cell[scale][method][set] -> the set scored there, if any.
  const auto find = [&](int scale, const std::string& method,
                        const std::string& set_name) -> const ScoreSet* {
    for (const auto& s : sets) {
      if (s.scale == scale && s.method == method && s.set_name == set_name) return &s;
    }
    return nullptr;
  };
  bool incomplete = false;
  for (const int scale : scales) {
    const std::size_t first_row = table.rows.size();
    if (first_row > 0) table.rules.push_back(first_row);
    for (const auto& method : methods) {
      std::vector<TableCell> row;
      TableCell label("x" + std::to_string(scale));
      label.values[0].latex = "$\\times$" + std::to_string(scale);
      row.push_back(label);
      row.push_back(TableCell(method.empty() ? "-" : method));
      bool any = false;
      for (const auto& name : set_names) {
        const ScoreSet* s = find(scale, method, name);
        TableCell cell;
        if (s) {
          const SetMean m = mean_of(*s);
          if (m.count > 0) {
            cell.values = {{fixed(m.psnr, psnr_digits), false, {}}, {fixed(m.ssim, 4), false, {}}};
            if (!complete(*s, m)) {
              cell.mark = kFootnoteMark;
              incomplete = true;
            }
          } else {
            cell = TableCell("-");
            cell.mark = kFootnoteMark;
            incomplete = true;
          }
          any = true;
        }
        row.push_back(cell);
      }
      if (any) table.rows.push_back(std::move(row));
    }
    // Best per set column among this scale's complete means, on the
    // printed values.
    for (std::size_t c = 2; c < table.header.size(); ++c) {
      for (std::size_t v = 0; v < 2; ++v) {
        std::vector<TableValue*> candidates;
        int methods_here = 0;
        for (std::size_t r = first_row; r < table.rows.size(); ++r) {
          TableCell& cell = table.rows[r][c];
          if (cell.values.empty()) continue;
          ++methods_here;
          if (cell.values.size() == 2 && cell.mark.empty()) candidates.push_back(&cell.values[v]);
        }
        if (methods_here < 2 || candidates.empty()) continue;
        double best = -1e300;
        for (const auto* value : candidates) best = std::max(best, std::stod(value->text));
        for (auto* value : candidates) value->best = std::stod(value->text) == best;
      }
    }
  }
  if (incomplete) {
    table.notes.push_back(std::string(kFootnoteMark) +
                          " some images failed or were missing: the mean of the others, not "
                          "compared");
  }
  return table;
}

}  // namespace fdiwn::cli
