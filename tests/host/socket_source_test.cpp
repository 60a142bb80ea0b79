// The socket sources against real sockets this test opens on its own loopback
// addresses: netlink reports exactly them, with the kernel's autobound bit,
// and the /proc/net text reports the same records.
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "host/diag_bytecode.hpp"
#include "host/loopback.hpp"
#include "host/sockstat.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

using testing::Fd;

// A port nobody on `address` uses now (bind to 0, read it, close).
Port free_port(const IpAddress& address, bool udp = false) {
  Fd probe = udp ? testing::udp_bind({address, 0}) : testing::tcp_listen({address, 0});
  return testing::local_of(probe.get()).port;
}

std::vector<SocketRecord> dump(SocketSource& source, const SocketQuery& query = {}) {
  std::vector<SocketRecord> out;
  auto stats = source.dump(query, [&](const SocketRecord& r) { out.push_back(r); });
  EXPECT_TRUE(stats) << (stats ? "" : stats.error().what());
  return out;
}

// Records that belong to this test: own IPv4 addresses, or ::1 with one of `ports`.
std::map<std::string, SocketRecord> own(const std::vector<SocketRecord>& all, int a, int b,
                                        const std::vector<Port>& v6_ports) {
  std::map<std::string, SocketRecord> out;
  for (const auto& r : all) {
    bool mine = r.local.address == testing::own_v4(a) || r.remote.address == testing::own_v4(a) ||
                r.local.address == testing::own_v4(b) || r.remote.address == testing::own_v4(b);
    if (r.local.address.is_v6()) {
      mine = r.local.address.is_loopback() &&
             (std::count(v6_ports.begin(), v6_ports.end(), r.local.port) ||
              std::count(v6_ports.begin(), v6_ports.end(), r.remote.port));
    }
    if (mine) out.emplace(testing::key_of(r), r);
  }
  return out;
}

// Each test builds its scene on its own pair of addresses (base, base + 1), so
// TIME_WAIT sockets left by an earlier test never show up in a later one.
struct Scene {
  int a, b;
  IpAddress server, client;
  Port listen_port = 0, bound_client_port = 0, udp_port = 0, v6_port = 0;
  Fd listener, auto_client, accepted1, bound_client, accepted2, udp_server, udp_client;
  Fd v6_listener, v6_client, v6_accepted;

  explicit Scene(int base)
      : a(base), b(base + 1), server(testing::own_v4(base)), client(testing::own_v4(base + 1)) {
    listen_port = free_port(server);
    listener = testing::tcp_listen({server, listen_port});
    Endpoint from_auto{client, 0};
    auto_client = testing::tcp_connect({server, listen_port}, &from_auto);
    accepted1 = testing::tcp_accept(listener.get());
    bound_client_port = free_port(client);
    Endpoint from_fixed{client, bound_client_port};
    bound_client = testing::tcp_connect({server, listen_port}, &from_fixed);
    accepted2 = testing::tcp_accept(listener.get());
    udp_port = free_port(server, true);
    udp_server = testing::udp_bind({server, udp_port});
    udp_client = testing::udp_connect({server, udp_port});
    v6_port = free_port(testing::v6_loopback());
    v6_listener = testing::tcp_listen({testing::v6_loopback(), v6_port});
    v6_client = testing::tcp_connect({testing::v6_loopback(), v6_port});
    v6_accepted = testing::tcp_accept(v6_listener.get());
  }
  std::vector<Port> v6_ports() const { return {v6_port}; }
  Endpoint ep(const IpAddress& a, Port p) const { return {a, p}; }
};

std::string k(std::string_view t, std::string_view state, const Endpoint& l, const Endpoint& r) {
  return std::string(t) + " " + std::string(state) + " " + l.to_string() + " " + r.to_string();
}

