// OverviewBuilder on rows written out by hand, every expected value counted by
// hand from the rows: served ports with their programs, dual-stack addresses,
// client hosts and accept queues; remote services with their busiest hosts, local
// programs and missing owners; the pressures, with ephemeral use per namespace
// under each namespace's own (injected) sysctls. The real kernel and processes are
// the CLI tests' part (host_cli_test.cpp).
#include "sockscope/overview.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace sockscope {
namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text); }
IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// Rows as a HostScan would deliver them; the builder sees each once, in order.
class Rows {
 public:
  struct Spec {
    SocketState state = SocketState::kEstablished;
    const char* local;
    const char* remote;
    LocalRole role;
    Evidence evidence;
    std::vector<ProcessOwner> owners = {};
    OwnerMissing missing = OwnerMissing::kNone;
    std::uint32_t rqueue = 0, wqueue = 0;
    std::uint64_t cookie = 1;
    std::optional<bool> v6only = std::nullopt;
    bool autobound = false;
    Transport transport = Transport::kTcp;
  };

  void add(const NetworkNamespace& ns, Spec s) {
    SocketRecord r;
    r.transport = s.transport;
    r.state = s.state;
    r.local = ep(s.local);
    r.remote = ep(s.remote);
    r.rqueue = s.rqueue;
    r.wqueue = s.wqueue;
    r.cookie = s.cookie;
    r.v6only = s.v6only;
    r.autobound = s.autobound;
    r.inode = s.state == SocketState::kTimeWait ? 0 : ++inode_;
    r.netns = ns.inode;
    records_.push_back(r);
    specs_.push_back(std::move(s));
    namespaces_.push_back(&ns);
  }

  void feed(OverviewBuilder& b) const {
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const Spec& s = specs_[i];
      const HostRow row{HostSocket{records_[i], s.role, s.evidence},
                        nullptr,
                        *namespaces_[i],
                        s.owners,
                        s.missing,
                        true};
      b.add(row);
    }
  }

 private:
  std::deque<SocketRecord> records_;
  std::deque<Spec> specs_;
  std::vector<const NetworkNamespace*> namespaces_;
  std::uint64_t inode_ = 100;
};

const NetworkNamespace kHere{1, "", "/proc/thread-self/ns/net", true};
const NetworkNamespace kBlue{2, "blue", "/run/netns/blue", false};

constexpr auto kListen = SocketState::kListen;
constexpr auto kTimeWait = SocketState::kTimeWait;
constexpr auto kListener = LocalRole::kListener;
constexpr auto kServer = LocalRole::kServer;
constexpr auto kClient = LocalRole::kClient;

