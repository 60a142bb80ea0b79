// Where output goes: a large buffer written to a file descriptor (standard output
// by default) in big blocks, and the ANSI styles of the table format. Nothing
// prints field by field.
// Thread safety: a Sink is used by one thread at a time.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace sockscope::output {

class Sink {
 public:
  explicit Sink(int fd = STDOUT_FILENO) : fd_(fd) {}
  // Into memory: flush() appends to `text` (an HTTP response, a test).
  explicit Sink(std::string& text) : text_(&text) {}
  ~Sink() { flush(); }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  fmt::memory_buffer& buffer() { return buf_; }
  void append(std::string_view s) { buf_.append(s.data(), s.data() + s.size()); }
  // Writes when at least `threshold` bytes are buffered.
  void maybe_flush(std::size_t threshold = std::size_t(1) << 20) {
    if (buf_.size() >= threshold) flush();
  }
  // Writes everything buffered. A closed pipe (EPIPE, e.g. `| head`) drops the rest
  // quietly; failed() then says so.
  void flush();
  bool failed() const { return failed_; }

 private:
  int fd_ = -1;
  std::string* text_ = nullptr;
  bool failed_ = false;
  fmt::memory_buffer buf_;
};

// ANSI colours, empty when colour is off.
struct Style {
  bool enabled = false;
  std::string_view bold() const { return enabled ? "\x1b[1m" : ""; }
  std::string_view dim() const { return enabled ? "\x1b[2m" : ""; }
  std::string_view green() const { return enabled ? "\x1b[32m" : ""; }
  std::string_view yellow() const { return enabled ? "\x1b[33m" : ""; }
  std::string_view red() const { return enabled ? "\x1b[31m" : ""; }
  std::string_view cyan() const { return enabled ? "\x1b[36m" : ""; }
  std::string_view reset() const { return enabled ? "\x1b[0m" : ""; }
};

}  // namespace sockscope::output
