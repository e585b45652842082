// Parsing the command line's values: memory sizes, pixel counts, and the
// library's named choices (fdiwn/options.hpp) as CLI11 options.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fdiwn/errors.hpp"
#include "fdiwn/options.hpp"

namespace fdiwn::cli {

/// "8G", "512M", "1.5GiB", "2000000000" (bytes), or "40%" of `available`.
/// Throws fdiwn::InvalidArgument with the text and what is expected, or,
/// for less than `least`, with that and `why_least`.
std::size_t parse_memory_size(const std::string& text, std::size_t available, std::size_t least,
                              const std::string& why_least);

/// "100M" (megapixels), "1e8", "250000000" or "10000x10000".
int64_t parse_pixel_count(const std::string& text);

/// "11.5 GiB", "640 MiB".
std::string format_bytes(std::size_t bytes);

/// A number from `lo` to `hi`, as CLI::Range checks it, but refusing NaN
/// ("nan" passed CLI::Range, every comparison with it being false, and
/// --outscale nan then ran the default scale).
CLI::Validator number_in(double lo, double hi);

/// A number above 0 (`positive`) or at least 0: CLI::PositiveNumber and
/// CLI::NonNegativeNumber said "Value 0 not in range 0.000000 to 1797...".
CLI::Validator positive_number();
CLI::Validator non_negative_number();

/// Makes every option of `cmd` that takes values refuse an empty one
/// (`-w "$UNSET"`): read as "not given", it silently ran the default.
void refuse_empty_values(CLI::App* cmd);

/// Makes a list option take one value each time it is given (-s 2 -s 4; with
/// `separator`, also -s 2,4). CLI11's default took every word that followed:
/// `metrics -s 4 a.png` said only "--scale: a.png".
CLI::Option* one_value_each(CLI::Option* option, char separator = '\0');

/// The options given to `cmd` after parsing, each by its long name ("--scale"
/// for -s).
std::vector<std::string> given_options(const CLI::App& cmd);

/// Makes every option of `cmd` refuse a value given twice (`-s 2 -s 2`):
/// bench ran that scale twice, and metrics blamed the --sr folder for it.
void refuse_repeated_values(CLI::App* cmd);

/// Adds an option whose value is one of `choices`, named as the library's
/// to_string() names them and read by its `parse` (parse_mode, ...): any
/// other value is refused with the list of names.
template <class E, std::size_t N>
CLI::Option* add_choice(CLI::App* cmd, const std::string& flags, E& value, const std::string& help,
                        const E (&choices)[N], E (*parse)(const std::string&)) {
  std::vector<E> allowed(std::begin(choices), std::end(choices));
  std::string listed;
  for (const E c : allowed) listed += std::string(listed.empty() ? "" : ",") + to_string(c);
  // CLI11 reads an enum from its number: the name is replaced by that.
  const CLI::Validator by_name(
      [allowed, listed, parse](std::string& input) -> std::string {
        try {
          const E v = parse(input);
          if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) {
            input = std::to_string(static_cast<int>(v));
            return {};
          }
        } catch (const InvalidArgument&) {
        }
        return input + " not in {" + listed + "}";
      },
      "");
  return cmd->add_option(flags, value, help)
      ->transform(by_name)
      ->type_name("TEXT:{" + listed + "}")
      ->default_str(to_string(value));
}

}  // namespace fdiwn::cli
