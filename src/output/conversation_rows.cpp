// Conversation rows, fast (see conversation_rows.hpp). Every row is formatted
// straight into the output buffer with compiled format strings, numbers that humans
// read ("26.3 kB", "1.643s") are made with integer arithmetic, and the table is
// measured and formatted on two threads.
#include "output/conversation_rows.hpp"

#include <fmt/compile.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <exception>
#include <thread>

#include "output/kinds/capture.hpp"
#include "output/schema.hpp"
#include "output/text.hpp"

namespace sockscope::output {
namespace {

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

std::string_view service_name(const Naming& naming, const Conversation& c) {
  const Service* s = naming.service(c.pair.transport, c.pair.second.port, c.evidence);
  return s ? s->name : std::string_view{};
}

namespace {

// The most bytes an argument formats to: a text's own size, at most 20 digits.
std::size_t bound_of(std::string_view s) { return s.size(); }
std::size_t bound_of(const char* s) { return std::strlen(s); }
std::size_t bound_of(std::uint64_t) { return 20; }

// Formats into room the writer reserves from the pattern's length and the
// arguments' bounds (straight stores, no capacity test per piece as through
// fmt::appender, and no hand-counted buffer that a new field could overflow).
template <std::size_t N, class Compiled, class... Args>
void put_bounded(fmt::memory_buffer& buf, const char (&)[N], const Compiled& format,
                 const Args&... args) {
  const std::size_t at = buf.size();
  buf.resize(at + N + (bound_of(args) + ... + 0));
  char* end = fmt::format_to(buf.data() + at, format, args...);
  buf.resize(std::size_t(end - buf.data()));
}

constexpr char kJsonHead[] =
    "{{\"transport\":\"{}\",\"client\":{{\"address\":\"{}\",\"port\":{},"
    "\"group\":\"{}\"}},\"server\":{{\"address\":\"{}\",\"port\":{},"
    "\"group\":\"{}\"}},\"role_evidence\":\"{}\",\"service\":";
constexpr char kJsonVlan[] = ",\"vlan\":{}";
constexpr char kJsonCounts[] =
    ",\"first\":{},\"last\":{},\"duration\":{},\"client_packets\":{},"
    "\"client_bytes\":{},\"client_payload_bytes\":{},\"server_packets\":{},"
    "\"server_bytes\":{},\"server_payload_bytes\":{},\"conn_state\":\"{}\","
    "\"history\":\"";
constexpr char kJsonTail[] = "\",\"community_id\":\"{}\"{}{}";
constexpr char kJsonMissed[] = ",\"missed_bytes\":{}";

}  // namespace

// Every string in a JSON line but the service name is a fixed token, an address or
// a Community ID, which never need escaping; the history's letters neither.
void conversation_json(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  put_bounded(buf, kJsonHead, FMT_COMPILE(kJsonHead), to_string(c.pair.transport),
              std::string_view(a, c.pair.first.address.format(a)), std::uint64_t(c.pair.first.port),
              to_string(c.pair.first.group()), std::string_view(b, c.pair.second.address.format(b)),
              std::uint64_t(c.pair.second.port), to_string(c.pair.second.group()),
              to_string(c.evidence));
  if (service.empty()) {
    buf.append(std::string_view("null"));
  } else {
    json_string(buf, service);
  }
  if (c.vlan) put_bounded(buf, kJsonVlan, FMT_COMPILE(kJsonVlan), std::uint64_t(c.vlan));
  put_bounded(buf, kJsonCounts, FMT_COMPILE(kJsonCounts), seconds_text(c.first_ns).view(),
              seconds_text(c.last_ns).view(), seconds_text(c.duration_ns()).view(),
              c.client.packets, c.client.ip_bytes, c.client.payload_bytes, c.server.packets,
              c.server.ip_bytes, c.server.payload_bytes, to_string(c.conn_state));
  buf.append(c.history);
  put_bounded(buf, kJsonTail, FMT_COMPILE(kJsonTail), std::string_view(c.community_id()),
              c.evicted_early ? ",\"evicted_early\":true" : "",
              c.history_truncated ? ",\"history_truncated\":true" : "");
  if (c.missed_bytes) put_bounded(buf, kJsonMissed, FMT_COMPILE(kJsonMissed), c.missed_bytes);
  // The rare fields: a tunnel, an ICMP error.
  if (c.tunnel.kind != TunnelKind::kNone) {
    buf.append(std::string_view(",\"tunnel\":"));
    json_string(buf, to_string(c.tunnel.kind));
    buf.append(std::string_view(",\"tunnel_parent\":"));
    json_string(buf, c.tunnel.to_string());
  }
  if (c.icmp_error) {
    buf.append(std::string_view(",\"icmp_error\":"));
    json_string(buf, c.icmp_error->name());
  }
  if (c.open) buf.append(std::string_view(",\"open\":true"));
  buf.append(std::string_view("}\n"));
}

void conversation_csv(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  const std::string_view ca(a, c.pair.first.address.format(a));
  const std::string_view sa(b, c.pair.second.address.format(b));
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{},{},{},{},{},{},{},{},"),
                 to_string(c.pair.transport), ca, c.pair.first.port,
                 to_string(c.pair.first.group()), sa, c.pair.second.port,
                 to_string(c.pair.second.group()), to_string(c.evidence));
  csv_field(buf, service);
  fmt::format_to(fmt::appender(buf), FMT_COMPILE(",{},{},{},{},{},{},{},{},{},{},{},"), c.vlan,
                 seconds_text(c.first_ns).view(), seconds_text(c.last_ns).view(),
                 seconds_text(c.duration_ns()).view(), c.client.packets, c.client.ip_bytes,
                 c.client.payload_bytes, c.server.packets, c.server.ip_bytes,
                 c.server.payload_bytes, to_string(c.conn_state));
  csv_field(buf, c.history);
  fmt::format_to(fmt::appender(buf), FMT_COMPILE(",{},{},{},{},"), c.community_id(),
                 c.evicted_early ? "true" : "false", c.history_truncated ? "true" : "false",
                 c.missed_bytes);
  if (c.tunnel.kind != TunnelKind::kNone) {
    buf.append(to_string(c.tunnel.kind));
    buf.push_back(',');
    csv_field(buf, c.tunnel.to_string());
  } else {
    buf.push_back(',');
  }
  buf.push_back(',');
  if (c.icmp_error) buf.append(c.icmp_error->name());
  buf.push_back('\n');
}

// As in Zeek, duration and the byte sizes are unset ("-") for a conversation of zero
// duration; orig_bytes/resp_bytes are payload bytes.
void conversation_zeek(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  const std::string community_id = c.community_id();
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t{}\t{}\t{}\t{}\t{}\t{}\t"),
                 seconds_text(c.first_ns).view(), zeek_uid(c, community_id),
                 std::string_view(a, c.pair.first.address.format(a)), c.pair.first.port,
                 std::string_view(b, c.pair.second.address.format(b)), c.pair.second.port,
                 to_string(c.pair.transport));
  buf.append(std::string_view("-\t"));  // service: Zeek's is confirmed by content
  if (c.duration_ns() > 0) {
    fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t{}\t{}\t"),
                   seconds_text(c.duration_ns()).view(), c.client.payload_bytes,
                   c.server.payload_bytes);
  } else {
    buf.append(std::string_view("-\t-\t-\t"));
  }
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t-\t-\t{}\t"), to_string(c.conn_state),
                 c.missed_bytes);
  if (c.history.empty()) {
    buf.push_back('-');
  } else {
    zeek_field(buf, c.history);
  }
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("\t{}\t{}\t{}\t{}\t"), c.client.packets,
                 c.client.ip_bytes, c.server.packets, c.server.ip_bytes);
  if (c.tunnel.kind != TunnelKind::kNone) {
    zeek_field(buf, c.tunnel.to_string());
  } else {
    buf.push_back('-');
  }
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("\t{}\t"), community_id);
  if (service.empty()) {
    buf.push_back('-');
  } else {
    zeek_field(buf, service);
  }
  buf.push_back('\n');
}

