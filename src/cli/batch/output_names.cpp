// Output names in a folder: --name's pattern expanded for one input.
#include <cstddef>
#include <string>

#include "cli/batch/jobs.hpp"
#include "fdiwn/errors.hpp"

namespace fdiwn::cli {

std::string expand_name(const std::string& pattern, const std::string& stem, const std::string& ext,
                        const std::string& scale) {
  if (pattern.find('/') != std::string::npos) {
    throw InvalidArgument("--name '" + pattern + "': a name pattern cannot contain '/'");
  }
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    const std::string key = close == std::string::npos ? "" : pattern.substr(i + 1, close - i - 1);
    if (key == "name") {
      out += stem;
    } else if (key == "ext") {
      out += ext;
    } else if (key == "scale") {
      out += scale;
    } else {
      throw InvalidArgument("--name '" + pattern +
                            "': unknown placeholder; use {name}, {ext} and {scale}");
    }
    i = close;
  }
  if (out.empty() || out == "." || out == "..") {
    throw InvalidArgument("--name '" + pattern + "' gives an empty file name");
  }
  return out;
}

}  // namespace fdiwn::cli