TEST(SocketSourceTest, NetlinkReportsExactlyOurSocketsWithTheAutoboundBit) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  Scene s(10);
  const Endpoint auto_local = testing::local_of(s.auto_client.get());
  const Endpoint udp_local = testing::local_of(s.udp_client.get());
  const Endpoint v6_local = testing::local_of(s.v6_client.get());
  const Endpoint any4{IpAddress::v4(0), 0}, any6{*IpAddress::parse("::"), 0};
  const Endpoint srv{s.server, s.listen_port}, bound{s.client, s.bound_client_port};
  const Endpoint usrv{s.server, s.udp_port}, v6srv{testing::v6_loopback(), s.v6_port};

  // The expected set, with the autobound bit the kernel must report.
  std::map<std::string, bool> want = {
      {k("tcp", "LISTEN", srv, any4), false},
      {k("tcp", "ESTAB", auto_local, srv), true},
      // Accepted children: sk_clone_lock() clears SOCK_BINDPORT_LOCK, so the kernel
      // calls them autobound although the listener was bound explicitly (the
      // reason role classification tests "accepted" before "autobound").
      {k("tcp", "ESTAB", srv, auto_local), true},
      {k("tcp", "ESTAB", bound, srv), false},
      {k("tcp", "ESTAB", srv, bound), true},
      {k("udp", "UNCONN", usrv, any4), false},
      {k("udp", "ESTAB", udp_local, usrv), true},
      {k("tcp", "LISTEN", v6srv, any6), false},
      {k("tcp", "ESTAB", v6_local, v6srv), true},
      {k("tcp", "ESTAB", v6srv, v6_local), true},
  };
  auto got = own(dump(**source), s.a, s.b, s.v6_ports());
  std::map<std::string, bool> seen;
  for (const auto& [key, r] : got) {
    ASSERT_TRUE(r.autobound.has_value()) << key;
    seen[key] = *r.autobound;
    EXPECT_EQ(r.uid, ::getuid()) << key;
    EXPECT_NE(r.inode, 0u) << key;
    EXPECT_NE(r.cookie, 0u) << key;
    EXPECT_EQ(r.netns, current_netns()) << key;
  }
  EXPECT_EQ(seen, want);
}

// Ports with a chosen bit 10 (the split parity's stripe bit), free on `address`:
// each call returns a port not returned before.
class StripePorts {
 public:
  explicit StripePorts(IpAddress address) : address_(address) {}
  Port next(bool bit) {
    for (int stripe = 40; stripe < 64; ++stripe) {  // 40960..65535
      if (((stripe & 1) != 0) != bit) continue;
      for (int k = 0; k < 1024; k += 61) {
        const Port p = Port(stripe * 1024 + k);
        if (used_.count(p) || !bindable(p)) continue;
        used_.insert(p);
        return p;
      }
    }
    ADD_FAILURE() << "no free port with bit 10 = " << bit;
    return 0;
  }

 private:
  bool bindable(Port p) const {
    testing::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(p);
    std::memcpy(&sin.sin_addr, address_.bytes().data(), 4);
    return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
  }
  IpAddress address_;
  std::set<Port> used_;
};

// Every (parity, autobound) pair: listeners on ports with bit 10 clear and set
// (bound: not autobound), a client bound to a port of each bit connected to
// each (bound) and their accepted children (autobound), plus plain autobound
// clients. `autobound` holds the truth for each socket's key.
struct ParityScene {
  IpAddress server, client;
  std::vector<testing::Fd> fds;
  std::map<std::string, bool> autobound;

  explicit ParityScene(int base)
      : server(testing::own_v4(base)), client(testing::own_v4(base + 1)) {
    StripePorts server_ports(server), client_ports(client);
    const Endpoint any{IpAddress::v4(0), 0};
    for (bool listener_bit : {false, true}) {
      const Endpoint at{server, server_ports.next(listener_bit)};
      fds.push_back(testing::tcp_listen(at));
      const int listener = fds.back().get();
      autobound[k("tcp", "LISTEN", at, any)] = false;
      for (bool client_bit : {false, true}) {
        const Endpoint from{client, client_ports.next(client_bit)};
        fds.push_back(testing::tcp_connect(at, &from));
        fds.push_back(testing::tcp_accept(listener));
        autobound[k("tcp", "ESTAB", from, at)] = false;
        autobound[k("tcp", "ESTAB", at, from)] = true;
      }
      for (int i = 0; i < 4; ++i) {
        Endpoint from_auto{client, 0};
        fds.push_back(testing::tcp_connect(at, &from_auto));
        const Endpoint local = testing::local_of(fds.back().get());
        fds.push_back(testing::tcp_accept(listener));
        autobound[k("tcp", "ESTAB", local, at)] = true;
        autobound[k("tcp", "ESTAB", at, local)] = true;
      }
    }
  }
  bool mine(const Endpoint& local, const Endpoint& remote) const {
    return local.address == server || local.address == client || remote.address == server ||
           remote.address == client;
  }
};

