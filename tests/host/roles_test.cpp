// Roles of the local side: on real sockets (the kernel's facts) and on
// recorded records written by hand (the rules' order and namespaces).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "host/loopback.hpp"
#include "sockscope/host.hpp"
#include "sockscope/process_owners.hpp"

namespace sockscope {
namespace {

using testing::Fd;

// A registered port outside the host's ephemeral range that is free on `a`.
Fd listen_registered(const IpAddress& a, Port& port) {
  for (Port p = Port(20000 + ::getpid() % 5000);; ++p) {
    // tcp_listen reports failures as test failures, so probe with a raw bind first.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(p);
    std::memcpy(&sin.sin_addr, a.bytes().data(), 4);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    ::close(fd);
    if (free) {
      port = p;
      return testing::tcp_listen({a, p});
    }
  }
}

struct Seen {
  LocalRole role;
  Evidence evidence;
  SocketRecord record;
};

std::map<std::string, Seen> roles_involving(const IpAddress& a) {
  auto source = open_netlink_source();
  EXPECT_TRUE(source);
  std::map<std::string, Seen> out;
  auto host = EphemeralRange::read_host();
  auto stats = dump_with_roles(**source, {}, host ? std::optional(host->range) : std::nullopt,
                               [&](const HostSocket& s) {
                                 if (s.record.local.address != a && s.record.remote.address != a) {
                                   return;
                                 }
                                 out[testing::key_of(s.record)] = {s.role, s.evidence, s.record};
                               });
  EXPECT_TRUE(stats);
  return out;
}

TEST(RolesTest, RealSocketsGetTheKernelsEvidence) {
  const IpAddress server = testing::own_v4(50), client = testing::own_v4(51);
  Port port = 0;
  Fd listener = listen_registered(server, port);
  Endpoint from{client, 0};
  Fd auto_client = testing::tcp_connect({server, port}, &from);
  Fd accepted = testing::tcp_accept(listener.get());
  // An explicit client port from the ephemeral range: no kernel bit, so the port rule.
  Port fixed = 0;
  {
    Fd probe = testing::tcp_listen({client, 0});
    fixed = testing::local_of(probe.get()).port;
  }
  Endpoint fixed_from{client, fixed};
  Fd bound_client = testing::tcp_connect({server, port}, &fixed_from);
  Fd accepted2 = testing::tcp_accept(listener.get());
  Fd udp_server = testing::udp_bind({server, port});
  Fd udp_client = testing::udp_connect({server, port});

  const Endpoint srv{server, port}, auto_local = testing::local_of(auto_client.get());
  const Endpoint udp_local = testing::local_of(udp_client.get());
  auto seen = roles_involving(server);
  auto expect = [&](const std::string& key, LocalRole role, Evidence evidence) {
    auto it = seen.find(key);
    ASSERT_NE(it, seen.end()) << key;
    EXPECT_EQ(it->second.role, role) << key;
    EXPECT_EQ(it->second.evidence, evidence) << key << ": " << to_string(it->second.evidence);
  };
  const std::string any = " 0.0.0.0:0";
  expect("tcp LISTEN " + srv.to_string() + any, LocalRole::kListener, Evidence::kListener);
  expect("tcp ESTAB " + srv.to_string() + " " + auto_local.to_string(), LocalRole::kServer,
         Evidence::kAccepted);
  expect("tcp ESTAB " + auto_local.to_string() + " " + srv.to_string(), LocalRole::kClient,
         Evidence::kAutoBound);
  // Its peer is a listener's endpoint of this namespace: that decides it.
  expect("tcp ESTAB " + fixed_from.to_string() + " " + srv.to_string(), LocalRole::kClient,
         Evidence::kPeerListener);
  expect("tcp ESTAB " + srv.to_string() + " " + fixed_from.to_string(), LocalRole::kServer,
         Evidence::kAccepted);
  expect("udp UNCONN " + srv.to_string() + any, LocalRole::kListener, Evidence::kListener);
  expect("udp ESTAB " + udp_local.to_string() + " " + srv.to_string(), LocalRole::kClient,
         Evidence::kAutoBound);
  EXPECT_EQ(seen.size(), 7u);

  // TIME_WAIT on the server side (the server closes first) is still "accepted".
  accepted.reset();
  auto_client.reset();
  seen = roles_involving(server);
  expect("tcp TIME-WAIT " + srv.to_string() + " " + auto_local.to_string(), LocalRole::kServer,
         Evidence::kAccepted);
}

// Both ends on this host: a client bound by hand to port 80, connected to a
// listener on a port of the ephemeral range. The port rule alone would call the
// client a server of 80 (well-known-port) while its peer is an accepted server.
TEST(RolesTest, BothEndsLocalTheListenerDecides) {
  const IpAddress a = testing::own_v4(52);
  Fd listener = testing::tcp_listen({a, 0});  // the kernel's choice: in the ephemeral range
  const Endpoint srv = testing::local_of(listener.get());
  const Endpoint from{a, 80};
  Fd client = testing::tcp_connect(srv, &from);
  Fd accepted = testing::tcp_accept(listener.get());
  const auto seen = roles_involving(a);
  auto role_of = [&](const std::string& key) {
    auto it = seen.find(key);
    EXPECT_NE(it, seen.end()) << key;
    return it == seen.end() ? std::pair(LocalRole::kUnknown, Evidence::kLowerPortGuess)
                            : std::pair(it->second.role, it->second.evidence);
  };
  EXPECT_EQ(role_of("tcp ESTAB " + from.to_string() + " " + srv.to_string()),
            std::pair(LocalRole::kClient, Evidence::kPeerListener));
  EXPECT_EQ(role_of("tcp ESTAB " + srv.to_string() + " " + from.to_string()),
            std::pair(LocalRole::kServer, Evidence::kAccepted));
  // The client's TIME-WAIT after it closes first: still the listener's client.
  client.reset();
  accepted.reset();
  const auto after = roles_involving(a);
  auto tw = after.find("tcp TIME-WAIT " + from.to_string() + " " + srv.to_string());
  ASSERT_NE(tw, after.end());
  EXPECT_EQ(tw->second.role, LocalRole::kClient);
  EXPECT_EQ(tw->second.evidence, Evidence::kPeerListener);
}

SocketRecord rec(Transport t, SocketState s, const char* local, const char* remote,
                 std::optional<bool> autobound, std::uint64_t netns = 1) {
  SocketRecord r;
  r.transport = t;
  r.state = s;
  r.local = *Endpoint::parse(local);
  r.remote = *Endpoint::parse(remote);
  r.autobound = autobound;
  r.netns = netns;
  r.inode = 1000;
  return r;
}

TEST(RolesTest, RecordedRulesOrderWildcardsAndNamespaces) {
  using T = Transport;
  using S = SocketState;
  std::vector<SocketRecord> records = {
      rec(T::kTcp, S::kListen, "[::]:8080", "[::]:0", false),
      rec(T::kTcp, S::kEstablished, "[::ffff:10.0.0.1]:8080", "[::ffff:10.0.0.9]:40000", true),
      rec(T::kTcp, S::kEstablished, "10.0.0.1:8080", "10.0.0.9:40001", std::nullopt),  // v4 family
      rec(T::kTcp, S::kEstablished, "[::ffff:10.0.0.1]:8080", "[::ffff:10.0.0.9]:40002", true, 2),
      rec(T::kTcp, S::kEstablished, "10.0.0.1:40003", "10.0.0.2:443", std::nullopt),
      rec(T::kTcp, S::kEstablished, "10.0.0.1:50000", "10.0.0.2:50001", std::nullopt),
      rec(T::kUdp, S::kClose, "0.0.0.0:53", "0.0.0.0:0", false),
      rec(T::kUdp, S::kClose, "0.0.0.0:41000", "0.0.0.0:0", true),
      rec(T::kUdp, S::kEstablished, "10.0.0.1:53", "10.0.0.7:33333", false),
      rec(T::kTcp, S::kTimeWait, "10.0.0.1:32772", "10.0.0.2:49919", std::nullopt),
  };
  auto source = open_recorded_source(records, 1);
  std::vector<std::pair<LocalRole, Evidence>> got;
  std::vector<Port> server_ports;
  auto stats = dump_with_roles(*source, {}, PortRange{32768, 60999}, [&](const HostSocket& s) {
    got.push_back({s.role, s.evidence});
    server_ports.push_back(s.server_port());
  });
  ASSERT_TRUE(stats);
  // Listeners come first (pass 1), then the rest (pass 2), each tcp then udp.
  std::vector<std::pair<LocalRole, Evidence>> want = {
      {LocalRole::kListener, Evidence::kListener},  // [::]:8080
      {LocalRole::kListener, Evidence::kListener},  // udp 0.0.0.0:53
      {LocalRole::kClient, Evidence::kAutoBound},   // udp unconnected, kernel-chosen port
      {LocalRole::kServer, Evidence::kAccepted},    // mapped v4 under the [::] listener
      // AF_INET: no IPv4 listener on 8080, so the port rule: 8080 against 40001,
      // which is in the host's ephemeral range.
      {LocalRole::kServer, Evidence::kRegisteredVsEphemeral},
      {LocalRole::kClient, Evidence::kAutoBound},       // other namespace: the listener is not its
      {LocalRole::kClient, Evidence::kWellKnownPort},   // 443 against 40003
      {LocalRole::kServer, Evidence::kLowerPortGuess},  // both dynamic: the lower, 50000, a guess
      // 32772 is "registered" and 49919 "dynamic" to IANA, but both lie in the
      // host's range 32768-60999: either could be the kernel's choice.
      {LocalRole::kServer, Evidence::kLowerPortGuess},
      {LocalRole::kServer, Evidence::kAccepted},  // connected UDP on the UDP listener's port
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(server_ports,
            (std::vector<Port>{8080, 53, 0, 8080, 8080, 40002, 443, 50000, 32772, 53}));
}

// The peer's listener decides only where the peer address is this namespace's:
// loopback, an address a listener or socket is bound to, or a listener's exact one.
TEST(RolesTest, RecordedPeerListenerNeedsALocalAddress) {
  using T = Transport;
  using S = SocketState;
  std::vector<SocketRecord> records = {
      rec(T::kTcp, S::kListen, "0.0.0.0:5000", "0.0.0.0:0", false),
      rec(T::kTcp, S::kListen, "[::]:8443", "[::]:0", false),
      rec(T::kTcp, S::kListen, "10.0.0.3:7000", "0.0.0.0:0", false),
      rec(T::kUdp, S::kClose, "10.0.0.2:7", "0.0.0.0:0", false),  // makes 10.0.0.2 local
      rec(T::kTcp, S::kEstablished, "10.0.0.1:6000", "10.0.0.9:5000", std::nullopt),
      rec(T::kTcp, S::kEstablished, "10.0.0.1:6001", "10.0.0.2:5000", std::nullopt),
      rec(T::kTcp, S::kEstablished, "127.0.0.1:2000", "127.0.0.1:8443", std::nullopt),
      rec(T::kTcp, S::kEstablished, "[::1]:2001", "[::ffff:127.0.0.1]:5000", std::nullopt),
      rec(T::kTcp, S::kEstablished, "10.0.0.1:6002", "10.0.0.3:7000", std::nullopt),
      rec(T::kTcp, S::kEstablished, "127.0.0.1:2002", "127.0.0.1:5000", std::nullopt, 2),
      rec(T::kUdp, S::kEstablished, "127.0.0.1:2003", "127.0.0.1:5000", std::nullopt),
  };
  auto source = open_recorded_source(records, 1);
  std::vector<std::pair<LocalRole, Evidence>> got;
  auto stats = dump_with_roles(*source, {}, PortRange{32768, 60999}, [&](const HostSocket& s) {
    if (!s.record.unconnected()) got.push_back({s.role, s.evidence});
  });
  ASSERT_TRUE(stats);
  const std::vector<std::pair<LocalRole, Evidence>> want = {
      // a remote host's 5000: the wildcard listener here says nothing about it, so
      // the port rule guesses (the lower port, 5000, the server's)
      {LocalRole::kClient, Evidence::kLowerPortGuess},
      {LocalRole::kClient, Evidence::kPeerListener},    // 10.0.0.2 is bound here
      {LocalRole::kClient, Evidence::kPeerListener},    // IPv4 peer of the dual-stack [::]:8443
      {LocalRole::kClient, Evidence::kPeerListener},    // mapped loopback peer of 0.0.0.0:5000
      {LocalRole::kClient, Evidence::kPeerListener},    // a listener's exact address
      {LocalRole::kServer, Evidence::kLowerPortGuess},  // namespace 2 has no listener
      {LocalRole::kServer, Evidence::kLowerPortGuess},  // UDP: no UDP listener on 5000
  };
  EXPECT_EQ(got, want);
}

TEST(OwnersTest, OwnSocketsAreOursWithTheirDescriptor) {
  const IpAddress a = testing::own_v4(60);
  Fd listener = testing::tcp_listen({a, 0});
  Fd dup_fd(::dup(listener.get()));
  SocketQuery q;
  q.transports = {Transport::kTcp};
  auto table = SocketTable::read(q);
  ASSERT_TRUE(table);
  ProcessOwners owners = ProcessOwners::scan();
  EXPECT_GT(owners.processes(), 0u);
  bool found = false;
  for (const auto& r : table->sockets) {
    if (r.local.address != a) continue;
    found = true;
    auto of = owners.of(r.inode);
    ASSERT_EQ(of.size(), 2u);  // the descriptor and its dup
    EXPECT_EQ(of[0].pid, ::getpid());
    EXPECT_EQ(of[0].fd, std::min(listener.get(), dup_fd.get()));
    EXPECT_EQ(of[1].fd, std::max(listener.get(), dup_fd.get()));
    EXPECT_EQ(owners.why_missing(r), OwnerMissing::kNone);
    char comm[64] = {};
    FILE* f = std::fopen("/proc/self/comm", "r");
    ASSERT_TRUE(f && std::fgets(comm, sizeof comm, f));
    std::fclose(f);
    std::string c = comm;
    c.pop_back();
    EXPECT_EQ(of[0].command, c);
  }
  EXPECT_TRUE(found);
}

TEST(OwnersTest, ReasonsWhenNobodyOwnsIt) {
  ProcessOwners owners = ProcessOwners::scan();
  SocketRecord tw = rec(Transport::kTcp, SocketState::kTimeWait, "10.0.0.1:1", "10.0.0.2:2", {});
  tw.inode = 0;
  EXPECT_EQ(owners.why_missing(tw), OwnerMissing::kTimeWait);
  SocketRecord req = tw;
  req.state = SocketState::kSynRecv;
  EXPECT_EQ(owners.why_missing(req), OwnerMissing::kKernelOwned);
  SocketRecord gone = tw;
  gone.state = SocketState::kEstablished;
  gone.inode = 0xFFFFFFFFFFull;  // no socket has this inode
  gone.netns = current_netns();
  EXPECT_EQ(owners.why_missing(gone), OwnerMissing::kNoProcess);
  gone.netns = current_netns() + 1;
  EXPECT_EQ(owners.why_missing(gone), OwnerMissing::kOtherNetns);
  EXPECT_EQ(to_string(OwnerMissing::kNoPermission), "no-permission");
}

}  // namespace
}  // namespace sockscope
