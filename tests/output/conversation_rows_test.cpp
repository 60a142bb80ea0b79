// The conversation fast paths write exactly what the schema's generic writer writes
// for the same rows: JSON, CSV, Zeek and the table, over conversations that vary
// every field (families, VLANs, ICMP, zero durations, empty and cut histories,
// early evictions, service names that need quoting).
#include "output/conversation_rows.hpp"

#include <gtest/gtest.h>

#include "output/kinds/capture.hpp"
#include "output/writer.hpp"

namespace sockscope::output {
namespace {

void conversations(ConversationStore& store) {
  for (std::uint32_t i = 0; i < 300; ++i) {
    Conversation c;
    const Transport transports[] = {Transport::kTcp, Transport::kUdp, Transport::kIcmp,
                                    Transport::kSctp};
    c.pair.transport = transports[i % 4];
    if (i % 3 == 0) {
      c.pair.first = *Endpoint::parse("[2001:db8::" + std::to_string(i + 1) +
                                      "]:" + std::to_string(40000 + i));
      c.pair.second = *Endpoint::parse("[2001:db8:ffff::1]:443");
    } else {
      c.pair.first = Endpoint{IpAddress::v4(0x0a000000 + i), Port(32768 + i * 7)};
      c.pair.second = Endpoint{IpAddress::v4(0xc6336401), Port(i % 5 == 0 ? 53 : 5000 + i)};
    }
    c.evidence = i % 6 == 0 ? Evidence::kLowerPortGuess : Evidence::kHandshake;
    c.vlan = i % 7 == 0 ? (i << 12 | 5) : 0;
    c.first_ns = 1'700'000'000'123'456'789ull + i * 1'000'000'007ull;
    c.last_ns = c.first_ns + (i % 4 == 0 ? 0 : i * 12'345'678ull);
    c.client = {i + 1, i * 1500ull + 60, i * 1400ull};
    c.server = {i % 3, i * 90'000ull, i * 88'000ull};
    c.conn_state = ConnState(i % 13);
    c.history = i % 5 == 0 ? "" : std::string("ShADadFf").substr(0, i % 9);
    c.evicted_early = i % 11 == 0;
    c.history_truncated = i % 13 == 0;
    c.missed_bytes = i % 9 == 0 ? i * 100ull : 0;
    if (i % 10 == 0) {
      c.tunnel.kind = i % 20 == 0 ? TunnelKind::kVxlan : TunnelKind::kGre;
      c.tunnel.depth = 1;
      c.tunnel.outer_protocol = i % 20 == 0 ? 17 : 47;
      c.tunnel.outer_src_port = 54321;
      c.tunnel.outer_dst_port = 4789;
      c.tunnel.outer_src[0] = 192;
      c.tunnel.outer_dst[0] = 198;
    }
    if (i % 8 == 0) c.icmp_error = IcmpError{3, 3, false};
    c.open = i % 17 == 0;
    store.push_back(c);
  }
}

// Local labels that need quoting and escaping in every format.
const Naming& naming() {
  static Registry registry;
  static bool loaded = false;
  if (!loaded) {
    registry.load_services_text("odd,\"name 5001/tcp\nweb\ttab 5002/udp\n", "test");
    loaded = true;
  }
  static const Naming n(registry, {.cache = false});
  return n;
}

std::string fast(ConversationEncoder encode, const ConversationStore& all) {
  fmt::memory_buffer buf;
  for (const Conversation& c : all) encode(buf, c, service_name(naming(), c));
  return std::string(buf.data(), buf.size());
}

std::string generic(Format format, const RecordKind& kind, const ConversationStore& all,
                    std::vector<std::string_view> hidden = {}) {
  std::string text;
  {
    Sink sink(text);
    RecordWriter w(format, sink, {&kind}, WriterOptions{.hidden = std::move(hidden)});
    for (const Conversation& c : all) w.write(kind, ConversationRow{c, service_name(naming(), c)});
    w.finish();
  }
  return text;
}

// The rows only: the generic writer's header and Zeek's #close line dropped.
std::string rows_of(const std::string& text, Format format) {
  std::string out;
  std::size_t line = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t end = text.find('\n', pos);
    const std::string_view l(text.data() + pos, end - pos + 1);
    const bool header = (format == Format::kCsv && line == 0) || l.starts_with("#");
    if (!header) out.append(l);
    pos = end + 1;
    ++line;
  }
  return out;
}

TEST(ConversationRowsTest, FastJsonCsvAndZeekEqualTheSchemasWriter) {
  ConversationStore all;
  conversations(all);
  EXPECT_EQ(fast(conversation_json, all), generic(Format::kJson, kConversationKind, all));
  // Without --report-every the `open` column is left out; with it, written.
  EXPECT_EQ(fast(conversation_csv, all),
            rows_of(generic(Format::kCsv, kConversationKind, all, {"open"}), Format::kCsv));
  EXPECT_EQ(fast(conversation_zeek, all),
            rows_of(generic(Format::kZeek, kZeekConnKind, all, {"open"}), Format::kZeek));
  EXPECT_EQ(fast(conversation_csv_open, all),
            rows_of(generic(Format::kCsv, kConversationKind, all), Format::kCsv));
  EXPECT_EQ(fast(conversation_zeek_open, all),
            rows_of(generic(Format::kZeek, kZeekConnKind, all), Format::kZeek));
  EXPECT_NE(fast(conversation_json, all).find(",\"open\":true}"), std::string::npos);
}

TEST(ConversationRowsTest, FastTableEqualsTheSchemasWriter) {
  ConversationStore all;
  conversations(all);
  for (ConversationOrder order : {ConversationOrder::kBytes, ConversationOrder::kFirst}) {
    std::string fast_text, generic_text;
    {
      Sink sink(fast_text);
      render_conversation_table(sink, naming(), all, order, Style{});
      sink.flush();
    }
    {
      Sink sink(generic_text);
      RecordWriter w(Format::kTable, sink, {&kConversationKind});
      for (const Conversation* c : sorted(all, order)) {
        w.write(kConversationKind, ConversationRow{*c, service_name(naming(), *c)});
      }
      w.finish();
    }
    EXPECT_EQ(fast_text, generic_text);
  }
}

TEST(ConversationRowsTest, ZeekHeaderIsConnLog) {
  // As `conversations` writes it without --report-every: conn.log's own columns.
  const std::string text = generic(Format::kZeek, kZeekConnKind, ConversationStore(), {"open"});
  EXPECT_NE(text.find("#path\tconn\n"), std::string::npos);
  EXPECT_NE(text.find("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
                      "service\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\t"
                      "local_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\t"
                      "resp_ip_bytes\ttunnel_parents\tcommunity_id\tport_service\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\t"
                      "count\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\t"
                      "count\tset[string]\tstring\tstring\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace sockscope::output
