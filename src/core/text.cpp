#include "core/text.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace sockscope::text {

std::expected<unsigned, Error> parse_decimal(std::string_view digits, unsigned max,
                                             std::size_t column, std::string_view what) {
  using Code = Error::Code;
  if (digits.empty()) {
    return std::unexpected(Error::at(Code::kEmpty, "missing " + std::string(what), column));
  }
  std::size_t i = 0;
  unsigned long value = 0;
  while (i < digits.size() && digits[i] >= '0' && digits[i] <= '9') {
    if (value <= 0xffffffffUL) value = value * 10 + unsigned(digits[i] - '0');
    ++i;
  }
  if (i == 0) {
    return std::unexpected(Error::at(Code::kBadSyntax,
                                     "expected a number for the " + std::string(what), column,
                                     text::char_at(digits, 0)));
  }
  if (value > max) {
    return std::unexpected(Error::at(Code::kOutOfRange,
                                     std::string(what) + " out of range 0-" + std::to_string(max),
                                     column, digits.substr(0, i)));
  }
  if (i > 1 && digits[0] == '0') {
    return std::unexpected(Error::at(Code::kLeadingZero, "leading zero in " + std::string(what),
                                     column, digits.substr(0, i)));
  }
  if (i != digits.size()) {
    return std::unexpected(Error::at(Code::kTrailingGarbage,
                                     "unexpected character after " + std::string(what), column + i,
                                     digits.substr(i)));
  }
  return static_cast<unsigned>(value);
}

std::expected<std::string, Error> read_file(std::string_view path) {
  std::ifstream in{std::string(path)};
  if (!in) {
    int err = errno;
    return std::unexpected(Error::os(std::string(path), err));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sockscope::text
