// Rows of `sockscope conversations` (see capture_rows.hpp). Hundreds of thousands of
// rows are usual, so every row is formatted straight into the output buffer with
// compiled format strings, and numbers that humans read ("26.3 kB", "1.643s") are
// made with integer arithmetic rather than through floating point.
#include "cli/capture_rows.hpp"

#include <fmt/compile.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <exception>
#include <thread>

#include "cli/output.hpp"
#include "core/radix_sort.hpp"

namespace sockscope::cli {
namespace {

// Appends decimal digits (fmt's format_int: fmt's format_to_n went through a generic
// truncating iterator, a fifth of the table's formatting time).
char* put(char* p, std::uint64_t n) {
  const fmt::format_int digits(n);
  std::memcpy(p, digits.data(), digits.size());
  return p + digits.size();
}
char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
// `width` digits with leading zeros.
char* put_padded(char* p, std::uint64_t n, int width) {
  for (int i = width - 1; i >= 0; --i, n /= 10) p[i] = char('0' + n % 10);
  return p + width;
}

// Seconds with microseconds from nanoseconds, exactly: "1700000000.123456". By hand:
// three per row, and fmt's zero-padded width made this a tenth of a JSON line's cost.
struct SecondsText {
  char text[32];
  std::size_t size;
  explicit SecondsText(std::uint64_t ns) {
    char* p = put(text, ns / 1'000'000'000u);
    *p++ = '.';
    p = put_padded(p, ns % 1'000'000'000u / 1000u, 6);
    size = std::size_t(p - text);
  }
  std::string_view view() const { return {text, size}; }
};

// Zeek-style connection uid: "C" + 17 base62 characters, stable for a record.
struct UidText {
  char text[18];
  UidText(const Conversation& c, std::string_view community_id) {
    std::uint64_t h = 1469598103934665603ull ^ c.first_ns;
    for (char ch : community_id) h = (h ^ std::uint8_t(ch)) * 1099511628211ull;
    h ^= c.vlan * 0x9e3779b97f4a7c15ull;
    static constexpr char kDigits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    text[0] = 'C';
    for (int i = 0; i < 17; ++i) {
      text[i + 1] = kDigits[h % 62];
      h = h / 62 + (h % 7) * 0x2545F4914F6CDD1Dull * std::uint64_t(i + 1);
    }
  }
  std::string_view view() const { return {text, sizeof text}; }
};

// n / unit with one decimal, rounded half up: "26.3 kB".
ShortText one_decimal(std::uint64_t n, std::uint64_t unit, std::string_view suffix) {
  const std::uint64_t tenths = (n + unit / 20) / (unit / 10);
  ShortText t;
  char* p = put(t.text, tenths / 10);
  *p++ = '.';
  *p++ = char('0' + tenths % 10);
  *p++ = ' ';
  p = put(p, suffix);
  t.size = std::size_t(p - t.text);
  return t;
}

}  // namespace

std::string_view service_of(const Registry& registry, const Conversation& c) {
  if (!has_ports(c.pair.transport)) return {};
  const Port port = c.pair.second.port;
  if (c.evidence == Evidence::kLowerPortGuess && group_of(port) != PortGroup::kWellKnown) return {};
  const Service* s = registry.primary(port, c.pair.transport);
  return s ? s->name : std::string_view{};
}

// Every string in a JSON line but the service name is a fixed token, an address or
// a Community ID, which never need escaping.
// The fixed parts of a row are formatted into stack buffers of a size that bounds
// them (straight stores, no capacity test per piece as through fmt::appender) and
// appended in one piece each; the history and service, whose sizes a caller's
// Conversation does not bound, are appended as they are.
void json_row(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  // Literals 131, transport 4, evidence 23 at most, each address, port and group.
  char head[192 + 32 + 2 * (IpAddress::kMaxTextSize + 5 + 10)];
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  const char* end = fmt::format_to(
      head,
      FMT_COMPILE("{{\"transport\":\"{}\",\"client\":{{\"address\":\"{}\",\"port\":{},"
                  "\"group\":\"{}\"}},\"server\":{{\"address\":\"{}\",\"port\":{},"
                  "\"group\":\"{}\"}},\"role_evidence\":\"{}\",\"service\":"),
      to_string(c.pair.transport), std::string_view(a, c.pair.first.address.format(a)),
      c.pair.first.port, to_string(c.pair.first.group()),
      std::string_view(b, c.pair.second.address.format(b)), c.pair.second.port,
      to_string(c.pair.second.group()), to_string(c.evidence));
  buf.append(head, end);
  if (service.empty()) {
    buf.append(std::string_view("null"));
  } else {
    json_string(buf, service);
  }
  // Literals 181 with the vlan's, vlan 10, three times of 18, six counters of 20, state.
  char counts[256 + 10 + 3 * 32 + 6 * 20 + 8];
  char* p = counts;
  if (c.vlan) p = fmt::format_to(p, FMT_COMPILE(",\"vlan\":{}"), c.vlan);
  p = fmt::format_to(
      p,
      FMT_COMPILE(",\"first\":{},\"last\":{},\"duration\":{},\"client_packets\":{},"
                  "\"client_bytes\":{},\"client_payload_bytes\":{},\"server_packets\":{},"
                  "\"server_bytes\":{},\"server_payload_bytes\":{},\"conn_state\":\"{}\","
                  "\"history\":\""),
      SecondsText(c.first_ns).view(), SecondsText(c.last_ns).view(),
      SecondsText(c.duration_ns()).view(), c.client.packets, c.client.ip_bytes,
      c.client.payload_bytes, c.server.packets, c.server.ip_bytes, c.server.payload_bytes,
      to_string(c.conn_state));
  buf.append(counts, p);
  buf.append(c.history);
  char tail[64 + 32 + 48];  // literals 21, the 30-character ID, both flags 46
  p = fmt::format_to(tail, FMT_COMPILE("\",\"community_id\":\"{}\"{}{}}}\n"), c.community_id(),
                     c.evicted_early ? ",\"evicted_early\":true" : "",
                     c.history_truncated ? ",\"history_truncated\":true" : "");
  buf.append(tail, p);
}

const std::string_view kCsvHeader =
    "transport,client_address,client_port,server_address,server_port,role_evidence,service,"
    "vlan,first,last,duration,client_packets,client_bytes,client_payload_bytes,server_packets,"
    "server_bytes,server_payload_bytes,conn_state,history,community_id,evicted_early\n";

void csv_row(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  const std::string_view ca(a, c.pair.first.address.format(a));
  const std::string_view sa(b, c.pair.second.address.format(b));
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{},{},{},{},{},{},"), to_string(c.pair.transport),
                 ca, c.pair.first.port, sa, c.pair.second.port, to_string(c.evidence));
  csv_field(buf, service);
  fmt::format_to(fmt::appender(buf), FMT_COMPILE(",{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n"),
                 c.vlan, SecondsText(c.first_ns).view(), SecondsText(c.last_ns).view(),
                 SecondsText(c.duration_ns()).view(), c.client.packets, c.client.ip_bytes,
                 c.client.payload_bytes, c.server.packets, c.server.ip_bytes,
                 c.server.payload_bytes, to_string(c.conn_state), c.history, c.community_id(),
                 c.evicted_early ? "true" : "false");
}

namespace {

// Zeek's #open/#close time: "2026-11-25-02-10-00" (UTC).
std::string zeek_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d-%H-%M-%S", &tm);
  return text;
}

}  // namespace

void zeek_footer(fmt::memory_buffer& buf) {
  fmt::format_to(fmt::appender(buf), "#close\t{}\n", zeek_now());
}

void zeek_header(fmt::memory_buffer& buf) {
  fmt::format_to(fmt::appender(buf),
                 "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                 "#path\tconn\n#open\t{}\n"
                 "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
                 "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\t"
                 "missed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\t"
                 "tunnel_parents\tcommunity_id\n"
                 "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\t"
                 "count\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\t"
                 "set[string]\tstring\n",
                 zeek_now());
}

// As in Zeek, duration and the byte sizes are unset ("-") for a conversation of zero
// duration; orig_bytes/resp_bytes are payload bytes.
void zeek_row(fmt::memory_buffer& buf, const Conversation& c, std::string_view service) {
  char a[IpAddress::kMaxTextSize], b[IpAddress::kMaxTextSize];
  const std::string community_id = c.community_id();
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t"),
                 SecondsText(c.first_ns).view(), UidText(c, community_id).view(),
                 std::string_view(a, c.pair.first.address.format(a)), c.pair.first.port,
                 std::string_view(b, c.pair.second.address.format(b)), c.pair.second.port,
                 to_string(c.pair.transport), service.empty() ? "-" : service);
  if (c.duration_ns() > 0) {
    fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t{}\t{}\t"),
                   SecondsText(c.duration_ns()).view(), c.client.payload_bytes,
                   c.server.payload_bytes);
  } else {
    buf.append(std::string_view("-\t-\t-\t"));
  }
  fmt::format_to(fmt::appender(buf), FMT_COMPILE("{}\t-\t-\t0\t{}\t{}\t{}\t{}\t{}\t-\t{}\n"),
                 to_string(c.conn_state), c.history.empty() ? "-" : c.history, c.client.packets,
                 c.client.ip_bytes, c.server.packets, c.server.ip_bytes, community_id);
}

