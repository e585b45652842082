// One line for any failure of one file, whatever threw it: our errors name
// the file already; a library's exception (OpenCV, the standard library)
// or an allocation failure gets the file's name in front.
#pragma once

#include <exception>
#include <string>

namespace fdiwn::cli {

/// "path: reason" for the exception `e` raised while working on `path`.
std::string describe_failure(const std::exception_ptr& e, const std::string& path);

}  // namespace fdiwn::cli