// The split's two halves through the public source: every socket once, with the
// bit the kernel knows, for both parities of bound and of autobound sockets.
TEST(SocketSourceTest, SplitHalvesGiveEveryAutoboundBit) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  ParityScene scene(160);
  std::map<std::string, bool> seen;
  std::set<std::pair<bool, bool>> kinds;  // (parity, autobound) covered
  SocketQuery q;
  q.transports = {Transport::kTcp};
  q.split_from_sockets = 0;  // split however few sockets this host has
  std::vector<SocketRecord> records;
  auto stats = (*source)->dump(q, [&](const SocketRecord& r) { records.push_back(r); });
  ASSERT_TRUE(stats) << stats.error().what();
  EXPECT_GT(stats->split_requests, 0u) << "the dump was not split";
  for (const auto& r : records) {
    if (!scene.mine(r.local, r.remote)) continue;
    const std::string key = testing::key_of(r);
    ASSERT_TRUE(r.autobound.has_value()) << key;
    EXPECT_TRUE(seen.emplace(key, *r.autobound).second) << "twice: " << key;
    kinds.insert({host_detail::split_parity(r.local.port, r.remote.port), *r.autobound});
  }
  EXPECT_EQ(seen, scene.autobound);
  EXPECT_EQ(kinds.size(), 4u) << "the scene must hold every (parity, autobound) pair";
}

TEST(SocketSourceTest, SockstatFieldsAndCounts) {
  using host_detail::sockstat_field;
  const std::string_view text =
      "sockets: used 20136\nTCP: inuse 20003 orphan 2 tw 30 alloc 20009 mem 3\n"
      "UDP: inuse 3 mem 2\nUDPLITE: inuse 0\n";
  EXPECT_EQ(sockstat_field(text, "sockets:", "used "), 20136u);
  EXPECT_EQ(sockstat_field(text, "TCP:", " inuse "), 20003u);
  EXPECT_EQ(sockstat_field(text, "TCP:", " tw "), 30u);
  EXPECT_EQ(sockstat_field(text, "UDP:", " inuse "), 3u);  // not UDPLITE's line
  EXPECT_EQ(sockstat_field(text, "RAW:", " inuse "), std::nullopt);
  EXPECT_EQ(sockstat_field(text, "TCP:", " nothere "), std::nullopt);
  EXPECT_EQ(sockstat_field("TCP: inuse x\n", "TCP:", " inuse "), std::nullopt);
  // The kernel's counters cover at least the sockets this test holds open.
  ParityScene scene(190);
  const auto counts = host_detail::read_socket_counts();
  ASSERT_TRUE(counts.tcp && counts.udp && counts.all);
  EXPECT_GE(*counts.tcp, scene.autobound.size());
  EXPECT_GE(*counts.all, scene.fds.size());  // struct sockets: every descriptor we hold
}

// A quiet host's dump stays on one thread (AUTO, then NOT AUTO) with the same bits.
TEST(SocketSourceTest, SmallDumpsStayOnOneThreadWithTheSameBits) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  ParityScene scene(180);
  std::map<std::string, bool> seen;
  SocketQuery q;
  q.transports = {Transport::kTcp};
  q.split_from_sockets = SIZE_MAX;
  std::vector<SocketRecord> records;
  auto stats = (*source)->dump(q, [&](const SocketRecord& r) { records.push_back(r); });
  ASSERT_TRUE(stats) << stats.error().what();
  EXPECT_EQ(stats->split_requests, 0u);
  for (const auto& r : records) {
    if (!scene.mine(r.local, r.remote)) continue;
    ASSERT_TRUE(r.autobound.has_value()) << testing::key_of(r);
    seen[testing::key_of(r)] = *r.autobound;
  }
  EXPECT_EQ(seen, scene.autobound);
}