// The scene both tests read: a dual-stack web server with three connections, a
// database whose accept queue is over its backlog and whose owner is not
// readable, a listener read from /proc (no backlog known), clients of 443 on four
// hosts from two programs and from sockets without a readable owner, and in
// namespace "blue" a listener and three clients toward one destination.
Rows scene() {
  Rows rows;
  const ProcessOwner web3{10, 3, "python3"}, web4{10, 4, "python3"};
  const ProcessOwner curl{20, 5, "curl"}, firefox{21, 7, "firefox"};
  const Evidence listener = Evidence::kListener, accepted = Evidence::kAccepted;
  const Evidence autobound = Evidence::kAutoBound;
  rows.add(kHere, {kListen, "0.0.0.0:8000", "0.0.0.0:0", kListener, listener, {web3}, {}, 0, 128});
  rows.add(kHere, {.state = kListen,
                   .local = "[::]:8000",
                   .remote = "[::]:0",
                   .role = kListener,
                   .evidence = listener,
                   .owners = {web4},
                   .wqueue = 128,
                   .v6only = false});
  rows.add(kHere, {.local = "127.0.0.1:8000",
                   .remote = "127.0.0.2:40001",
                   .role = kServer,
                   .evidence = accepted,
                   .owners = {web3}});
  rows.add(kHere, {.local = "127.0.0.1:8000",
                   .remote = "127.0.0.3:40002",
                   .role = kServer,
                   .evidence = accepted,
                   .owners = {web3}});
  rows.add(kHere, {.state = kTimeWait,
                   .local = "127.0.0.1:8000",
                   .remote = "127.0.0.2:40003",
                   .role = kServer,
                   .evidence = accepted,
                   .missing = OwnerMissing::kTimeWait});
  rows.add(kHere, {.state = kListen,
                   .local = "127.0.0.1:3306",
                   .remote = "0.0.0.0:0",
                   .role = kListener,
                   .evidence = listener,
                   .missing = OwnerMissing::kNoPermission,
                   .rqueue = 3,
                   .wqueue = 2,
                   .cookie = 7});
  rows.add(kHere, {.state = kListen,
                   .local = "127.0.0.1:5432",
                   .remote = "0.0.0.0:0",
                   .role = kListener,
                   .evidence = listener,
                   .owners = {web3},
                   .rqueue = 2,
                   .wqueue = 0,
                   .cookie = 0});
  auto client = [&](const char* local, const char* remote, std::vector<ProcessOwner> owners,
                    OwnerMissing missing = OwnerMissing::kNone,
                    SocketState st = SocketState::kEstablished) {
    rows.add(kHere, {.state = st,
                     .local = local,
                     .remote = remote,
                     .role = kClient,
                     .evidence = autobound,
                     .owners = std::move(owners),
                     .missing = missing,
                     .autobound = st != kTimeWait});
  };
  client("192.168.1.5:40001", "10.0.0.1:443", {curl});
  client("192.168.1.5:40002", "10.0.0.1:443", {firefox});
  client("192.168.1.5:40003", "10.0.0.1:443", {firefox});
  client("192.168.1.5:40004", "10.0.0.2:443", {firefox});
  client("192.168.1.5:40005", "10.0.0.3:443", {}, OwnerMissing::kTimeWait, kTimeWait);
  client("192.168.1.5:40006", "10.0.0.3:443", {}, OwnerMissing::kNoPermission);
  client("192.168.1.5:40007", "10.0.0.3:443", {}, OwnerMissing::kNoPermission);
  client("192.168.1.5:40008", "10.0.0.4:443", {}, OwnerMissing::kNoProcess);
  // A UDP client that sends with sendto(): a client, of no one remote service.
  rows.add(kHere, {.state = SocketState::kClose,
                   .local = "0.0.0.0:41000",
                   .remote = "0.0.0.0:0",
                   .role = kClient,
                   .evidence = autobound,
                   .owners = {curl},
                   .autobound = true,
                   .transport = Transport::kUdp});
  // Counted apart: a guess, and a socket without a role.
  rows.add(kHere, {.local = "10.1.1.1:40500",
                   .remote = "10.1.1.2:40600",
                   .role = kServer,
                   .evidence = Evidence::kLowerPortGuess,
                   .owners = {curl}});
  rows.add(kHere, {.state = SocketState::kClose,
                   .local = "0.0.0.0:40555",
                   .remote = "0.0.0.0:0",
                   .role = LocalRole::kUnknown,
                   .evidence = Evidence::kLowerPortGuess,
                   .owners = {curl},
                   .transport = Transport::kUdp});
  // Namespace blue.
  rows.add(kBlue, {kListen, "127.0.0.1:8000", "0.0.0.0:0", kListener, listener, {web3}, {}, 0, 16});
  for (const char* local : {"127.0.0.1:50001", "127.0.0.1:50002", "127.0.0.1:50003"}) {
    rows.add(kBlue, {.local = local,
                     .remote = "10.9.9.9:80",
                     .role = kClient,
                     .evidence = autobound,
                     .owners = {curl},
                     .autobound = true});
  }
  return rows;
}

// Here 40000-40009 (10 ports), in blue 50000-50003 (4).
OverviewOptions options() {
  OverviewOptions o;
  o.top_hosts = 2;
  o.settings = [](const NetworkNamespace& ns) -> std::expected<EphemeralSettings, Error> {
    EphemeralSettings s;
    s.range = ns.current ? PortRange{40000, 40009} : PortRange{50000, 50003};
    return s;
  };
  return o;
}

const ServedPort& served(const HostOverview& o, Port port) {
  for (const auto& s : o.served) {
    if (s.port == port) return s;
  }
  ADD_FAILURE() << "no served port " << port;
  return o.served.front();
}

