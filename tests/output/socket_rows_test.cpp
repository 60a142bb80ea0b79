// The socket table's fast path writes exactly what the schema's getters and the
// table's rules give, for every column set `sockets` uses.
#include <gtest/gtest.h>

#include "output/kinds/host.hpp"
#include "output/writer.hpp"

namespace sockscope::output {
namespace {

struct Rows {
  std::vector<SocketRecord> records;
  std::vector<std::string> commands = {"python3", "evil\x1b[2J", "nginx"};
  std::vector<ProcessOwner> owners;
  Registry registry;
  NetworkNamespace current{4026531840, "", "/proc/1/ns/net", true};
  NetworkNamespace blue{4026532201, "bl\tue", "/run/netns/blue", false};

  Rows() {
    registry.load_services_text("w\xc3\xabird-name 7001/tcp\n", "test");
    for (std::size_t i = 0; i < commands.size(); ++i) {
      owners.push_back({int(4242 + i), int(3 + i), commands[i]});
    }
    const char* texts[][2] = {{"127.0.0.1:8000", "0.0.0.0:0"},
                              {"[2001:db8::1]:443", "[2001:db8::ffff:2]:51000"},
                              {"[fe80::1%eth0]:7001", "[fe80::2%eth0]:40001"},
                              {"10.0.0.1:40002", "10.0.0.2:5432"},
                              {"[::]:5432", "[::]:0"},   // dual-stack: "*:5432", "*:*"
                              {"[::]:5353", "[::]:0"}};  // v6only: "[::]:5353", "[::]:*"
    for (std::size_t i = 0; i < std::size(texts); ++i) {
      SocketRecord r;
      r.local = *Endpoint::parse(texts[i][0]);
      r.remote = *Endpoint::parse(texts[i][1]);
      r.state = i == 0 || i >= 4 ? SocketState::kListen : SocketState::kEstablished;
      r.rqueue = std::uint32_t(i * 1000);
      r.wqueue = std::uint32_t(i == 0 ? 4096 : 7);
      r.inode = 100 + i;
      r.cookie = 9000 + i;
      r.uid = i == 3 ? 4000000 : 0;  // a uid without a name: shown as the number
      if (i >= 4) r.v6only = i == 5;
      if (i == 1) {
        r.timer = SocketTimer::kKeepalive;
        r.timer_expires_ms = 7199792;
        auto d = std::make_shared<SocketDetails>();
        d->tcp = TcpInfo{.rtt_us = 52,
                         .rttvar_us = 26,
                         .cwnd = 10,
                         .retransmits = 1,
                         .bytes_acked = 26300,
                         .bytes_received = 10,
                         .delivery_rate = 6976000000};
        d->memory = SocketMemory{.rcvbuf = 131072, .sndbuf = 16384};
        r.details = d;
      }
      if (i == 3) r.timer = SocketTimer::kTimeWait, r.timer_expires_ms = 1500;
      records.push_back(r);
    }
  }
};

std::string table(const RecordKind& kind, const Rows& rows, const WriterOptions& options) {
  const Naming naming(rows.registry);
  const LocalRole roles[] = {LocalRole::kListener, LocalRole::kServer,   LocalRole::kServer,
                             LocalRole::kClient,   LocalRole::kListener, LocalRole::kListener};
  const Evidence evidence[] = {Evidence::kListener, Evidence::kAccepted,
                               Evidence::kAccepted, Evidence::kRegisteredVsEphemeral,
                               Evidence::kListener, Evidence::kListener};
  std::string text;
  {
    Sink sink(text);
    RecordWriter w(Format::kTable, sink, {&kind}, options);
    for (std::size_t i = 0; i < rows.records.size(); ++i) {
      const HostSocket s{rows.records[i], roles[i], evidence[i]};
      HostRow row{s, naming.service(rows.records[i].transport, s.server_port(), evidence[i]),
                  i % 2 ? rows.blue : rows.current};
      row.owners_known = i != 3;
      if (i == 1) row.owners = std::span<const ProcessOwner>(rows.owners);
      if (i == 2) row.owner_missing = OwnerMissing::kNoPermission;
      w.write(kind, SocketRow{row, i == 0 ? "appeared" : "", i == 0});
    }
  }
  return text;
}

TEST(SocketRowsTest, FastTableEqualsTheGetters) {
  const Rows rows;
  RecordKind generic = kSocketKind;
  generic.table_row = nullptr;
  const std::vector<std::vector<std::string_view>> column_sets = {
      {"mark", "event", "new_listener", "change", "processes", "owner_missing",
       "owner_missing_reason", "owners_shown", "netns"},
      {"mark", "event", "new_listener", "change", "netns"},
      {},
  };
  for (const auto& hidden : column_sets) {
    WriterOptions options;
    options.hidden = hidden;
    const std::string fast = table(kSocketKind, rows, options);
    EXPECT_EQ(fast, table(generic, rows, options));
    EXPECT_EQ(fast.find('\x1b'), std::string::npos) << fast;  // escaped, never raw
  }
  const std::string all = table(kSocketKind, rows, {});
  EXPECT_NE(all.find("python3[4242]:fd3,evil\\x1b[2J[4243]:fd4,nginx[4244]:fd5"), std::string::npos)
      << all;
  EXPECT_NE(all.find("(no-permission)"), std::string::npos);
  EXPECT_NE(all.find("w\xc3\xabird-name  "), std::string::npos) << all;  // 10 columns wide
  EXPECT_NE(all.find("bl\\tue"), std::string::npos);
  // ss's forms: a dual-stack listener, a peerless socket, timers, tcp_info, skmem.
  EXPECT_NE(all.find("  *:5432 "), std::string::npos) << all;
  EXPECT_NE(all.find("  *:* "), std::string::npos) << all;
  EXPECT_NE(all.find("  [::]:5353 "), std::string::npos) << all;
  EXPECT_NE(all.find("  [::]:* "), std::string::npos) << all;
  EXPECT_NE(all.find("  0.0.0.0:* "), std::string::npos) << all;
  EXPECT_NE(all.find("keepalive,119min,0"), std::string::npos) << all;
  EXPECT_NE(all.find("timewait,1.500ms,0"), std::string::npos) << all;
  EXPECT_NE(all.find("0.052/0.026"), std::string::npos) << all;
  EXPECT_NE(all.find("55.8Gbps"), std::string::npos) << all;
  EXPECT_NE(all.find("26.3 kB"), std::string::npos) << all;
  EXPECT_NE(all.find("r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d0"), std::string::npos) << all;
  EXPECT_NE(all.find("4000000"), std::string::npos) << all;
}

}  // namespace
}  // namespace sockscope::output
