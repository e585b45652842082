#include "cli/commands/values.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

namespace {

// The length of the plain decimal number `text` begins with ("-1.5e3"; 0
// if none). std::stod alone also reads hexadecimal, "inf" and leading
// spaces: found by hand, --max-pixels 0x300 was 768 pixels.
size_t decimal_length(const std::string& text) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i - from;
  };
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    const size_t mark = i++;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (digits() == 0) i = mark;  // "5e" or "1ex": the number ends before the e
  }
  return i;
}

// `text`'s leading plain decimal number; `used` gets its length.
std::optional<double> leading_decimal(const std::string& text, size_t& used) {
  used = decimal_length(text);
  if (used == 0) return std::nullopt;
  try {
    return std::stod(text.substr(0, used));
  } catch (const std::exception&) {
    return std::nullopt;  // out of range
  }
}

// Parses a leading non-negative number; `rest` gets what follows.
bool leading_number(const std::string& text, double& value, std::string& rest) {
  size_t used = 0;
  const auto parsed = leading_decimal(text, used);
  if (!parsed) return false;
  value = *parsed;
  if (!(value >= 0) || !std::isfinite(value)) return false;
  rest = text.substr(used);
  for (auto& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  return true;
}

}  // namespace

std::size_t parse_memory_size(const std::string& text, std::size_t available, std::size_t least,
                              const std::string& why_least) {
  double v = 0;
  std::string unit;
  const auto bad = [&] {
    return InvalidArgument("--max-memory '" + text +
                           "': expected a size such as 8G, 512M or 1.5GiB, or a share such as 40%");
  };
  if (!leading_number(text, v, unit)) throw bad();
  double bytes = 0;
  if (unit == "%") {
    if (v > 100) throw bad();
    bytes = static_cast<double>(available) * v / 100;
  } else if (unit.empty() || unit == "b") {
    bytes = v;
  } else {
    const char prefix = unit[0];
    const std::string tail = unit.substr(1);
    if (tail != "" && tail != "b" && tail != "ib") throw bad();
    const double k = 1024;
    switch (prefix) {
      case 'k':
        bytes = v * k;
        break;
      case 'm':
        bytes = v * k * k;
        break;
      case 'g':
        bytes = v * k * k * k;
        break;
      case 't':
        bytes = v * k * k * k * k;
        break;
      default:
        throw bad();
    }
  }
  if (bytes < static_cast<double>(least)) {
    throw InvalidArgument("--max-memory '" + text + "': fdiwn needs at least " +
                          format_bytes(least) + " (" + why_least + ")");
  }
  // Beyond this the conversion to a byte count would overflow (1e30 became 0).
  constexpr double kMost = 1024.0 * 1024 * 1024 * 1024 * 1024 * 1024;  // 1 EiB
  if (bytes > kMost) {
    throw InvalidArgument("--max-memory '" + text + "': more memory than any machine has");
  }
  return static_cast<std::size_t>(bytes);
}

int64_t parse_pixel_count(const std::string& text) {
  const auto bad = [&] {
    return InvalidArgument("--max-pixels '" + text +
                           "': expected a count such as 100M (megapixels), 1e8 or 10000x10000");
  };
  double v = 0;
  std::string rest;
  if (!leading_number(text, v, rest)) throw bad();
  double pixels = v;
  if (rest.empty() || rest == "px") {
    pixels = v;
  } else if (rest == "m" || rest == "mp") {
    pixels = v * 1e6;
  } else if (rest == "k") {
    pixels = v * 1e3;
  } else if (rest[0] == 'x') {
    double h = 0;
    std::string after;
    if (!leading_number(rest.substr(1), h, after) || !after.empty()) throw bad();
    // Found by hand: 0.5x4 was 2 pixels.
    if (v != std::floor(v) || h != std::floor(h)) {
      throw InvalidArgument("--max-pixels '" + text + "': the sides of WxH are whole numbers");
    }
    pixels = v * h;
  } else {
    throw bad();
  }
  if (pixels < 1 || pixels > 9e18) throw bad();
  // Found by hand: 1.5 was taken as 1 pixel. (1.5M is whole; the tolerance
  // is for decimal fractions such as 1.2345M, not exact in binary.)
  const double whole = std::round(pixels);
  if (std::abs(pixels - whole) > 1e-3) {
    char count[32];
    std::snprintf(count, sizeof count, "%.10g", pixels);
    throw InvalidArgument("--max-pixels '" + text + "': " + count +
                          " is not a whole number of pixels");
  }
  return static_cast<int64_t>(whole);
}