// The row without `open`, then the column: the last field, shown with --report-every.
void conversation_csv_open(fmt::memory_buffer& buf, const Conversation& c,
                           std::string_view service) {
  conversation_csv(buf, c, service);
  buf.resize(buf.size() - 1);
  buf.append(std::string_view(c.open ? ",true\n" : ",false\n"));
}

void conversation_zeek_open(fmt::memory_buffer& buf, const Conversation& c,
                            std::string_view service) {
  conversation_zeek(buf, c, service);
  buf.resize(buf.size() - 1);
  buf.append(std::string_view(c.open ? "\tT\n" : "\tF\n"));
}

namespace {

constexpr std::size_t kColumns = 11;
// The table's columns: the conversation kind's table view (kinds/capture.cpp).
struct Columns {
  std::array<std::string_view, kColumns> header;
  std::array<bool, kColumns> right;
  Columns() {
    std::size_t k = 0;
    for (std::string_view name : kConversationKind.table) {
      for (const Field& f : kConversationKind.fields) {
        if (f.name != name || k >= kColumns) continue;
        header[k] = f.header;
        right[k++] = f.right_aligned();
      }
    }
  }
};
const Columns& columns() {
  static const Columns c;
  return c;
}

template <class Cell>
void table_cells(const Naming& naming, const Conversation& c, Cell&& cell) {
  char text[Endpoint::kMaxTextSize + 48];  // also "udp vlan 16777215 in erspan-iii"
  const std::string_view transport = to_string(c.pair.transport);
  if (c.vlan || c.tunnel.kind != TunnelKind::kNone) {
    char* end = put(text, transport);
    if (c.vlan) end = put_digits(put(end, std::string_view(" vlan ")), c.vlan);
    if (c.tunnel.kind != TunnelKind::kNone) {
      end = put(put(end, std::string_view(" in ")), to_string(c.tunnel.kind));
    }
    cell(0, std::string_view(text, std::size_t(end - text)));
  } else {
    cell(0, transport);
  }
  cell(1, std::string_view(text, c.pair.first.format(text)));
  cell(2, std::string_view(text, c.pair.second.format(text)));
  const std::string_view service = service_name(naming, c);
  cell(3, service.empty() ? std::string_view("-") : service);
  const bool stateful = c.pair.transport == Transport::kTcp || c.pair.transport == Transport::kUdp;
  cell(4, stateful ? to_string(c.conn_state) : std::string_view("-"));
  const fmt::format_int packets(c.packets());
  cell(5, std::string_view(packets.data(), packets.size()));
  cell(6, bytes_text(c.ip_bytes()));
  cell(7, bytes_text(c.client.ip_bytes));
  cell(8, bytes_text(c.server.ip_bytes));
  cell(9, duration_text(c.duration_ns()));
  cell(10, to_string(c.evidence));
}

using Widths = std::array<std::size_t, kColumns>;

Widths measure(const Naming& naming, const ConversationStore& all, std::size_t begin,
               std::size_t end) {
  Widths width{};
  for (std::size_t i = begin; i < end; ++i) {
    table_cells(naming, all[i], [&](std::size_t k, std::string_view text) {
      width[k] = std::max(width[k], text.size());
    });
  }
  return width;
}

// A line's cells padded to their columns, written into room reserved once per line
// (the widths bound every cell: they were measured over all rows and the header).
class Line {
 public:
  Line(fmt::memory_buffer& buf, const Widths& width)
      : buf_(buf), width_(width), right_(columns().right) {
    std::size_t room = 1;  // the newline
    for (std::size_t k = 0; k < kColumns; ++k) room += width[k] + 2;
    const std::size_t start = buf.size();
    buf.resize(start + room);
    p_ = buf.data() + start;
  }
  ~Line() { buf_.resize(std::size_t(p_ - buf_.data())); }
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  // Cell k; after the last one, the end of the line.
  void cell(std::size_t k, std::string_view text) {
    const std::size_t n = std::min(text.size(), width_[k]);
    const std::size_t pad = width_[k] - n;
    if (right_[k]) p_ = pad_to(p_, pad);
    std::memcpy(p_, text.data(), n);
    p_ += n;
    if (k + 1 == kColumns) {
      *p_++ = '\n';
      return;
    }
    if (!right_[k]) p_ = pad_to(p_, pad);
    p_ = pad_to(p_, 2);
  }