TEST(OverviewTest, ServedPortsNameTheirProgramsAddressesAndQueues) {
  OverviewBuilder builder(options());
  scene().feed(builder);
  const HostOverview o = builder.finish();
  EXPECT_EQ(o.sockets, 22u);
  EXPECT_EQ(o.listeners, 5u);
  EXPECT_EQ(o.server_side, 3u);
  EXPECT_EQ(o.client_side, 12u);
  EXPECT_EQ(o.unknown, 2u);
  EXPECT_EQ(o.namespaces, 2u);
  ASSERT_EQ(o.served.size(), 3u);  // 3306, 5432, 8000 (here and in blue)

  const ServedPort& web = served(o, 8000);
  EXPECT_EQ(web.addresses, (std::vector<std::string>{"0.0.0.0", "127.0.0.1 in blue", "::"}));
  EXPECT_EQ(web.dual_stack, (std::vector<std::string>{"::"}));
  EXPECT_EQ(web.connections.of(SocketState::kEstablished), 2u);
  EXPECT_EQ(web.connections.of(SocketState::kTimeWait), 1u);
  EXPECT_EQ(web.client_hosts, 2u);  // 127.0.0.2 twice, 127.0.0.3
  EXPECT_EQ(web.accept_queue, 0u);
  EXPECT_EQ(web.accept_backlog, 128u + 128u + 16u);
  EXPECT_FALSE(web.accept_queue_full);
  ASSERT_TRUE(web.owners_known);
  // The listening sockets' owners once each, by pid and fd (blue's is fd 3 again).
  ASSERT_EQ(web.processes.size(), 2u);
  EXPECT_EQ(web.processes[0], (SocketOwner{10, 3, "python3"}));
  EXPECT_EQ(web.processes[1], (SocketOwner{10, 4, "python3"}));

  const ServedPort& db = served(o, 3306);
  EXPECT_EQ(db.accept_queue, 3u);
  EXPECT_EQ(db.accept_backlog, 2u);
  EXPECT_TRUE(db.accept_queue_full);  // 3 > 2: the kernel's sk_acceptq_is_full
  EXPECT_TRUE(db.processes.empty());
  EXPECT_EQ(db.owner_missing, OwnerMissing::kNoPermission);
  EXPECT_TRUE(db.dual_stack.empty());

  const ServedPort& from_proc = served(o, 5432);  // 2 waiting, backlog unknown: not "full"
  EXPECT_EQ(from_proc.accept_queue, 2u);
  EXPECT_FALSE(from_proc.accept_queue_full);
  EXPECT_EQ(o.pressure.full_accept_queues, 1u);
}

TEST(OverviewTest, RemoteServicesNameHostsAndPrograms) {
  OverviewBuilder builder(options());
  scene().feed(builder);
  const HostOverview o = builder.finish();
  ASSERT_EQ(o.remote.size(), 2u);            // 443 and blue's 80; not the UDP client without a peer
  const RemoteService& https = o.remote[0];  // 8 connections, before blue's 3 to port 80
  EXPECT_EQ(https.port, 443);
  EXPECT_EQ(https.connections.total(), 8u);
  EXPECT_EQ(https.connections.of(SocketState::kTimeWait), 1u);
  EXPECT_EQ(https.hosts, 4u);
  // Three each for 10.0.0.1 and 10.0.0.3: the lower address first; two listed.
  ASSERT_EQ(https.top_hosts.size(), 2u);
  EXPECT_EQ(https.top_hosts[0].address, ip("10.0.0.1"));
  EXPECT_EQ(https.top_hosts[0].connections, 3u);
  EXPECT_EQ(https.top_hosts[1].address, ip("10.0.0.3"));
  EXPECT_EQ(https.top_hosts[1].connections, 3u);
  ASSERT_EQ(https.processes.size(), 2u);
  EXPECT_EQ(https.processes[0].command, "firefox");
  EXPECT_EQ(https.processes[0].sockets, 3u);
  EXPECT_EQ(https.processes[1].command, "curl");
  EXPECT_EQ(https.processes[1].sockets, 1u);
  EXPECT_EQ(https.owners_missing.of(OwnerMissing::kTimeWait), 1u);
  EXPECT_EQ(https.owners_missing.of(OwnerMissing::kNoPermission), 2u);
  EXPECT_EQ(https.owners_missing.of(OwnerMissing::kNoProcess), 1u);
  EXPECT_EQ(o.remote[1].port, 80);
  EXPECT_EQ(o.remote[1].hosts, 1u);
}

