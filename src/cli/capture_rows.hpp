// The rows of `sockscope conversations`: one conversation as a JSON line, a CSV row or
// a Zeek conn.log line, and the aligned table (sorted, rendered on two threads).
// Formatting writes into a caller's buffer, so rows can be formatted on any thread;
// the registry is only read (its lookups are safe from several threads).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/conversation_store.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::cli {

// Collected conversations (see conversation_store.hpp).
using Conversations = ConversationStore;

// The registry's name for the server port: a hint, empty for ICMP and for a
// lower-port guess between two ephemeral ports.
std::string_view service_of(const Registry& registry, const Conversation& c);

// One line each, with the service name given.
void json_row(fmt::memory_buffer& out, const Conversation& c, std::string_view service);
extern const std::string_view kCsvHeader;
void csv_row(fmt::memory_buffer& out, const Conversation& c, std::string_view service);
void zeek_header(fmt::memory_buffer& out);  // "#separator", ..., "#open", "#fields", "#types"
void zeek_footer(fmt::memory_buffer& out);  // "#close"
void zeek_row(fmt::memory_buffer& out, const Conversation& c, std::string_view service);

// Short human texts: "8734", "26.3 kB", "1.2 MB"; "1.643s", "2m05s", "1h02m".
struct ShortText {
  char text[32];
  std::size_t size = 0;
  operator std::string_view() const { return {text, size}; }
};
ShortText bytes_text(std::uint64_t n);
ShortText duration_text(std::uint64_t ns);

// The rows in --sort order ("bytes", "packets", "duration" descending, "first"
// ascending; ties keep the order of `v`). Empty for an unknown key.
std::vector<const Conversation*> sorted_conversations(const Conversations& v,
                                                      const std::string& key);

// The aligned table of `all` in --sort order (see sorted_conversations) into `out`,
// flushing it as it grows; `bold`/`reset` style the header.
class Sink;
void render_table(Sink& out, const Registry& registry, const Conversations& all,
                  const std::string& sort, std::string_view bold, std::string_view reset);

}  // namespace sockscope::cli
