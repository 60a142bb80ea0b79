// sockscope/error.hpp: errors as values.
//
// Every parser and I/O function of the library returns std::expected<T, Error>.
// An Error names what went wrong, where (1-based column, 0 when not applicable)
// and the offending fragment, so a caller can print one clear line:
//
//   #include <sockscope/endpoint.hpp>
//   #include <iostream>
//   auto ep = Endpoint::parse("192.168.1.5:70000");
//   if (!ep) std::cout << ep.error().what() << '\n';
//   // => port out of range 0-65535 at column 13: '70000'
//
// No exception crosses the library boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sockscope {

struct Error {
  enum class Code : std::uint8_t {
    kEmpty,            // nothing to parse
    kBadAddress,       // not an IPv4/IPv6 address
    kLeadingZero,      // "04" in an IPv4 octet or a port
    kOutOfRange,       // octet > 255, port > 65535, prefix too long
    kMissingPort,      // "[::1]" without ":port"
    kNeedBrackets,     // IPv6 with a port written without [ ]
    kTrailingGarbage,  // input continues after a complete value
    kBadTransport,     // unknown transport name
    kBadSyntax,        // other malformed input (separator, range, ...)
    kMixedFamilies,    // IPv4 endpoint paired with an IPv6 one
    kIo,               // a file could not be read
    kPermission,       // the OS refused (EPERM/EACCES)
    kUnsupported,      // the kernel or file uses something not supported
    kTruncated,        // input ended early
  };

  Code code = Code::kBadSyntax;
  std::string message;     // what is wrong, without position
  std::size_t column = 0;  // 1-based position in the input; 0 = none
  std::string fragment;    // the offending part of the input

  // One line: "<message> at column <c>: '<fragment>'" (parts present only when known).
  std::string what() const;

  static Error at(Code code, std::string message, std::size_t column,
                  std::string_view fragment = {});
  static Error io(std::string message);
  // A failed system call: "<what>: <strerror(err)>", kPermission for EPERM/EACCES,
  // kIo otherwise (callers refine other errnos, e.g. to kUnsupported).
  static Error os(std::string what, int err);
};

// How long-running work tells its caller about a problem that did not stop it
// ("network namespace blue skipped: ..."): a warning, or an error about one part.
enum class Severity : std::uint8_t { kWarning, kError };
using ReportFn = std::function<void(Severity, const std::string& message)>;

}  // namespace sockscope
