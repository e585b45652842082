#include "fdiwn/version.hpp"

namespace fdiwn {

const char* library_version() {
  return FDIWN_VERSION_STRING;
}

}  // namespace fdiwn