 private:
  static char* pad_to(char* p, std::size_t n) {
    std::memset(p, ' ', n);
    return p + n;
  }
  fmt::memory_buffer& buf_;
  const Widths& width_;
  const std::array<bool, kColumns>& right_;  // resolved once a line, not per cell
  char* p_;
};

// Rows rows[begin, end) into `buf`. Rows are in sorted order, which is random in
// memory, so the rows a few ahead are prefetched (a record spans several lines).
void render_rows(fmt::memory_buffer& buf, const Naming& naming, const Widths& width,
                 const std::vector<const Conversation*>& rows, std::size_t begin, std::size_t end) {
  constexpr std::size_t kAhead = 8;
  for (std::size_t i = begin; i < end; ++i) {
    if (i + kAhead < end) {
      const char* ahead = reinterpret_cast<const char*>(rows[i + kAhead]);
      for (std::size_t line = 0; line < sizeof(Conversation); line += 64) {
        __builtin_prefetch(ahead + line);
      }
    }
    Line line(buf, width);
    table_cells(naming, *rows[i],
                [&](std::size_t k, std::string_view text) { line.cell(k, text); });
  }
}

// Runs `second` on a new thread while this one runs `first`; rethrows what either threw.
template <class First, class Second>
void both(First&& first, Second&& second) {
  std::exception_ptr error;
  std::thread other([&] {
    try {
      second();
    } catch (...) {
      error = std::current_exception();
    }
  });
  try {
    first();
  } catch (...) {
    other.join();
    throw;
  }
  other.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

// Two threads: one sorts, the other measures the column widths (they only read the
// records; the sorting thread measures a quarter too, which balances them), then the
// rows are formatted in rounds of two chunks, one per thread, and written in order;
// memory stays at two chunks of text.
void render_conversation_table(Sink& out, const Naming& naming, const ConversationStore& all,
                               ConversationOrder order, const Style& style) {
  constexpr std::size_t kChunk = 16384;  // rows per thread and round
  Widths width{}, other{};
  std::vector<const Conversation*> rows;
  const std::size_t quarter = all.size() / 4;
  if (all.size() < kChunk) {
    rows = sorted(all, order);
    width = measure(naming, all, 0, all.size());
  } else {
    both(
        [&] {
          rows = sorted(all, order);
          width = measure(naming, all, 0, quarter);
        },
        [&] { other = measure(naming, all, quarter, all.size()); });
  }
  for (std::size_t k = 0; k < kColumns; ++k) {
    width[k] = std::max({width[k], other[k], columns().header[k].size()});
  }

  auto& buf = out.buffer();
  buf.append(style.bold());
  {
    Line line(buf, width);
    for (std::size_t k = 0; k < kColumns; ++k) line.cell(k, columns().header[k]);
  }
  buf.append(style.reset());

  fmt::memory_buffer second;
  for (std::size_t i = 0; i < rows.size(); i += 2 * kChunk) {
    const std::size_t a_end = std::min(rows.size(), i + kChunk);
    const std::size_t b_end = std::min(rows.size(), i + 2 * kChunk);
    if (a_end == b_end) {
      render_rows(buf, naming, width, rows, i, a_end);
    } else {
      second.clear();
      both([&] { render_rows(buf, naming, width, rows, i, a_end); },
           [&] { render_rows(second, naming, width, rows, a_end, b_end); });
      buf.append(second.data(), second.data() + second.size());
    }
    out.maybe_flush();
  }
}

}  // namespace sockscope::output
