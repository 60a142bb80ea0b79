// Text building blocks shared by the writers: JSON string escaping, CSV quoting,
// terminal-safe text (control characters escaped), display width, and the exact
// number texts of the schema (seconds with microseconds from nanoseconds, "26.3 kB",
// "1.643s"), made with integer arithmetic rather than through floating point.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sockscope::output {

// Appends `s` as a JSON string (quotes included).
void json_string(fmt::memory_buffer& out, std::string_view s);
// Appends one CSV field, quoted when needed (RFC 4180).
void csv_field(fmt::memory_buffer& out, std::string_view s);
// Appends one Zeek TSV field: tab, newline and backslash and other control characters
// as \xNN, "(empty)" for an empty string.
void zeek_field(fmt::memory_buffer& out, std::string_view s);

// Whether `s` holds a control character (C0, DEL) that a terminal would act on.
bool has_control(std::string_view s);
// `s` with control characters written as \n, \t, \r, \xNN: text from outside
// (process names, file names, services-file labels, input echoed in errors) in a
// table cell or an error line can neither move the cursor nor break the line.
std::string terminal_safe(std::string_view s);

// terminal_safe() that also writes bytes that are no valid UTF-8 as \xNN: an error
// line is one line of valid UTF-8 whatever the input it quotes.
std::string utf8_safe(std::string_view s);
// `s` cut to at most `max_bytes` (at a character boundary) with "..." appended
// when it was longer.
std::string shortened(std::string_view s, std::size_t max_bytes);

// Columns `s` takes on a terminal: UTF-8 code points (good enough for our cells).
std::size_t display_width(std::string_view s);

// has_control() and display_width() in one pass: for text from outside, which
// every row of a table may carry (process names).
struct TextScan {
  bool control;
  std::size_t width;
};
TextScan scan_text(std::string_view s);

// Short texts built on the stack.
struct ShortText {
  char text[40];
  std::size_t size = 0;
  operator std::string_view() const { return {text, size}; }
  std::string_view view() const { return {text, size}; }
};

// Seconds with microseconds from nanoseconds, exactly: "1700000000.123456".
ShortText seconds_text(std::uint64_t ns);
// "8734", "26.3 kB", "1.2 MB", "3.4 GB" (decimal units, one decimal, half up).
ShortText bytes_text(std::uint64_t n);
// "1.643s", "2m05s", "1h02m".
ShortText duration_text(std::uint64_t ns);

// Appends decimal digits at p; returns the end.
inline char* put_digits(char* p, std::uint64_t n) {
  const fmt::format_int digits(n);
  std::memcpy(p, digits.data(), digits.size());
  return p + digits.size();
}

}  // namespace sockscope::output
