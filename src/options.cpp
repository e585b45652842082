#include "fdiwn/options.hpp"

#include "fdiwn/errors.hpp"

namespace fdiwn {

namespace {

// The value of `all` whose name is `name`, or an error listing the names.
template <class E, std::size_t N>
E parse(const char* what, const std::string& name, const E (&all)[N]) {
  std::string names;
  for (const E value : all) {
    if (name == to_string(value)) return value;
    names += std::string(names.empty() ? "" : ", ") + to_string(value);
  }
  throw InvalidArgument(std::string(what) + " '" + name + "': not one of " + names);
}

}  // namespace

const char* to_string(Mode mode) {
  switch (mode) {
    case Mode::Whole:
      return "whole";
    case Mode::Chop:
      return "chop";
    case Mode::Auto:
      break;
  }
  return "auto";
}

const char* to_string(AlphaMode mode) {
  return mode == AlphaMode::Network ? "network" : "bicubic";
}

const char* to_string(Path path) {
  return path == Path::Engine ? "engine" : "plain";
}

Mode parse_mode(const std::string& name) {
  return parse("mode", name, kModes);
}

AlphaMode parse_alpha_mode(const std::string& name) {
  return parse("alpha mode", name, kAlphaModes);
}

Path parse_path(const std::string& name) {
  return parse("path", name, kPaths);
}

}  // namespace fdiwn
