#include "cli/scoring/score_report.hpp"

#include <cmath>
#include <sstream>

#include "cli/report/printable.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/version.hpp"

namespace fdiwn::cli {

namespace {

std::string protocol(const ScoreSet& set) {
  return std::string(set.y_channel ? "Y channel" : "RGB") + ", shave " +
         std::to_string(set.crop_border);
}

// PSNR of identical images is infinite, and JSON has no infinity: it is
// written as the string "inf" (null would read as "no value").
nlohmann::json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v > 0 ? "inf" : "-inf");
}

double number_from(const nlohmann::json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    throw nlohmann::json::type_error::create(302, "a number or \"inf\" was expected", &j);
  }
  return j.is_null() ? NAN : j.get<double>();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

SetMean mean_of(const ScoreSet& set) {
  SetMean m;
  for (const auto& r : set.images) {
    if (!r.error.empty()) continue;
    ++m.count;
    m.psnr += r.psnr;
    m.ssim += r.ssim;
    if (r.seconds >= 0) {
      m.seconds += r.seconds;
      m.megapixels += static_cast<double>(r.lr_size.area()) / 1e6;
    }
  }
  if (m.count) {
    m.psnr /= m.count;
    m.ssim /= m.count;
  }
  return m;
}

void print_header(std::FILE* out, const ScoreSet& set, const std::string& title) {
  std::fprintf(out, "\n%s x%d%s%s (%s)\n", title.c_str(), set.scale,
               set.mode.empty() ? "" : (", " + set.mode).c_str(), set.tta ? " + self-ensemble" : "",
               protocol(set).c_str());
  std::fprintf(out, "%-24s %11s %9s %8s %9s %9s\n", "image", "LR size", "PSNR", "SSIM", "seconds",
               "MP/s");
}

void print_row(std::FILE* out, const ImageScore& r) {
  const std::string size =
      r.lr_size.empty() ? "-"
                        : std::to_string(r.lr_size.width) + "x" + std::to_string(r.lr_size.height);
  const std::string name = printable(r.name);
  if (!r.error.empty()) {
    std::fprintf(out, "%-24s %11s   failed: %s\n", name.c_str(), size.c_str(),
                 printable(r.error).c_str());
    return;
  }
  std::fprintf(out, "%-24s %11s %9.4f %8.4f", name.c_str(), size.c_str(), r.psnr, r.ssim);
  if (r.seconds >= 0) {
    std::fprintf(out, " %9.3f %9.4f", r.seconds,
                 r.seconds > 0 ? static_cast<double>(r.lr_size.area()) / 1e6 / r.seconds : 0.0);
  }
  std::fprintf(out, "\n");
  std::fflush(out);
}

void print_mean(std::FILE* out, const ScoreSet& set) {
  const SetMean m = mean_of(set);
  const std::string label = "mean of " + std::to_string(m.count);
  if (m.count == 0) {
    // No image was scored: there is no mean to print (0.0000 would read as one).
    std::fprintf(out, "%-24s %11s %9s %8s\n", label.c_str(), "", "-", "-");
    std::fflush(out);
    return;
  }
  std::fprintf(out, "%-24s %11s %9.4f %8.4f", label.c_str(), "", m.psnr, m.ssim);
  if (m.seconds > 0) std::fprintf(out, " %9.3f %9.4f", m.seconds, m.megapixels / m.seconds);
  std::fprintf(out, "\n");
  std::fflush(out);
}

std::string to_csv(const std::vector<ScoreSet>& sets) {
  std::ostringstream os;
  os.precision(10);
  os << "set,method,scale,mode,tta,channel,crop_border,image,hr,other,lr_width,lr_height,psnr,"
        "ssim,seconds,error\n";
  for (const auto& set : sets) {
    const std::string common = csv_field(set.set_name) + "," + csv_field(set.method) + "," +
                               std::to_string(set.scale) + "," + set.mode + "," +
                               (set.tta ? "1" : "0") + "," + (set.y_channel ? "y" : "rgb") + "," +
                               std::to_string(set.crop_border) + ",";
    for (const auto& r : set.images) {
      os << common << csv_field(r.name) << "," << csv_field(r.hr) << "," << csv_field(r.other)
         << "," << r.lr_size.width << "," << r.lr_size.height << ",";
      if (r.error.empty()) {
        os << r.psnr << "," << r.ssim << ",";
      } else {
        os << ",,";
      }
      if (r.seconds >= 0) os << r.seconds;
      os << "," << csv_field(r.error) << "\n";
    }
    const SetMean m = mean_of(set);
    os << common << "MEAN,,,,,";
    if (m.count > 0)
      os << m.psnr << "," << m.ssim;
    else
      os << ",";
    os << "," << m.seconds << ",\n";
  }
  return os.str();
}

