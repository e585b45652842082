#include "cli/batch/output_guard.hpp"

#include <filesystem>

#include "fdiwn/errors.hpp"
#include "fdiwn/files.hpp"

namespace fdiwn::cli {

namespace fs = std::filesystem;

std::string file_identity(const std::string& path) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  const fs::path c = fs::weakly_canonical(absolute, ec);
  return ec ? absolute.lexically_normal().string() : c.string();
}

void OutputGuard::add_input(const std::string& path) {
  inputs_.emplace(file_identity(path), path);
  if (const auto id = file_id(path)) input_files_.emplace(*id, path);
}

std::optional<OutputGuard::Conflict> OutputGuard::claim(const std::string& output,
                                                        const std::string& owner) {
  const std::string id = file_identity(output);
  if (auto it = inputs_.find(id); it != inputs_.end()) return Conflict{true, it->second};
  // The same file under another name: a bind mount, or a hard link.
  if (const auto file = file_id(output)) {
    if (auto it = input_files_.find(*file); it != input_files_.end()) {
      return Conflict{true, it->second};
    }
  }
  if (auto [it, fresh] = outputs_.emplace(id, owner); !fresh) return Conflict{false, it->second};
  return std::nullopt;
}

void OutputGuard::claim_or_throw(const std::string& output, const std::string& what) {
  if (const auto c = claim(output, what)) {
    throw InvalidArgument(output + ": " + what +
                          (c->with_input ? " would overwrite the input " + c->other
                                         : " is also where " + c->other + " goes") +
                          "; choose another path");
  }
}

}  // namespace fdiwn::cli
