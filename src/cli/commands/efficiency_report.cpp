#include "cli/commands/efficiency_report.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands/bench_cases.hpp"
#include "cli/commands/values.hpp"
#include "cli/process/exit_codes.hpp"
#include "cli/report/library_messages.hpp"
#include "cli/report/table.hpp"
#include "fdiwn/environment.hpp"
#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::cli {

namespace {

constexpr const char* kNtireSize = "256x256";
constexpr int kDefaultRepeat = 10;

}  // namespace

int run_efficiency(const SpeedArgs& args) {
  const std::vector<int> scales = args.scales.empty() ? std::vector<int>{2, 3, 4} : args.scales;
  std::vector<cv::Size> sizes;
  for (const auto& s : split_list(args.sizes.empty() ? kNtireSize : args.sizes, "--sizes")) {
    sizes.push_back(parse_size(s, "--sizes"));
  }
  if (sizes.empty()) throw InvalidArgument("--sizes cannot be empty");
  const int repeat = args.repeat < 0 ? kDefaultRepeat : args.repeat;
  const int threads = args.threads > 0 ? args.threads : default_thread_count();
  const TableFormat format =
      args.table.empty() ? TableFormat::Text : parse_table_format(args.table);
  // With a table to paste, stdout holds it alone; the rows still show
  // progress, on stderr.
  std::FILE* out = format == TableFormat::Text ? stdout : log_stream();
  Table table;
  table.header = {"scale",         "LR size",  "params",   "GMACs",
                  "M activations", "peak MiB", "pass MiB", "runtime ms"};
  table.label_columns = 2;
  std::fprintf(
      out,
      "FDIWN efficiency (LibTorch %s, %d threads, %s path): counted from the loaded network; "
      "activations are the elements of every convolution's output (NTIRE); runtime is the "
      "mean and sample standard deviation of %d timed pass%s after one untimed pass at that "
      "size, each case in a process of its own\n",
      torch_version().c_str(), threads, to_string(args.path), repeat, repeat == 1 ? "" : "es");
  std::fprintf(out, "%-5s %-10s %10s %10s %14s %9s %9s %22s\n", "scale", "LR size", "params",
               "GMACs", "M activations", "peak MiB", "pass MiB", "runtime ms");
  nlohmann::json rows = nlohmann::json::array();
  int code = kExitOk;
  for (int scale : scales) {
    for (const cv::Size& size : sizes) {
      const std::string size_text = std::to_string(size.width) + "x" + std::to_string(size.height);
      const CaseResult r = run_case({scale, size, args.path, threads}, repeat);
      if (!r.ok) {
        std::fprintf(out, "x%-4d %-10s failed: %s\n", scale, size_text.c_str(), r.error.c_str());
        code = kExitFailed;
        continue;
      }
      const double pixels = static_cast<double>(size.area());
      const double macs = static_cast<double>(r.macs_per_pixel) * pixels;
      const double activations = static_cast<double>(r.activations_per_pixel) * pixels;
      const long pass_kib = std::max(0L, r.peak_kib - r.loaded_kib);
      // One timed pass has no spread: its time alone.
      const bool spread = repeat >= 2;
      char runtime[48];
      std::snprintf(runtime, sizeof runtime, spread ? "%.1f \xC2\xB1 %.1f" : "%.1f", r.mean_ms,
                    r.sd_ms);
      char runtime_latex[64];
      std::snprintf(runtime_latex, sizeof runtime_latex, spread ? "%.1f $\\pm$ %.1f" : "%.1f",
                    r.mean_ms, r.sd_ms);
      std::fprintf(out, "x%-4d %-10s %10lld %10.2f %14.1f %9ld %9ld %22s\n", scale,
                   size_text.c_str(), static_cast<long long>(r.parameters), macs / 1e9,
                   activations / 1e6, r.peak_kib / 1024, pass_kib / 1024, runtime);
      std::fflush(out);
      char gmacs[32], mact[32];
      std::snprintf(gmacs, sizeof gmacs, "%.2f", macs / 1e9);
      std::snprintf(mact, sizeof mact, "%.1f", activations / 1e6);
      std::vector<TableCell> row{TableCell("x" + std::to_string(scale)),
                                 TableCell(size_text),
                                 TableCell(std::to_string(r.parameters)),
                                 TableCell(gmacs),
                                 TableCell(mact),
                                 TableCell(std::to_string(r.peak_kib / 1024)),
                                 TableCell(std::to_string(pass_kib / 1024)),
                                 TableCell(runtime)};
      row[0].values[0].latex = "$\\times$" + std::to_string(scale);
      row.back().values[0].latex = runtime_latex;
      table.rows.push_back(std::move(row));
      rows.push_back({{"scale", scale},
                      {"width", size.width},
                      {"height", size.height},
                      {"parameters", r.parameters},
                      {"macs", static_cast<int64_t>(macs)},
                      {"activations", static_cast<int64_t>(activations)},
                      {"macs_per_pixel", r.macs_per_pixel},
                      {"activations_per_pixel", r.activations_per_pixel},
                      {"peak_rss_mib", r.peak_kib / 1024},
                      {"pass_mib", pass_kib / 1024},
                      {"mean_ms", r.mean_ms},
                      {"sd_ms", spread ? nlohmann::json(r.sd_ms) : nlohmann::json(nullptr)},
                      {"median_ms", r.median_ms},
                      {"first_ms", r.first_ms}});
    }
  }
  if (format != TableFormat::Text) std::fputs(render(table, format).c_str(), stdout);
  if (!args.json.empty()) {
    const nlohmann::json doc = {{"threads", threads},
                                {"path", to_string(args.path)},
                                {"repeat", repeat},
                                {"efficiency", rows}};
    write_report(args.json, doc.dump(2) + "\n");
  }
  return code;
}

}  // namespace fdiwn::cli
