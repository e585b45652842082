#include "cli/scoring/score_table.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>

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

std::set<std::string> names_of(const ScoreSet& set) {
  std::set<std::string> names;
  for (const auto& r : set.images) names.insert(r.name);
  return names;
}

// A mean is complete when no image of its set failed (a method's missing
// image is a failed row) and it covers every image any method was scored on
// for that scale and set (results merged from runs over other folders).
bool complete(const ScoreSet& set, const SetMean& mean, const std::set<std::string>& all) {
  return mean.count > 0 && mean.count == static_cast<int>(set.images.size()) &&
         names_of(set) == all;
}

// How a run was scored, to tell apart the rows of one method scored two
// ways (merged results: chop and whole, Y and RGB, another border).
std::string protocol_of(const ScoreSet& s) {
  return (s.mode.empty() ? "" : s.mode + ", ") + (s.tta ? "TTA, " : "") +
         (s.y_channel ? "Y" : "RGB") + ", shave " + std::to_string(s.crop_border);
}

}  // namespace

int psnr_digits_for(TableFormat format) {
  return format == TableFormat::Text ? 4 : 2;
}

Table score_table(const std::vector<ScoreSet>& sets, int psnr_digits) {
  // Each run's row label: its method, with how it was scored when the same
  // method was scored more than one way.
  // (The border shaved is the scale by default: compared per scale.)
  std::map<std::pair<std::string, int>, std::set<std::string>> protocols;
  for (const auto& s : sets) protocols[{s.method, s.scale}].insert(protocol_of(s));
  std::vector<std::string> labels;
  for (const auto& s : sets) {
    const std::string method = s.method.empty() ? "-" : s.method;
    labels.push_back(
        protocols[{s.method, s.scale}].size() > 1 ? method + " (" + protocol_of(s) + ")" : method);
  }
  std::vector<int> scales;
  std::vector<std::string> methods, set_names;
  std::map<std::pair<int, std::string>, std::set<std::string>> images;  // per scale and set
  for (std::size_t i = 0; i < sets.size(); ++i) {
    index_of(scales, sets[i].scale);
    index_of(methods, labels[i]);
    index_of(set_names, sets[i].set_name);
    const auto names = names_of(sets[i]);
    images[{sets[i].scale, sets[i].set_name}].insert(names.begin(), names.end());
  }
  std::sort(scales.begin(), scales.end());

  Table table;
  table.header = {"scale", "method"};
  table.label_columns = 2;
  for (const auto& name : set_names) table.header.push_back(name.empty() ? "mean" : name);

  // cell[scale][method][set] -> the set scored there, if any.
  const auto find = [&](int scale, const std::string& label,
                        const std::string& set_name) -> const ScoreSet* {
    for (std::size_t i = 0; i < sets.size(); ++i) {
      const auto& s = sets[i];
      if (s.scale == scale && labels[i] == label && s.set_name == set_name) return &s;
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
      row.push_back(TableCell(method));
      bool any = false;
      for (const auto& name : set_names) {
        const ScoreSet* s = find(scale, method, name);
        TableCell cell;
        if (s) {
          const SetMean m = mean_of(*s);
          if (m.count > 0) {
            cell.values = {{fixed(m.psnr, psnr_digits), false, {}}, {fixed(m.ssim, 4), false, {}}};
            if (!complete(*s, m, images[{scale, name}])) {
              cell.mark = kFootnoteMark;
              incomplete = true;
            }
          } else {
            cell = TableCell("-");
            cell.mark = kFootnoteMark;
            incomplete = true;
          }
          any = true;
        } else {
          cell = TableCell("-");  // not scored on this set
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
          if (cell.values.size() != 2 && cell.mark.empty()) continue;  // not scored here
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
                          " a mean without some of the images (failed, missing, or not in "
                          "these results): not compared");
  }
  return table;
}

}  // namespace fdiwn::cli
