// Output for every subcommand: aligned tables for people, JSON Lines and CSV
// for machines. Everything is formatted into one large buffer and written in
// big blocks; nothing prints field by field.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/endpoint.hpp"
#include "sockscope/port.hpp"

namespace sockscope::cli {

enum class Format { kTable, kJson, kCsv };

// Exit codes shared by all subcommands.
enum Exit : int {
  kExitOk = 0,
  kExitNotFound = 1,
  kExitUsage = 2,
  kExitRuntime = 3,
  kExitThreshold = 4,
};

// Buffered standard output. flush() writes everything; the destructor flushes.
class Sink {
 public:
  Sink() = default;
  ~Sink() { flush(); }
  fmt::memory_buffer& buffer() { return buf_; }
  void append(std::string_view s) { buf_.append(s.data(), s.data() + s.size()); }
  // Writes when more than `threshold` bytes are buffered.
  void maybe_flush(std::size_t threshold = 1 << 20) {
    if (buf_.size() >= threshold) flush();
  }
  void flush();

 private:
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

// A table of text cells. Renders aligned (numbers right-aligned) or as CSV.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_align = {});
  void add_row(std::vector<std::string> cells);
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  void render(fmt::memory_buffer& out, const Style& style) const;
  void render_csv(fmt::memory_buffer& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Appends one CSV field, quoted when needed (RFC 4180).
void csv_field(fmt::memory_buffer& out, std::string_view s);

// Writes one JSON object per line, fields in the order written.
class JsonWriter {
 public:
  explicit JsonWriter(fmt::memory_buffer& out) : out_(out) {}

  JsonWriter& begin_object(std::string_view key = {});
  JsonWriter& end_object();
  JsonWriter& begin_array(std::string_view key = {});
  JsonWriter& end_array();
  JsonWriter& str(std::string_view key, std::string_view value);
  JsonWriter& num(std::string_view key, std::int64_t value);
  JsonWriter& num(std::string_view key, std::uint64_t value);
  JsonWriter& num(std::string_view key, int value) { return num(key, std::int64_t{value}); }
  JsonWriter& num(std::string_view key, unsigned value) {
    return num(key, std::uint64_t{value});
  }
  JsonWriter& real(std::string_view key, double value, int decimals = 6);
  JsonWriter& boolean(std::string_view key, bool value);
  JsonWriter& null(std::string_view key);
  // {"address": ..., "port": ..., "group": ...[, "ephemeral": bool]}
  JsonWriter& endpoint(std::string_view key, const Endpoint& ep,
                       std::optional<PortRange> host_ephemeral = std::nullopt);
  // Ends the top-level object's line.
  void end_line();

 private:
  void key(std::string_view key);
  fmt::memory_buffer& out_;
  std::vector<bool> first_{};  // per open container: no member written yet
};

void json_string(fmt::memory_buffer& out, std::string_view s);

}  // namespace sockscope::cli
