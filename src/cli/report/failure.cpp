#include "cli/report/failure.hpp"

#include <new>

#include <opencv2/core.hpp>

namespace fdiwn::cli {

namespace {

std::string named(const std::string& message, const std::string& path) {
  if (!path.empty() && message.find(path) != std::string::npos) return message;
  return path + ": " + message;
}

}  // namespace

std::string describe_failure(const std::exception_ptr& e, const std::string& path) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return named("out of memory", path);
  } catch (const cv::Exception& ex) {
    // ex.what() repeats OpenCV's source file and line; err is the reason.
    return named("OpenCV: " + ex.err, path);
  } catch (const std::exception& ex) {
    return named(ex.what(), path);
  } catch (...) {
    return named("unknown error", path);
  }
}

}  // namespace fdiwn::cli
