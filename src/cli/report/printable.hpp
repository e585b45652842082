// Text from outside (file names, library messages) made safe to print on
// one line: a file name may hold a newline, which would forge a log line,
// or an escape sequence, which would drive the terminal.
#pragma once

#include <string>
#include <string_view>

namespace fdiwn::cli {

/// `text` with control characters written as escapes: "\n", "\t", "\r",
/// "\x1b". Other bytes (UTF-8 included) are kept.
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      static const char* const kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace fdiwn::cli