ShortText bytes_text(std::uint64_t n) {
  if (n < 10'000) {
    ShortText t;
    t.size = std::size_t(put(t.text, n) - t.text);
    return t;
  }
  if (n < 9'999'950) return one_decimal(n, 1'000, "kB");
  if (n < 9'999'950'000ull) return one_decimal(n, 1'000'000, "MB");
  return one_decimal(n, 1'000'000'000, "GB");
}

ShortText duration_text(std::uint64_t ns) {
  ShortText t;
  char* p = t.text;
  const std::uint64_t ms = (ns + 500'000) / 1'000'000;
  if (ms < 60'000) {
    p = put(p, ms / 1000);
    *p++ = '.';
    p = put_padded(p, ms % 1000, 3);
    *p++ = 's';
  } else if (const std::uint64_t s = ms / 1000; s < 3600) {
    p = put(p, s / 60);
    *p++ = 'm';
    p = put_padded(p, s % 60, 2);
    *p++ = 's';
  } else {
    p = put(p, s / 3600);
    *p++ = 'h';
    p = put_padded(p, s / 60 % 60, 2);
    *p++ = 'm';
  }
  t.size = std::size_t(p - t.text);
  return t;
}

// Sorting 16-byte (key, index) pairs moves far less memory than a stable sort of the
// records themselves; the radix sort is stable, so ties keep the collection order
// (500k rows: ~50 ms with std::sort, a few with the radix sort).
std::vector<const Conversation*> sorted_conversations(const Conversations& v,
                                                      const std::string& key) {
  std::uint64_t (*metric)(const Conversation&) = nullptr;
  bool descending = true;
  if (key == "bytes") {
    metric = [](const Conversation& c) { return c.ip_bytes(); };
  } else if (key == "packets") {
    metric = [](const Conversation& c) { return c.packets(); };
  } else if (key == "duration") {
    metric = [](const Conversation& c) { return c.duration_ns(); };
  } else if (key == "first") {
    metric = [](const Conversation& c) { return c.first_ns; };
    descending = false;
  } else {
    return {};
  }
  struct Key {
    std::uint64_t value;
    std::size_t index;
  };
  std::vector<Key> keys(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    // Descending order is ascending order of the complement.
    keys[i] = {descending ? ~metric(v[i]) : metric(v[i]), i};
  }
  radix_sort(keys, [](const Key& k) { return k.value; });  // stable: ties by index
  std::vector<const Conversation*> rows(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) rows[i] = &v[keys[i].index];
  return rows;
}

namespace {

constexpr std::size_t kColumns = 11;
constexpr const char* kHeaders[kColumns] = {"TRANSPORT",  "CLIENT",   "SERVER",  "SERVICE",
                                            "STATE",      "PACKETS",  "BYTES",   "C->S BYTES",
                                            "S->C BYTES", "DURATION", "EVIDENCE"};
constexpr bool kRight[kColumns] = {false, false, false, false, false, true,
                                   true,  true,  true,  true,  false};

template <class Cell>
void table_cells(const Registry& registry, const Conversation& c, Cell&& cell) {
  char text[Endpoint::kMaxTextSize + 8];
  const std::string_view transport = to_string(c.pair.transport);
  if (c.vlan) {
    const char* end = put(put(put(text, transport), std::string_view(" vlan ")), c.vlan);
    cell(0, std::string_view(text, std::size_t(end - text)));
  } else {
    cell(0, transport);
  }
  cell(1, std::string_view(text, c.pair.first.format(text)));
  cell(2, std::string_view(text, c.pair.second.format(text)));
  const std::string_view service = service_of(registry, c);
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

Widths measure(const Registry& registry, const Conversations& all, std::size_t begin,
               std::size_t end) {
  Widths width{};
  for (std::size_t i = begin; i < end; ++i) {
    table_cells(registry, all[i], [&](std::size_t k, std::string_view text) {
      width[k] = std::max(width[k], text.size());
    });
  }
  return width;
}

// A line's cells padded to their columns, written into room reserved once per line
// (the widths bound every cell: they were measured over all rows and the header).
class Line {
 public:
  Line(fmt::memory_buffer& buf, const Widths& width) : buf_(buf), width_(width) {
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
    if (kRight[k]) p_ = pad_to(p_, pad);
    std::memcpy(p_, text.data(), n);
    p_ += n;
    if (k + 1 == kColumns) {
      *p_++ = '\n';
      return;
    }
    if (!kRight[k]) p_ = pad_to(p_, pad);
    p_ = pad_to(p_, 2);
  }

 private:
  static char* pad_to(char* p, std::size_t n) {
    std::memset(p, ' ', n);
    return p + n;
  }
  fmt::memory_buffer& buf_;
  const Widths& width_;
  char* p_;
};

// Rows rows[begin, end) into `buf`. Rows are in sorted order, which is random in
// memory, so the rows a few ahead are prefetched (a record spans several lines).
void render_rows(fmt::memory_buffer& buf, const Registry& registry, const Widths& width,
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
    table_cells(registry, *rows[i],
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
void render_table(Sink& out, const Registry& registry, const Conversations& all,
                  const std::string& sort, std::string_view bold, std::string_view reset) {
  constexpr std::size_t kChunk = 16384;  // rows per thread and round
  Widths width{}, other{};
  std::vector<const Conversation*> rows;
  const std::size_t quarter = all.size() / 4;
  if (all.size() < kChunk) {
    rows = sorted_conversations(all, sort);
    width = measure(registry, all, 0, all.size());
  } else {
    both(
        [&] {
          rows = sorted_conversations(all, sort);
          width = measure(registry, all, 0, quarter);
        },
        [&] { other = measure(registry, all, quarter, all.size()); });
  }
  for (std::size_t k = 0; k < kColumns; ++k) {
    width[k] = std::max({width[k], other[k], std::string_view(kHeaders[k]).size()});
  }

  auto& buf = out.buffer();
  buf.append(bold);
  {
    Line line(buf, width);
    for (std::size_t k = 0; k < kColumns; ++k) line.cell(k, kHeaders[k]);
  }
  buf.append(reset);

  fmt::memory_buffer second;
  for (std::size_t i = 0; i < rows.size(); i += 2 * kChunk) {
    const std::size_t a_end = std::min(rows.size(), i + kChunk);
    const std::size_t b_end = std::min(rows.size(), i + 2 * kChunk);
    if (a_end == b_end) {
      render_rows(buf, registry, width, rows, i, a_end);
    } else {
      second.clear();
      both([&] { render_rows(buf, registry, width, rows, i, a_end); },
           [&] { render_rows(second, registry, width, rows, a_end, b_end); });
      buf.append(second.data(), second.data() + second.size());
    }
    out.maybe_flush();
  }
}

}  // namespace sockscope::cli