// One raw SOCK_DIAG_BY_FAMILY dump of IPv4 TCP with `part`'s program: the
// (local, remote) endpoints the kernel returned.
std::vector<std::pair<Endpoint, Endpoint>> raw_dump(host_detail::DumpPart part) {
  const std::vector<inet_diag_bc_op> program = host_detail::diag_program(part);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(program.data());
  std::vector<std::pair<Endpoint, Endpoint>> out;
  for (const SocketRecord& r : testing::raw_diag_dump(
           AF_INET, IPPROTO_TCP, {bytes, program.size() * sizeof(inet_diag_bc_op)})) {
    out.push_back({r.local, r.remote});
  }
  return out;
}

// The programs themselves, against the kernel's own one-test AUTO filter: the
// two halves split our sockets with nothing lost or twice, and the bit each
// half implies is the kernel's.
TEST(SocketSourceTest, SplitProgramsAgreeWithTheKernelsAutoTest) {
  using host_detail::DumpPart;
  ParityScene scene(170);
  auto keys = [&](DumpPart part) {
    std::map<std::pair<std::string, std::string>, bool> out;
    for (const auto& [l, r] : raw_dump(part)) {
      if (scene.mine(l, r))
        out[{l.to_string(), r.to_string()}] = host_detail::autobound_in(part, l.port, r.port);
    }
    return out;
  };
  const auto same = keys(DumpPart::kSame), differ = keys(DumpPart::kDiffer);
  const auto all = keys(DumpPart::kAll), autos = keys(DumpPart::kAuto),
             bound = keys(DumpPart::kNotAuto);
  EXPECT_EQ(all.size(), scene.autobound.size());
  EXPECT_EQ(same.size() + differ.size(), all.size());
  EXPECT_EQ(autos.size() + bound.size(), all.size());
  EXPECT_FALSE(same.empty());
  EXPECT_FALSE(differ.empty());
  for (const auto& [key, unused] : all) {
    const bool in_same = same.count(key) != 0, in_differ = differ.count(key) != 0;
    EXPECT_NE(in_same, in_differ) << key.first << " " << key.second;
    const bool bit = in_same ? same.at(key) : differ.at(key);
    EXPECT_EQ(bit, autos.count(key) != 0) << key.first << " " << key.second;
  }
}

TEST(SocketSourceTest, KernelStateFilterAndFamilies) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  Scene s(20);
  SocketQuery listen_only;
  listen_only.states = state_bit(SocketState::kListen);
  listen_only.ipv6 = false;
  auto got = own(dump(**source, listen_only), s.a, s.b, s.v6_ports());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->second.local, (Endpoint{s.server, s.listen_port}));

  SocketQuery udp6;
  udp6.transports = {Transport::kUdp};
  udp6.ipv4 = false;
  EXPECT_TRUE(own(dump(**source, udp6), s.a, s.b, s.v6_ports()).empty());
}

TEST(SocketSourceTest, ProcTextAgreesWithNetlink) {
  auto netlink = open_netlink_source();
  ASSERT_TRUE(netlink) << netlink.error().what();
  auto proc = open_proc_source();
  Scene s(30);
  SocketQuery query;
  auto a = own(dump(**netlink, query), s.a, s.b, s.v6_ports());
  auto b = own(dump(*proc, query), s.a, s.b, s.v6_ports());
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, r] : a) {
    auto it = b.find(key);
    ASSERT_NE(it, b.end()) << key << " missing from /proc/net";
    const SocketRecord& p = it->second;
    EXPECT_EQ(p.inode, r.inode) << key;
    EXPECT_EQ(p.uid, r.uid) << key;
    EXPECT_EQ(p.rqueue, r.rqueue) << key;
    if (!r.listening()) {
      EXPECT_EQ(p.wqueue, r.wqueue) << key;
    }
    EXPECT_EQ(p.netns, r.netns) << key;
    EXPECT_FALSE(p.autobound.has_value()) << key;  // the text has no such column
    EXPECT_EQ(p.cookie, 0u);
  }
}

