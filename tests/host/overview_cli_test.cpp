// The real `sockscope` overview on sockets this test opens: its listeners (IPv4,
// IPv6, dual-stack, UDP) and clients name this test's pid, command and descriptors;
// dual-stack agrees with ss ("*:PORT") and getsockopt; run as nobody the table
// still prints, with the reason line; accept queues agree with ss's Recv-Q/Send-Q
// and with the handshakes the kernel leaves unanswered; the ephemeral-ports and
// TIME-WAIT pressures agree with connect() running out and with ss in a network
// namespace made here; --watch repeats when piped and redraws on a terminal.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "host/loopback.hpp"
#include "sockscope/ephemeral.hpp"
#include "support/json_lines.hpp"
#include "support/run_command.hpp"
#include "support/test_netns.hpp"

namespace sockscope {
namespace {

using nlohmann::json;
using testing::Fd;
using testing::run_command;
using testing::run_sockscope;

const json* find(const std::vector<json>& all, const std::string& kind,
                 const std::string& transport, Port port) {
  for (const auto& j : all) {
    if (j["kind"] == kind && j["transport"] == transport && j["port"] == port) return &j;
  }
  return nullptr;
}

std::string own_command() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

// The entry of a `processes` list that is this process (with `key` == value), or null.
const json* ours(const json& processes, const std::string& key, int value) {
  for (const auto& p : processes) {
    if (p["pid"] == ::getpid() && p["command"] == own_command() && p[key] == value) return &p;
  }
  return nullptr;
}

// The table line that starts (after padding) with "PORT/TRANSPORT".
std::string line_of(const std::string& table, Port port, const std::string& transport) {
  const std::string key = std::to_string(port) + "/" + transport + " ";
  for (const auto& line : testing::lines(table)) {
    const auto start = line.find_first_not_of(' ');
    if (start != std::string::npos && line.compare(start, key.size(), key) == 0) return line;
  }
  return "";
}

std::string owner_text() { return own_command() + "[" + std::to_string(::getpid()) + "]"; }

TEST(OverviewCliTest, ListenersAndClientsNameThisProcess) {
  const IpAddress server = testing::own_v4(10), client = testing::own_v4(11);
  const IpAddress any6 = *IpAddress::parse("::"), lo6 = testing::v6_loopback();
  Fd v4 = testing::tcp_listen({server, 0});
  const Port port4 = testing::local_of(v4.get()).port;
  std::vector<Fd> held;
  for (int i = 0; i < 3; ++i) {
    const Endpoint from{client, 0};
    held.push_back(testing::tcp_connect({server, port4}, &from));
    held.push_back(testing::tcp_accept(v4.get()));
  }
  Fd v6 = testing::tcp_listen({lo6, 0}, 64, true);
  const Port port6 = testing::local_of(v6.get()).port;
  Fd dual = testing::tcp_listen({any6, 0}, 64, false);
  const Port dual_port = testing::local_of(dual.get()).port;
  held.push_back(testing::tcp_connect({lo6, dual_port}));
  held.push_back(testing::tcp_accept(dual.get()));
  held.push_back(testing::tcp_connect({*IpAddress::parse("127.0.0.1"), dual_port}));
  held.push_back(testing::tcp_accept(dual.get()));
  // A UDP listener binds its port explicitly (bind(0) makes an unconnected client).
  const Port udp_port = testing::local_of(testing::udp_bind({server, 0}).get()).port;
  Fd udp = testing::udp_bind({server, udp_port});

  auto ss = run_command({"ss", "-tlnH"});
  auto r = run_sockscope({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto all = testing::json_lines(r.out);
  struct Want {
    const Fd& fd;
    std::string transport;
    Port port;
    std::string address;
    bool dual_stack;
  };
  const Want wants[] = {{v4, "tcp", port4, server.to_string(), false},
                        {v6, "tcp", port6, "::1", false},
                        {dual, "tcp", dual_port, "::", true},
                        {udp, "udp", udp_port, server.to_string(), false}};
  for (const Want& w : wants) {
    const json* l = find(all, "listener", w.transport, w.port);
    ASSERT_NE(l, nullptr) << w.transport << " " << w.port << "\n" << r.out;
    const auto& addresses = (*l)["addresses"];
    EXPECT_NE(std::find(addresses.begin(), addresses.end(), w.address), addresses.end()) << *l;
    ASSERT_TRUE(l->contains("processes")) << *l;
    EXPECT_NE(ours((*l)["processes"], "fd", w.fd.get()), nullptr) << *l;
    EXPECT_EQ((*l)["dual_stack"], w.dual_stack) << *l;
  }
  // ss prints a dual-stack [::] listener as "*", a v6only one with its address.
  EXPECT_NE(ss.out.find(" *:" + std::to_string(dual_port) + " "), std::string::npos) << ss.out;
  EXPECT_NE(ss.out.find(" [::1]:" + std::to_string(port6) + " "), std::string::npos) << ss.out;
  EXPECT_GE((*find(all, "listener", "tcp", port4))["connections"]["ESTAB"].get<int>(), 3);
  EXPECT_GE((*find(all, "listener", "tcp", dual_port))["client_hosts"].get<int>(), 2);

  // The client side: the remote service names its hosts and this process's connections.
  const json* to4 = find(all, "remote_service", "tcp", port4);
  ASSERT_NE(to4, nullptr) << r.out;
  const json* mine = ours((*to4)["processes"], "sockets", 3);
  EXPECT_NE(mine, nullptr) << *to4;
  bool host_listed = false;
  for (const auto& h : (*to4)["top_hosts"]) {
    host_listed = host_listed || (h["address"] == server.to_string() && h["connections"] == 3);
  }
  EXPECT_TRUE(host_listed) << *to4;
  const json* to_dual = find(all, "remote_service", "tcp", dual_port);
  ASSERT_NE(to_dual, nullptr) << r.out;
  EXPECT_NE(ours((*to_dual)["processes"], "sockets", 2), nullptr) << *to_dual;

  // The table says the same.
  r = run_sockscope({"--no-color"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_of(r.out, port4, "tcp").find(owner_text()), std::string::npos) << r.out;
  EXPECT_NE(line_of(r.out, udp_port, "udp").find(owner_text()), std::string::npos) << r.out;
  const std::string dual_line = line_of(r.out, dual_port, "tcp");
  EXPECT_NE(dual_line.find(":: (dual-stack)"), std::string::npos) << r.out;
  EXPECT_EQ(line_of(r.out, port6, "tcp").find("dual-stack"), std::string::npos) << r.out;
  // The first line of port4 is the listener's; the remote service's follows later.
  const std::string talks = r.out.substr(r.out.find("TALKS TO"));
  EXPECT_NE(line_of(talks, port4, "tcp").find(owner_text() + " x3"), std::string::npos) << r.out;
}

std::vector<std::string> as_nobody() { return {"runuser", "-u", "nobody", "--", SOCKSCOPE_BINARY}; }

TEST(OverviewCliTest, AsNobodyTheTablePrintsWithTheReason) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody";
  auto probe = as_nobody();
  probe.push_back("--version");
  if (auto p = run_command(probe); p.exit_code != 0) {
    GTEST_SKIP() << "cannot run sockscope as nobody (runuser or path permissions): " << p.err;
  }
  Fd listener = testing::tcp_listen({testing::own_v4(20), 0});
  const Port port = testing::local_of(listener.get()).port;
  auto cmd = as_nobody();
  cmd.push_back("--no-color");
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_of(r.out, port, "tcp").find("(no-permission)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("owners not shown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sudo sockscope"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("not readable"), std::string::npos) << r.err;  // said once, in the table

  cmd = as_nobody();
  cmd.push_back("--json");
  r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto all = testing::json_lines(r.out);
  const json* l = find(all, "listener", "tcp", port);
  ASSERT_NE(l, nullptr) << r.out;
  EXPECT_FALSE(l->contains("processes")) << *l;
  EXPECT_EQ((*l)["owner_missing"], "no-permission") << *l;
  const json* reason = nullptr;
  for (const auto& j : all) {
    if (j["kind"] == "pressure" && j["pressure"] == "owners-missing" &&
        j["reason"] == "no-permission") {
      reason = &j;
    }
  }
  ASSERT_NE(reason, nullptr) << r.out;
  EXPECT_GE((*reason)["count"].get<int>(), 1);
  EXPECT_NE((*reason)["hint"].get<std::string>().find("sudo"), std::string::npos);

  // Without owners nothing is missing.
  cmd.push_back("--no-processes");
  r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("owners-missing"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("owner_missing"), std::string::npos) << r.out;
}

// Recv-Q and Send-Q of our listeners as ss shows them: port -> (waiting, backlog).
std::map<Port, std::pair<int, int>> ss_queues(const IpAddress& address) {
  std::map<Port, std::pair<int, int>> out;
  auto r = run_command({"ss", "-tlnH", "src", address.to_string()});
  for (const auto& line : testing::lines(r.out)) {
    std::istringstream in(line);
    std::string state, local;
    int recv_q = 0, send_q = 0;
    in >> state >> recv_q >> send_q >> local;
    out[Port(std::stoi(local.substr(local.rfind(':') + 1)))] = {recv_q, send_q};
  }
  return out;
}

TEST(OverviewCliTest, AcceptQueuesAgreeWithSs) {
  const IpAddress a = testing::own_v4(30);
  Fd full = testing::tcp_listen({a, 0}, 1);
  Fd roomy = testing::tcp_listen({a, 0}, 8);
  const Port full_port = testing::local_of(full.get()).port;
  const Port roomy_port = testing::local_of(roomy.get()).port;
  std::vector<Fd> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(testing::tcp_connect_started({a, full_port}));
  for (int i = 0; i < 2; ++i) clients.push_back(testing::tcp_connect_started({a, roomy_port}));
  // Nobody accepts: wait (at most 2 s) until both queues stop growing.
  std::map<Port, std::pair<int, int>> before;
  for (int i = 0; i < 100; ++i) {
    before = ss_queues(a);
    if (before[full_port].first > before[full_port].second && before[roomy_port].first == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto r = run_sockscope({"--json"});
  const auto after = ss_queues(a);
  ASSERT_EQ(before, after) << "the queues changed while sockscope looked";
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto [waiting, backlog] = after.at(full_port);
  // The kernel holds one more than the backlog, then drops handshakes: clients stay SYN-SENT.
  ASSERT_GT(waiting, backlog);
  auto syn_sent = run_command(
      {"ss", "-tnH", "state", "syn-sent", "dst", a.to_string() + ":" + std::to_string(full_port)});
  EXPECT_FALSE(testing::lines(syn_sent.out).empty()) << "no handshake was dropped";

  const auto all = testing::json_lines(r.out);
  const json* f = find(all, "listener", "tcp", full_port);
  const json* g = find(all, "listener", "tcp", roomy_port);
  ASSERT_TRUE(f && g) << r.out;
  EXPECT_EQ((*f)["accept_queue"], waiting);
  EXPECT_EQ((*f)["accept_backlog"], backlog);
  EXPECT_EQ((*f)["accept_queue_full"], true);
  EXPECT_EQ((*g)["accept_queue"], after.at(roomy_port).first);
  EXPECT_EQ((*g)["accept_backlog"], after.at(roomy_port).second);
  EXPECT_EQ((*g)["accept_queue_full"], false);
  int full_pressures = 0;
  for (const auto& j : all) {
    if (j["kind"] != "pressure" || j["pressure"] != "accept-queue-full") continue;
    EXPECT_NE(j["port"], roomy_port);
    if (j["port"] != full_port) continue;
    ++full_pressures;
    EXPECT_EQ(j["count"], waiting);
    EXPECT_EQ(j["limit"], backlog);
    EXPECT_EQ(j["level"], "warning");
  }
  EXPECT_EQ(full_pressures, 1) << r.out;

  r = run_sockscope({"--no-color"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(line_of(r.out, full_port, "tcp")
                .find(std::to_string(waiting) + "/" + std::to_string(backlog) + " full"),
            std::string::npos)
      << r.out;
  EXPECT_NE(line_of(r.out, roomy_port, "tcp").find("2/8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::to_string(full_port) + "/tcp " + owner_text() + ": " +
                       std::to_string(waiting) + " waiting for accept()"),
            std::string::npos)
      << r.out;
}

Fd connect_loopback(Port port, int* error) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    *error = errno;
    return Fd();
  }
  return fd;
}

const json* pressure(const std::vector<json>& all, const std::string& what) {
  for (const auto& j : all) {
    if (j["kind"] == "pressure" && j["pressure"] == what) return &j;
  }
  return nullptr;
}

TEST(OverviewCliTest, PressureLinesInANamespaceWithTenPorts) {
  testing::TestNetns ns("sockscope-ov-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  constexpr Port kServer = 5000;
  std::vector<Fd> fds;
  Fd listener;
  int error = 0;
  ns.run([&] {
    std::ofstream("/proc/sys/net/ipv4/ip_local_port_range") << "40000 40009\n";
    // No reuse of TIME-WAIT ports (on loopback by default): the count stays exact.
    std::ofstream("/proc/sys/net/ipv4/tcp_tw_reuse") << "0\n";
    listener = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), kServer});
    for (int i = 0; i < 9; ++i) fds.push_back(connect_loopback(kServer, &error));
    // The first connection closed by its client first: TIME-WAIT there, its port still used.
    Fd accepted = testing::tcp_accept(listener.get());
    fds.front().reset();
    fds.erase(fds.begin());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    accepted.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  ASSERT_EQ(error, 0) << std::strerror(error);
  auto in_ns = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", ns.name(), SOCKSCOPE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  auto tw = run_command({"ip", "netns", "exec", ns.name(), "ss", "-tanH", "state", "time-wait"});
  ASSERT_EQ(testing::lines(tw.out).size(), 1u) << tw.out;

  auto r = in_ns({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto all = testing::json_lines(r.out);
  const json* e = pressure(all, "ephemeral-ports");
  ASSERT_NE(e, nullptr) << r.out;
  EXPECT_EQ((*e)["count"], 9);  // 8 connected and the TIME-WAIT
  EXPECT_EQ((*e)["limit"], 10);
  EXPECT_EQ((*e)["utilization_pct"], 90.0);
  EXPECT_EQ((*e)["level"], "warning");
  EXPECT_EQ((*e)["local_address"], "127.0.0.1");
  EXPECT_EQ((*e)["remote"]["port"], kServer);
  EXPECT_NE(ours((*e)["processes"], "sockets", 8), nullptr) << *e;
  const json* t = pressure(all, "time-wait");
  ASSERT_NE(t, nullptr) << r.out;
  EXPECT_EQ((*t)["count"], 1);
  r = in_ns({"--no-color"});
  EXPECT_NE(r.out.find("9 of 10 tcp ports (90%) toward 127.0.0.1:5000 from 127.0.0.1, held by " +
                       owner_text() + " x8"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("TIME-WAIT        1 socket"), std::string::npos) << r.out;

  // The kernel's word: the next connect() is the last one, then EADDRNOTAVAIL.
  int made = 0;
  ns.run([&] {
    for (int i = 0; i < 5 && error == 0; ++i) {
      Fd fd = connect_loopback(kServer, &error);
      if (fd.get() >= 0) {
        fds.push_back(std::move(fd));
        ++made;
      }
    }
  });
  EXPECT_EQ(made, 1);
  EXPECT_EQ(error, EADDRNOTAVAIL) << std::strerror(error);
  r = in_ns({"--json"});
  all = testing::json_lines(r.out);
  e = pressure(all, "ephemeral-ports");
  ASSERT_NE(e, nullptr) << r.out;
  EXPECT_EQ((*e)["count"], 10);
  EXPECT_EQ((*e)["level"], "error");
  r = in_ns({"--no-color"});
  EXPECT_NE(r.out.find("10 of 10 tcp ports (100%) toward 127.0.0.1:5000"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("connect() to it fails with EADDRNOTAVAIL"), std::string::npos) << r.out;

  // From outside: the namespace's own sysctl, read inside it.
  auto inside = EphemeralSettings::read_in({0, ns.name(), ns.path(), false});
  ASSERT_TRUE(inside) << inside.error().what();
  EXPECT_EQ(inside->range, (PortRange{40000, 40009}));
  unsigned low = 0, high = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  auto here = EphemeralSettings::read_in(current_network_namespace());
  ASSERT_TRUE(here) << here.error().what();
  EXPECT_EQ(here->range, (PortRange{Port(low), Port(high)}));
  // ... and the overview of every namespace finds it full (unless another namespace
  // on this machine is as full and busier).
  r = run_sockscope({"--json", "--all-netns"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  all = testing::json_lines(r.out);
  e = pressure(all, "ephemeral-ports");
  ASSERT_NE(e, nullptr) << r.out;
  EXPECT_EQ((*e)["utilization_pct"], 100.0);
  if ((*e)["netns"] == ns.name()) {
    EXPECT_EQ((*e)["limit"], 10);
    EXPECT_EQ((*e)["remote"]["port"], kServer);
  } else {
    EXPECT_GE((*e)["count"].get<int>(), 10) << *e;
  }
}

TEST(OverviewCliTest, WatchRepeatsWhenPipedAndRedrawsOnATerminal) {
  auto r = run_sockscope({"--json", "--watch", "0.2", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> times;
  for (const auto& j : testing::json_lines(r.out)) {
    if (j["kind"] == "summary") times.push_back(j["time"].get<double>());
  }
  ASSERT_EQ(times.size(), 3u) << r.out;
  EXPECT_GT(times[0], 1.7e9);  // seconds since 1970: after 2023
  EXPECT_GE(times[1] - times[0], 0.19);
  EXPECT_GE(times[2] - times[1], 0.19);
  r = run_sockscope({"--json"});
  for (const auto& j : testing::json_lines(r.out)) EXPECT_FALSE(j.contains("time")) << j;

  r = run_sockscope({"--no-color", "--watch", "0.2", "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int stamps = 0, snapshots = 0;
  for (const auto& line : testing::lines(r.out)) {
    stamps += line.rfind("-- ", 0) == 0 && line.find("every 0.2s") != std::string::npos;
    snapshots += line.rfind("This host", 0) == 0;
  }
  EXPECT_EQ(stamps, 2) << r.out;
  EXPECT_EQ(snapshots, 2) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);

  // On a terminal (script(1) gives it one): clear and home before each snapshot.
  r = run_command(
      {"script", "-qec", std::string(SOCKSCOPE_BINARY) + " --watch 0.2 --count 1", "/dev/null"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::size_t clears = 0;
  for (std::size_t at = 0; (at = r.out.find("\x1b[H\x1b[2J", at)) != std::string::npos; ++at) {
    ++clears;
  }
  EXPECT_EQ(clears, 2u) << r.out;

  // Ctrl-C ends it between refreshes, with what was drawn kept and exit 0.
  r = run_command({"timeout", "--preserve-status", "-s", "INT", "1", SOCKSCOPE_BINARY, "--no-color",
                   "--watch", "0.2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("This host"), std::string::npos);
}

TEST(OverviewCliTest, OwnerFlagsAndMisplacedOptions) {
  Fd listener = testing::tcp_listen({testing::own_v4(40), 0});
  const Port port = testing::local_of(listener.get()).port;
  auto r = run_sockscope({"-p", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto all = testing::json_lines(r.out);
  const json* l = find(all, "listener", "tcp", port);
  ASSERT_NE(l, nullptr);
  EXPECT_NE(ours((*l)["processes"], "fd", listener.get()), nullptr) << *l;
  EXPECT_EQ(all.back()["owners"], true);

  r = run_sockscope({"--no-processes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  all = testing::json_lines(r.out);
  for (const auto& j : all) {
    EXPECT_FALSE(j.contains("processes") && j["kind"] != "pressure") << j;
    EXPECT_FALSE(j.contains("owner_missing") || j.contains("owners_missing")) << j;
    EXPECT_NE(j.value("pressure", ""), "owners-missing");
  }
  EXPECT_EQ(all.back()["kind"], "summary");
  EXPECT_EQ(all.back()["owners"], false);

  struct Bad {
    std::vector<std::string> args;
    std::string says;
  };
  const Bad bad[] = {{{"-p", "sockets"}, "-p/--processes is an option of the overview"},
                     {{"ephemeral", "--watch"}, "--watch is an option of the overview"},
                     {{"--count", "2"}, "--count goes with --watch"},
                     {{"-p", "--no-processes"}, "choose -p (owners, the default) or"}};
  for (const Bad& b : bad) {
    r = run_sockscope(b.args);
    EXPECT_EQ(r.exit_code, 2) << b.says;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << r.err;
    EXPECT_EQ(testing::lines(r.err).size(), 1u) << r.err;
  }
}

}  // namespace
}  // namespace sockscope
