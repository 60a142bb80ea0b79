// The fast paths of the conversation kinds (kinds/capture.hpp): hundreds of
// thousands of rows are usual, so JSON, CSV and Zeek rows and the aligned table are
// formatted straight into buffers here. They write exactly what RecordWriter writes
// for kConversationKind / kZeekConnKind (tests/output compare them row by row): the
// schema is the specification, this is its hot path.
// Rows are formatted into a caller's buffer, so on any thread; the registry is only read.
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "output/sink.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/conversations.hpp"
#include "sockscope/naming.hpp"

namespace sockscope::output {

// One conversation row, given its service name ("" = none).
using ConversationEncoder = void (*)(fmt::memory_buffer&, const Conversation&,
                                     std::string_view service);
void conversation_json(fmt::memory_buffer& out, const Conversation& c, std::string_view service);
void conversation_csv(fmt::memory_buffer& out, const Conversation& c, std::string_view service);
void conversation_zeek(fmt::memory_buffer& out, const Conversation& c, std::string_view service);
// CSV and Zeek with the `open` column (--report-every; JSON writes it when true).
void conversation_csv_open(fmt::memory_buffer& out, const Conversation& c,
                           std::string_view service);
void conversation_zeek_open(fmt::memory_buffer& out, const Conversation& c,
                            std::string_view service);

// The service name a conversation is shown with (Naming's rule; thread-safe when
// the naming's cache is off).
std::string_view service_name(const Naming& naming, const Conversation& c);

// The aligned table of `all` in `order` into `out`, flushing it as it grows: sorted
// while the widths are measured, rows formatted on two threads. The naming must be
// safe for concurrent readers (its cache off).
void render_conversation_table(Sink& out, const Naming& naming, const ConversationStore& all,
                               ConversationOrder order, const Style& style);

}  // namespace sockscope::output