// IPV6_V6ONLY as the socket itself answers getsockopt(): the kernel's
// INET_DIAG_SKV6ONLY for IPv6 listeners and unconnected UDP, nothing for IPv4 or
// connected sockets, and nothing from the /proc text (it has no such column).
TEST(SocketSourceTest, V6onlyIsWhatTheSocketSays) {
  auto netlink = open_netlink_source();
  ASSERT_TRUE(netlink) << netlink.error().what();
  const IpAddress any6 = *IpAddress::parse("::");
  Fd dual = testing::tcp_listen({any6, 0}, 8, false);
  Fd v6only = testing::tcp_listen({any6, 0}, 8, true);
  Fd default_v6 = testing::tcp_listen({testing::v6_loopback(), 0});
  Fd udp_dual = testing::udp_bind({any6, 0}, false);
  Fd v4 = testing::tcp_listen({testing::own_v4(60), 0});
  const Port dual_port = testing::local_of(dual.get()).port;
  Fd client = testing::tcp_connect({testing::v6_loopback(), dual_port});
  Fd accepted = testing::tcp_accept(dual.get());
  auto socket_says = [](const Fd& fd) {
    int on = -1;
    socklen_t len = sizeof on;
    EXPECT_EQ(::getsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
    return on != 0;
  };
  struct Want {
    const Fd* fd;
    Transport transport;
    std::optional<bool> v6only;
  };
  const Want wants[] = {{&dual, Transport::kTcp, socket_says(dual)},
                        {&v6only, Transport::kTcp, socket_says(v6only)},
                        {&default_v6, Transport::kTcp, socket_says(default_v6)},
                        {&udp_dual, Transport::kUdp, socket_says(udp_dual)},
                        {&v4, Transport::kTcp, std::nullopt},
                        {&client, Transport::kTcp, std::nullopt}};
  EXPECT_EQ(wants[0].v6only, false);
  EXPECT_EQ(wants[1].v6only, true);
  for (bool from_proc : {false, true}) {
    auto proc = open_proc_source();
    auto all = dump(from_proc ? *proc : **netlink);
    for (const Want& w : wants) {
      const Endpoint local = testing::local_of(w.fd->get());
      int found = 0;
      for (const SocketRecord& r : all) {
        if (r.transport != w.transport || r.local != local) continue;
        if (w.fd == &client && r.remote.port != dual_port) continue;
        ++found;
        EXPECT_EQ(r.v6only, from_proc ? std::nullopt : w.v6only)
            << testing::key_of(r) << (from_proc ? " (/proc)" : " (netlink)");
      }
      EXPECT_EQ(found, 1) << local.to_string();
    }
  }
}

TEST(SocketSourceTest, TimeWaitHasNoInodeAndNoAutoboundBit) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  IpAddress server = testing::own_v4(3);
  Port port = free_port(server);
  Fd listener = testing::tcp_listen({server, port});
  Endpoint client_local;
  {
    Fd client = testing::tcp_connect({server, port});
    client_local = testing::local_of(client.get());
    Fd accepted = testing::tcp_accept(listener.get());
    // The client closes first, so the client side ends in TIME_WAIT.
  }
  SocketQuery tw;
  tw.states = state_bit(SocketState::kTimeWait);
  tw.transports = {Transport::kTcp};
  bool found = false;
  for (const auto& r : dump(**source, tw)) {
    if (r.local == client_local && r.remote == (Endpoint{server, port})) {
      found = true;
      EXPECT_EQ(r.inode, 0u);
      EXPECT_FALSE(r.autobound.has_value());
    }
  }
  // Closing order decides which side waits; the client closed first above, but
  // the destructor order closes `accepted` first, so look at both.
  if (!found) {
    for (const auto& r : dump(**source, tw)) {
      if (r.remote == client_local && r.local == (Endpoint{server, port})) found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(SocketSourceTest, RecordedSourceFiltersLikeTheKernel) {
  SocketRecord a, b;
  a.transport = Transport::kTcp;
  a.state = SocketState::kListen;
  a.local = *Endpoint::parse("10.0.0.1:80");
  a.autobound = false;
  b.transport = Transport::kUdp;
  b.state = SocketState::kClose;
  b.local = *Endpoint::parse("[2001:db8::1]:53");
  auto source = open_recorded_source({a, b}, 42);
  SocketQuery q;
  q.ipv6 = false;
  auto got = dump(*source, q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].local, a.local);
  q = {};
  q.autobound = false;
  got = dump(*source, q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].autobound.has_value());
  EXPECT_EQ(source->netns(), 42u);
}

TEST(SocketSourceTest, StateNamesRoundTrip) {
  for (unsigned s = 1; s <= 11; ++s) {
    auto state = SocketState(s);
    auto parsed = parse_socket_state(to_string(state));
    ASSERT_TRUE(parsed) << to_string(state);
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_EQ(*parse_socket_state("established"), SocketState::kEstablished);
  EXPECT_EQ(*parse_socket_state("TIME_WAIT"), SocketState::kTimeWait);
  EXPECT_FALSE(parse_socket_state("bogus"));
}

TEST(SocketSourceTest, ProcSourceReportsBadTextWithItsLine) {
  char dir[] = "/tmp/sockscope-proc-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string d = dir;
  FILE* f = std::fopen((d + "/tcp").c_str(), "w");
  std::fputs(
      "  sl  local_address rem_address   st tx_queue rx_queue\n"
      "   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
      "     0        0 1234 1 0 100 0 0 10 0\n"
      "   1: garbage\n",
      f);
  std::fclose(f);
  auto source = open_proc_source(d, 7);
  SocketQuery q;
  q.transports = {Transport::kTcp};
  q.ipv6 = false;
  std::vector<SocketRecord> got;
  auto stats = source->dump(q, [&](const SocketRecord& r) { got.push_back(r); });
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().what().find("line 3"), std::string::npos) << stats.error().what();
  ASSERT_EQ(got.size(), 1u);  // the good line was delivered before the bad one
  EXPECT_EQ(got[0].local.to_string(), "127.0.0.1:80");
  EXPECT_EQ(got[0].state, SocketState::kListen);
  EXPECT_EQ(got[0].inode, 1234u);
  EXPECT_EQ(got[0].netns, 7u);
  std::remove((d + "/tcp").c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace sockscope

namespace sockscope {
namespace {

// SCTP and DCCP answer only where the kernel has their diag modules; either the
// dump works or it says which protocol the kernel did not answer, never fails.
TEST(SocketSourceTest, OtherTransportsAnswerOrSaySo) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source) << source.error().what();
  SocketQuery q;
  q.transports = {Transport::kSctp, Transport::kDccp};
  std::size_t seen = 0;
  auto stats = (*source)->dump(q, [&](const SocketRecord& r) {
    ++seen;
    EXPECT_TRUE(r.transport == Transport::kSctp || r.transport == Transport::kDccp);
  });
  ASSERT_TRUE(stats) << stats.error().what();
  for (const auto& e : stats->skipped) {
    EXPECT_EQ(e.code, Error::Code::kUnsupported);
    EXPECT_NE(e.message.find("no sock_diag handler for IP protocol"), std::string::npos)
        << e.message;
  }
  EXPECT_EQ(seen, stats->sockets);
  // The /proc text has no SCTP/DCCP table in the same format: it says so.
  auto proc = open_proc_source();
  auto text = proc->dump(q, [](const SocketRecord&) {});
  ASSERT_TRUE(text);
  EXPECT_EQ(text->skipped.size(), 2u);
}

}  // namespace
}  // namespace sockscope