nlohmann::json to_json(const std::vector<ScoreSet>& sets) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& set : sets) {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& r : set.images) {
      nlohmann::json j = {{"name", r.name},
                          {"hr", r.hr},
                          {"other", r.other},
                          {"lr_size", {{"width", r.lr_size.width}, {"height", r.lr_size.height}}}};
      if (r.error.empty()) {
        j["psnr"] = number(r.psnr);
        j["ssim"] = number(r.ssim);
      } else {
        j["error"] = r.error;
      }
      if (r.seconds >= 0) j["seconds"] = r.seconds;
      images.push_back(std::move(j));
    }
    const SetMean m = mean_of(set);
    runs.push_back({{"set", set.set_name},
                    {"method", set.method},
                    {"scale", set.scale},
                    {"mode", set.mode},
                    {"tta", set.tta},
                    {"channel", set.y_channel ? "y" : "rgb"},
                    {"crop_border", set.crop_border},
                    {"images", std::move(images)},
                    {"mean",
                     {{"count", m.count},
                      {"psnr", m.count ? number(m.psnr) : nlohmann::json(nullptr)},
                      {"ssim", m.count ? number(m.ssim) : nlohmann::json(nullptr)},
                      {"seconds", m.seconds},
                      {"mp_per_second", m.seconds > 0 ? m.megapixels / m.seconds : 0.0}}}});
  }
  return {{"fdiwn", FDIWN_VERSION_STRING}, {"runs", std::move(runs)}};
}

std::vector<ScoreSet> from_json(const nlohmann::json& doc, const std::string& source) {
  std::vector<ScoreSet> sets;
  try {
    for (const auto& run : doc.at("runs")) {
      ScoreSet set;
      // Results of versions before several sets and methods have neither.
      set.set_name = run.value("set", std::string());
      set.method = run.value("method", std::string());
      set.scale = run.at("scale").get<int>();
      set.mode = run.at("mode").get<std::string>();
      set.tta = run.at("tta").get<bool>();
      set.y_channel = run.at("channel").get<std::string>() == "y";
      set.crop_border = run.at("crop_border").get<int>();
      if (set.scale < 2 || set.scale > 4 || set.crop_border < 0) {
        throw InvalidArgument(source + ": a run of scale " + std::to_string(set.scale) +
                              " and crop border " + std::to_string(set.crop_border) +
                              " is not a bench result (scales 2 to 4, a border of 0 or more)");
      }
      for (const auto& j : run.at("images")) {
        ImageScore r;
        r.name = j.at("name").get<std::string>();
        r.hr = j.at("hr").get<std::string>();
        r.other = j.at("other").get<std::string>();
        r.lr_size = cv::Size(j.at("lr_size").at("width").get<int>(),
                             j.at("lr_size").at("height").get<int>());
        if (j.contains("error")) {
          r.error = j.at("error").get<std::string>();
        } else {
          // Older results wrote an infinite PSNR as null.
          r.psnr = j.at("psnr").is_null() ? INFINITY : number_from(j.at("psnr"));
          r.ssim = number_from(j.at("ssim"));
          // Found by hand: hand-edited values went into the means.
          if (!(r.psnr >= 0) || !(r.ssim >= -1 && r.ssim <= 1)) {
            throw InvalidArgument(source + ": image '" + r.name + "' has PSNR " +
                                  j.at("psnr").dump() + " and SSIM " + j.at("ssim").dump() +
                                  ": not scores (PSNR 0 or more, SSIM -1 to 1)");
          }
        }
        r.seconds = j.value("seconds", -1.0);
        set.images.push_back(std::move(r));
      }
      sets.push_back(std::move(set));
    }
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(source + ": not a bench result (" + e.what() + ")");
  }
  return sets;
}

}  // namespace fdiwn::cli
