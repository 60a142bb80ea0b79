// Internal text helpers shared by the core parsers and formatters: fast integer
// writers (no locale, no allocation) and a strict decimal reader.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "sockscope/error.hpp"

namespace sockscope::text {

// Writes v in decimal; returns the end.
inline char* write_u32(char* p, std::uint32_t v) {
  char tmp[10];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

inline char* write_u8(char* p, std::uint8_t v) {
  if (v >= 100) {
    *p++ = char('0' + v / 100);
    *p++ = char('0' + v / 10 % 10);
  } else if (v >= 10) {
    *p++ = char('0' + v / 10);
  }
  *p++ = char('0' + v % 10);
  return p;
}

inline char* write_dotted_quad(char* p, const std::uint8_t* b) {
  p = write_u8(p, b[0]);
  *p++ = '.';
  p = write_u8(p, b[1]);
  *p++ = '.';
  p = write_u8(p, b[2]);
  *p++ = '.';
  return write_u8(p, b[3]);
}

// Lowercase hex without leading zeros (RFC 5952 4.1, 4.3).
inline char* write_hex16(char* p, std::uint16_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 0xf;
    if (d != 0 || started || shift == 0) {
      *p++ = kDigits[d];
      started = true;
    }
  }
  return p;
}

// The character at text[i] for an error's fragment: a multi-byte UTF-8 character
// whole (its continuation bytes too), never half of one.
inline std::string_view char_at(std::string_view text, std::size_t i) {
  if (i >= text.size()) return {};
  std::size_t n = 1;
  if (static_cast<unsigned char>(text[i]) >= 0xc0) {
    while (i + n < text.size() && n < 4 &&
           (static_cast<unsigned char>(text[i + n]) & 0xc0) == 0x80) {
      ++n;
    }
  }
  return text.substr(i, n);
}

// Strict decimal: digits only, no sign, no leading zero, value <= max.
// `column` is the 1-based column of digits[0]; `what` names the value in errors
// ("port", "prefix length").
std::expected<unsigned, Error> parse_decimal(std::string_view digits, unsigned max,
                                             std::size_t column, std::string_view what);

// A small file's whole text (sysctls, /proc entries). The error names the path;
// EACCES/EPERM give Error::Code::kPermission.
std::expected<std::string, Error> read_file(std::string_view path);

}  // namespace sockscope::text