TEST(OverviewTest, PressuresPerNamespaceAndUnreadableOwners) {
  OverviewBuilder builder(options());
  scene().feed(builder);
  const HostOverview o = builder.finish();
  const OverviewPressure& p = o.pressure;
  EXPECT_EQ(p.time_wait, 2u);
  // Not readable: the database listener and two clients; one client has no process.
  // TIME-WAIT sockets have no owner to read and are not counted.
  EXPECT_EQ(p.owners_missing.of(OwnerMissing::kNoPermission), 3u);
  EXPECT_EQ(p.owners_missing.of(OwnerMissing::kNoProcess), 1u);
  EXPECT_EQ(p.owners_missing.of(OwnerMissing::kTimeWait), 0u);
  // Here the fullest destinations hold 3 of 10 ports; in blue 3 of 4 toward 10.9.9.9:80.
  ASSERT_TRUE(p.ephemeral);
  EXPECT_EQ(p.ephemeral->netns, "blue");
  EXPECT_EQ(p.ephemeral->destination.remote, ep("10.9.9.9:80"));
  EXPECT_EQ(p.ephemeral->destination.used, 3u);
  EXPECT_EQ(p.ephemeral->destination.capacity, 4u);
  EXPECT_TRUE(p.skipped.empty());

  // One namespace: its fullest destination, with no namespace named.
  Rows only_here;
  for (const char* local : {"192.168.1.5:40001", "192.168.1.5:40002"}) {
    only_here.add(kHere, {.local = local,
                          .remote = "10.0.0.3:443",
                          .role = kClient,
                          .evidence = Evidence::kAutoBound,
                          .autobound = true});
  }
  OverviewBuilder here_only(options());
  only_here.feed(here_only);
  const HostOverview h = here_only.finish();
  ASSERT_TRUE(h.pressure.ephemeral);
  EXPECT_EQ(h.pressure.ephemeral->netns, "");
  EXPECT_EQ(h.pressure.ephemeral->destination.used, 2u);
  EXPECT_EQ(h.pressure.ephemeral->destination.capacity, 10u);
}

TEST(OverviewTest, UnreadableSettingsAreSaidAndFinishStartsOver) {
  OverviewOptions o = options();
  o.settings = [](const NetworkNamespace& ns) -> std::expected<EphemeralSettings, Error> {
    if (!ns.current) return std::unexpected(Error::io("blue: no entry"));
    EphemeralSettings s;
    s.range = {40000, 40009};
    return s;
  };
  OverviewBuilder builder(o);
  const Rows rows = scene();
  rows.feed(builder);
  const HostOverview first = builder.finish();
  ASSERT_EQ(first.pressure.skipped.size(), 1u);
  EXPECT_EQ(first.pressure.skipped[0].message, "blue: no entry");
  ASSERT_TRUE(first.pressure.ephemeral);
  EXPECT_EQ(first.pressure.ephemeral->destination.remote, ep("10.0.0.1:443"));
  EXPECT_EQ(first.pressure.ephemeral->destination.used, 3u);
  // A builder is reused by --watch: the next finish() sees only the rows added since.
  EXPECT_EQ(builder.finish().sockets, 0u);
  rows.feed(builder);
  const HostOverview again = builder.finish();
  EXPECT_EQ(again.sockets, first.sockets);
  EXPECT_EQ(again.served.size(), first.served.size());
  EXPECT_EQ(again.remote[0].hosts, first.remote[0].hosts);
  EXPECT_EQ(again.pressure.owners_missing.total(), first.pressure.owners_missing.total());

  // Without ephemeral analysis, no settings are read and no pressure is found.
  OverviewBuilder plain({.ephemeral = false});
  rows.feed(plain);
  EXPECT_FALSE(plain.finish().pressure.ephemeral);
}

}  // namespace
}  // namespace sockscope