std::string format_bytes(std::size_t bytes) {
  char buf[32];
  const double gib = static_cast<double>(bytes) / (1024.0 * 1024 * 1024);
  if (gib >= 1) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", gib);
  } else {
    std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  }
  return buf;
}

namespace {

// `text` as a whole as a finite number, or nullopt.
std::optional<double> whole_number(const std::string& text) {
  std::size_t used = 0;
  const auto v = leading_decimal(text, used);
  if (!v || used != text.size() || !std::isfinite(*v)) return std::nullopt;
  return v;
}

CLI::Validator at_least(double lo, bool inclusive, const std::string& expected,
                        const std::string& name) {
  return CLI::Validator(
      [lo, inclusive, expected](const std::string& text) -> std::string {
        const auto v = whole_number(text);
        if (v && (inclusive ? *v >= lo : *v > lo)) return {};
        return "'" + text + "' is not " + expected;
      },
      name);
}

}  // namespace

CLI::Validator positive_number() {
  return at_least(0, false, "a number above 0", "POSITIVE");
}

CLI::Validator non_negative_number() {
  return at_least(0, true, "a number of 0 or more", "NONNEGATIVE");
}

CLI::Validator number_in(double lo, double hi) {
  std::ostringstream range;
  range << "[" << lo << " - " << hi << "]";
  return CLI::Validator(
      [lo, hi, range = range.str()](const std::string& text) -> std::string {
        // Found by hand: " 2" and "0x2" were "not in range [1 - 16]".
        const auto v = whole_number(text);
        if (!v) return "Value '" + text + "' is not a plain decimal number";
        if (!(*v >= lo && *v <= hi)) return "Value " + text + " not in range " + range;
        return {};
      },
      "FLOAT in " + range.str());
}

void refuse_empty_values(CLI::App* cmd) {
  const CLI::Validator non_empty(
      [](const std::string& value) {
        return value.empty() ? std::string("an empty value (leave the option out for its default)")
                             : std::string();
      },
      "");
  // A required option has no default to fall back on (found by hand: -i ""
  // was advised to be left out).
  const CLI::Validator given(
      [](const std::string& value) { return value.empty() ? "an empty value" : std::string(); },
      "");
  for (CLI::Option* option : cmd->get_options()) {
    if (option->get_expected_min() > 0) option->check(option->get_required() ? given : non_empty);
  }
}

CLI::Option* one_value_each(CLI::Option* option, char separator) {
  option->allow_extra_args(false);
  if (separator != '\0') option->delimiter(separator);
  return option;
}

std::vector<std::string> given_options(const CLI::App& cmd) {
  std::vector<std::string> given;
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->count() > 0) given.push_back(option->get_name());
  }
  return given;
}

void refuse_repeated_values(CLI::App* cmd) {
  cmd->parse_complete_callback([cmd] {
    for (const CLI::Option* option : cmd->get_options()) {
      if (option->get_expected_min() == 0) continue;  // a flag: twice is still once
      std::vector<std::string> seen;
      for (const std::string& value : option->results()) {
        if (std::find(seen.begin(), seen.end(), value) != seen.end()) {
          throw CLI::ValidationError(option->get_name(), value + " is given twice");
        }
        seen.push_back(value);
      }
    }
  });
}

}  // namespace fdiwn::cli
