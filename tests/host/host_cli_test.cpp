// The real `sockscope sockets/listen/overview` on sockets this test opens on its
// own loopback addresses, against `ss` run at the same moment, plus network
// namespaces, an unprivileged run, --watch and churn.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "host/loopback.hpp"
#include "support/json_lines.hpp"
#include "support/run_command.hpp"

namespace sockscope {
namespace {

using nlohmann::json;
using testing::Fd;
using testing::json_lines;
using testing::run_command;
using testing::run_sockscope;

// An endpoint of the JSON; no peer (null) as ss's -n writes it: 0.0.0.0:0 / [::]:0
// after the ":*" -> ":0" of ss_rows(), the family the local address's.
std::string ep_text(const json& e, const json& local = nullptr) {
  if (e.is_null()) {
    return std::string(local["address"]).find(':') == std::string::npos ? "0.0.0.0:0" : "[::]:0";
  }
  std::string a = e["address"];
  return (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" +
         std::to_string(int(e["port"]));
}

bool involves(const std::string& endpoint, const std::vector<IpAddress>& own) {
  for (const auto& a : own) {
    if (endpoint.rfind(a.to_string() + ":", 0) == 0) return true;
  }
  return false;
}

// "tcp ESTAB 127.1.2.3:80 127.1.2.3:40000 0 0" from ss -tuanH, own addresses only.
std::set<std::string> ss_rows(const std::string& args, const std::vector<IpAddress>& own) {
  std::set<std::string> rows;
  auto r = run_command({"/bin/sh", "-c", "ss " + args});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& line : testing::lines(r.out)) {
    std::istringstream in(line);
    std::string netid, state, rq, sq, local, peer;
    in >> netid >> state >> rq >> sq >> local >> peer;
    if (peer.size() > 2 && peer.substr(peer.size() - 2) == ":*")
      peer.replace(peer.size() - 1, 1, "0");
    if (!involves(local, own) && !involves(peer, own)) continue;
    rows.insert(netid + " " + state + " " + local + " " + peer + " " + rq + " " + sq);
  }
  return rows;
}

// The same rows from sockscope's JSON.
std::set<std::string> our_rows(const std::vector<json>& lines, const std::vector<IpAddress>& own) {
  std::set<std::string> rows;
  for (const auto& j : lines) {
    std::string local = ep_text(j["local"]), peer = ep_text(j["remote"], j["local"]);
    if (!involves(local, own) && !involves(peer, own)) continue;
    rows.insert(std::string(j["transport"]) + " " + std::string(j["state"]) + " " + local + " " +
                peer + " " + std::to_string(int(j["recv_q"])) + " " +
                std::to_string(int(j["send_q"])));
  }
  return rows;
}

// A server with three clients, a UDP listener and a connected UDP client.
struct Scene {
  IpAddress server, client;
  Port port = 0;
  Fd listener, udp_server, udp_client;
  std::vector<Fd> clients, accepted;

  explicit Scene(int base) : server(testing::own_v4(base)), client(testing::own_v4(base + 1)) {
    listener = testing::tcp_listen({server, 0});
    port = testing::local_of(listener.get()).port;
    for (int i = 0; i < 3; ++i) {
      Endpoint from{client, 0};
      clients.push_back(testing::tcp_connect({server, port}, &from));
      accepted.push_back(testing::tcp_accept(listener.get()));
    }
    udp_server = testing::udp_bind({server, port});
    udp_client = testing::udp_connect({server, port});
  }
  std::vector<IpAddress> own() const { return {server, client}; }
};

TEST(HostCliTest, SameSocketPairsAsSs) {
  Scene s(80);
  auto ss_all = ss_rows("-tuanH", s.own());
  auto ours = run_sockscope({"sockets", "--json"});
  auto ss_again = ss_rows("-tuanH", s.own());
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto got = our_rows(json_lines(ours.out), s.own());
  EXPECT_EQ(got.size(), 9u);  // listener, 3 + 3 connection ends, udp server and client
  EXPECT_EQ(got, ss_all);
  EXPECT_EQ(ss_all, ss_again);  // our sockets were quiet while we looked

  // ss's `autobound` filter runs the same kernel bytecode: the same sockets carry the bit.
  auto ss_auto = ss_rows("-tuanH autobound", s.own());
  std::set<std::string> ours_auto;
  auto all = json_lines(ours.out);
  std::vector<json> auto_lines;
  for (const auto& j : all) {
    if (j["autobound"] == true) auto_lines.push_back(j);
  }
  EXPECT_EQ(our_rows(auto_lines, s.own()), ss_auto);
  // The listener (bound to port 0), the TCP clients, the accepted children (the
  // kernel clears their bind lock) and the UDP client; not the UDP server.
  EXPECT_EQ(ss_auto.size(), 8u);
}

TEST(HostCliTest, JsonRolesServicesOwnersAndFilters) {
  Scene s(90);
  auto r = run_sockscope({"sockets", "--json", "-p", "--local", s.server.to_string() + "/32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u);  // listener, 3 accepted, udp listener
  // The server port is the kernel's choice: IANA names many in the ephemeral range
  // (43189 is ndm-agent-port), so each row's service is what `port` says of it.
  std::map<std::string, json> registered;  // by transport: the registry's name or null
  auto port_rows = run_sockscope({"--json", "port", std::to_string(s.port)});
  // (Exit 1: a port IANA has not assigned, named by neither transport.)
  ASSERT_TRUE(port_rows.exit_code == 0 || port_rows.exit_code == 1) << port_rows.err;
  registered["tcp"] = registered["udp"] = nullptr;
  for (const auto& row : json_lines(port_rows.out)) registered[row["transport"]] = row["name"];
  int accepted = 0;
  std::set<int> accepted_fds;
  for (const auto& a : s.accepted) accepted_fds.insert(a.get());
  for (const auto& j : lines) {
    ASSERT_TRUE(j.contains("processes")) << j;
    ASSERT_EQ(j["processes"].size(), 1u) << j;
    EXPECT_EQ(j["processes"][0]["pid"], ::getpid());
    EXPECT_EQ(j["netns"].get<std::string>().rfind("net:[", 0), 0u);
    EXPECT_EQ(j["local"]["port"], s.port);
    if (j["state"] == "LISTEN") {
      EXPECT_EQ(j["role"], "listener");
      EXPECT_EQ(j["processes"][0]["fd"], s.listener.get());
      EXPECT_TRUE(j["community_id"].is_null());
    } else if (j["transport"] == "udp") {
      EXPECT_EQ(j["role"], "listener");
      EXPECT_EQ(j["processes"][0]["fd"], s.udp_server.get());
    } else {
      ++accepted;
      EXPECT_EQ(j["role"], "server");
      EXPECT_EQ(j["role_evidence"], "accepted");
      EXPECT_TRUE(accepted_fds.count(j["processes"][0]["fd"].get<int>()));
      EXPECT_EQ(std::string(j["community_id"]).rfind("1:", 0), 0u);
    }
    EXPECT_EQ(j["service"], registered[j["transport"]]) << j;
  }
  EXPECT_EQ(accepted, 3);

  // Clients: kernel-chosen ports.
  r = run_sockscope({"sockets", "--json", "--tcp", "--local", s.client.to_string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& j : lines) {
    EXPECT_EQ(j["role"], "client");
    EXPECT_EQ(j["role_evidence"], "autobound");
    EXPECT_EQ(j["remote"]["port"], s.port);
    EXPECT_FALSE(j.contains("processes"));  // owners only when asked for
  }

  // Filters: state, remote endpoint, process by pid, listen.
  r = run_sockscope({"sockets", "--json", "--state", "established", "--remote",
                     Endpoint{s.server, s.port}.to_string()});
  EXPECT_EQ(json_lines(r.out).size(), 4u);  // 3 TCP clients and the connected UDP client
  r = run_sockscope({"listen", "--json", "--local", s.server.to_string()});
  EXPECT_EQ(json_lines(r.out).size(), 2u);  // TCP LISTEN and the UDP listener
  r = run_sockscope({"listen", "--json", "--udp", "--local", s.server.to_string()});
  EXPECT_EQ(json_lines(r.out).size(), 1u);
  r = run_sockscope({"sockets", "--json", "--process", std::to_string(::getpid()), "--port",
                     std::to_string(s.port)});
  EXPECT_EQ(json_lines(r.out).size(), 9u);
  r = run_sockscope({"sockets", "--json", "--ephemeral-names", "--state", "listen", "--local",
                     s.server.to_string()});
  ASSERT_EQ(json_lines(r.out).size(), 1u);
}

TEST(HostCliTest, TableAndErrors) {
  Scene s(100);
  auto r = run_sockscope(
      {"sockets", "-p", "--local", Endpoint{s.server, s.port}.to_string(), "--state", "listen"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = testing::lines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[0].rfind("NETID", 0), 0u);
  EXPECT_NE(rows[1].find("LISTEN"), std::string::npos);
  // One owner notation everywhere: command[pid]:fdN.
  EXPECT_NE(
      rows[1].find("[" + std::to_string(::getpid()) + "]:fd" + std::to_string(s.listener.get())),
      std::string::npos)
      << rows[1];

  r = run_sockscope({"sockets", "--local", "127.255.255.254:1"});
  EXPECT_EQ(r.exit_code, 1);  // nothing found
  r = run_sockscope({"sockets", "--state", "sleepy"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--state 'sleepy'"), std::string::npos) << r.err;
  r = run_sockscope({"sockets", "--local", "300.1.1.1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--local '300.1.1.1'"), std::string::npos) << r.err;
  r = run_sockscope({"sockets", "--group", "nope"});
  EXPECT_EQ(r.exit_code, 2);
}

// SCTP and DCCP: listed where the kernel answers for them, otherwise a warning
// names the protocol the kernel did not answer for, and ss lists none either.
TEST(HostCliTest, SctpAndDccpAreListedOrSaidMissing) {
  auto r = run_sockscope({"sockets", "--sctp", "--dccp", "--json"});
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << " " << r.err;
  const auto lines = json_lines(r.out);
  for (const auto& j : lines)
    EXPECT_TRUE(j["transport"] == "sctp" || j["transport"] == "dccp") << j;
  EXPECT_EQ(r.exit_code, lines.empty() ? 1 : 0);
  const struct {
    std::string name, protocol, ss_flag;
  } kinds[] = {{"sctp", "132", "-S"}, {"dccp", "33", "-d"}};
  for (const auto& k : kinds) {
    const bool listed = std::any_of(lines.begin(), lines.end(),
                                    [&](const json& j) { return j["transport"] == k.name; });
    const bool said = r.err.find("IP protocol " + k.protocol) != std::string::npos;
    EXPECT_TRUE(listed || said) << k.name << ": neither rows nor a warning\n" << r.err;
    if (said) {
      auto ss = run_command({"/bin/sh", "-c", "ss -Han " + k.ss_flag + " 2>/dev/null"});
      EXPECT_TRUE(testing::lines(ss.out).empty()) << k.name << ": ss lists\n" << ss.out;
    }
  }
}

TEST(HostCliTest, OverviewCountsOurService) {
  Scene s(110);
  auto r = run_sockscope({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool listener = false, summary = false;
  for (const auto& j : json_lines(r.out)) {
    if (j["kind"] == "listener" && j["port"] == s.port && j["transport"] == "tcp") {
      listener = true;
      EXPECT_NE(std::find(j["addresses"].begin(), j["addresses"].end(), s.server.to_string()),
                j["addresses"].end());
      EXPECT_GE(j["connections"]["ESTAB"].get<int>(), 3);
    }
    if (j["kind"] == "remote_service" && j["port"] == s.port && j["transport"] == "tcp") {
      EXPECT_GE(j["connections"]["ESTAB"].get<int>(), 3);  // by state in every row kind
    }
    if (j["kind"] == "summary") summary = j["sockets"].get<int>() >= 9;
  }
  EXPECT_TRUE(listener);
  EXPECT_TRUE(summary);
  r = run_sockscope({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SERVES"), std::string::npos);
  EXPECT_NE(r.out.find(std::to_string(s.port) + "/tcp"), std::string::npos);
}

TEST(HostCliTest, WatchReportsANewListener) {
  const IpAddress a = testing::own_v4(120);
  Fd first = testing::tcp_listen({a, 0});
  Fd later;
  Port later_port = 0;
  std::thread opener([&] {
    // Well after the first view (one dump, ~0.1 s even under ASan), well before the last.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    later = testing::tcp_listen({a, 0});
    later_port = testing::local_of(later.get()).port;
  });
  auto r = run_sockscope(
      {"listen", "--json", "-p", "--local", a.to_string(), "--watch", "0.5", "--count", "8"}, 80);
  opener.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int initial = 0, appeared = 0;
  for (const auto& j : json_lines(r.out)) {
    if (!j.contains("event")) {
      ++initial;
      EXPECT_EQ(j["local"]["port"], testing::local_of(first.get()).port);
    } else if (j["event"] == "appeared") {
      ++appeared;
      EXPECT_EQ(j["local"]["port"], later_port);
      EXPECT_EQ(j["role"], "listener");
      EXPECT_EQ(j["new_listener"], true);
      // -p: the new listener names its process (this one) and descriptor.
      ASSERT_TRUE(j.contains("processes")) << j;
      EXPECT_EQ(j["processes"][0]["pid"], ::getpid());
      EXPECT_EQ(j["processes"][0]["fd"], later.get());
    }
  }
  EXPECT_EQ(initial, 1);
  EXPECT_EQ(appeared, 1) << r.out;
}

TEST(HostCliTest, AllNetnsShowsAnotherNamespaceWithItsName) {
  const std::string ns = "sockscope-test-" + std::to_string(::getpid());
  auto add = run_command({"ip", "netns", "add", ns});
  if (add.exit_code != 0) GTEST_SKIP() << "cannot create a network namespace: " << add.err;
  struct Cleanup {
    std::string ns;
    ~Cleanup() { run_command({"ip", "netns", "del", ns}); }
  } cleanup{ns};
  ASSERT_EQ(run_command({"ip", "-n", ns, "link", "set", "lo", "up"}).exit_code, 0);
  // A listener inside the namespace, owned by this process.
  int fd = -1;
  std::thread inside([&] {
    int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;
    ::close(nsfd);
    fd = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), 0}).release();
  });
  inside.join();
  ASSERT_GE(fd, 0) << "could not enter " << ns;
  Fd listener(fd);
  const Port port = testing::local_of(fd).port;
  auto r = run_sockscope({"listen", "--json", "-p", "--all-netns", "--port", std::to_string(port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int in_ns = 0;
  for (const auto& j : json_lines(r.out)) {
    if (j["netns"] != ns) continue;
    ++in_ns;
    EXPECT_EQ(j["local"]["address"], "127.0.0.1");
    ASSERT_TRUE(j.contains("processes")) << j;
    EXPECT_EQ(j["processes"][0]["pid"], ::getpid());
  }
  EXPECT_EQ(in_ns, 1) << r.out;
  // Not in the default view: this namespace only.
  r = run_sockscope({"listen", "--json", "--port", std::to_string(port)});
  for (const auto& j : json_lines(r.out)) EXPECT_NE(j["netns"], ns);
  // Run inside it (ip netns exec), the current namespace carries its name too.
  r = run_command({"ip", "netns", "exec", ns, SOCKSCOPE_BINARY, "listen", "--json", "--port",
                   std::to_string(port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto inside_lines = json_lines(r.out);
  ASSERT_EQ(inside_lines.size(), 1u) << r.out;
  EXPECT_EQ(inside_lines[0]["netns"], ns);
  // The table shows the namespace column.
  r = run_sockscope({"listen", "--all-netns", "--port", std::to_string(port)});
  EXPECT_NE(r.out.find(ns), std::string::npos) << r.out;
  // The overview over every namespace names the listener's namespace; the plain one
  // does not see it.
  r = run_sockscope({"--json", "--all-netns"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool listed = false;
  for (const auto& j : json_lines(r.out)) {
    if (j["kind"] == "summary") {
      EXPECT_GE(j["network_namespaces"], 2) << j;
    }
    if (j["kind"] != "listener" || j["port"] != port) continue;
    for (const auto& a : j["addresses"]) listed = listed || a == "127.0.0.1 in " + ns;
  }
  EXPECT_TRUE(listed) << r.out;
  r = run_sockscope({"--json"});
  EXPECT_EQ(r.out.find(ns), std::string::npos) << r.out;
}

TEST(HostCliTest, UnprivilegedRunSaysNoPermission) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody";
  Scene s(130);
  std::vector<std::string> as_nobody = {"setpriv", "--reuid=65534", "--regid=65534",
                                        "--clear-groups", SOCKSCOPE_BINARY};
  auto probe = as_nobody;
  probe.push_back("--version");
  auto p = run_command(probe);
  if (p.exit_code != 0) {
    GTEST_SKIP() << "cannot run sockscope as nobody (setpriv or path permissions): " << p.err;
  }
  auto cmd = as_nobody;
  for (const char* a : {"listen", "--json", "-p", "--local"}) cmd.push_back(a);
  cmd.push_back(s.server.to_string());
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("not readable"), std::string::npos) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& j : lines) {
    EXPECT_FALSE(j.contains("processes"));
    EXPECT_EQ(j["owner_missing"], "no-permission") << j;
  }
  // --all-netns as nobody: the namespaces it could not read are named.
  const std::string ns = "sockscope-unpriv-" + std::to_string(::getpid());
  if (run_command({"ip", "netns", "add", ns}).exit_code != 0) return;
  cmd = as_nobody;
  for (const char* a : {"--all-netns", "listen", "--local", "127.255.255.254"}) cmd.push_back(a);
  r = run_command(cmd);
  run_command({"ip", "netns", "del", ns});
  EXPECT_NE(r.err.find("network namespace " + ns + " skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("network namespaces not readable (permission): "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pid "), std::string::npos) << r.err;
}

// --owners-from: the BPF iterator and the /proc walk give the same JSON owners;
// an unknown source is bad usage; bpf without the rights is one error line, exit 3.
TEST(HostCliTest, OwnersFromBpfAndProcAgree) {
  Scene s(150);
  std::map<std::string, std::string> by_source[2];
  const char* sources[] = {"bpf", "proc"};
  for (int i = 0; i < 2; ++i) {
    for (const auto& address : s.own()) {
      auto r = run_sockscope({"sockets", "--json", "-p", "--owners-from", sources[i], "--local",
                              address.to_string() + "/32"});
      ASSERT_EQ(r.exit_code, 0) << sources[i] << ": " << r.err;
      EXPECT_EQ(r.err, "") << sources[i];  // no fallback warning, nothing unreadable as root
      for (const auto& j : json_lines(r.out)) {
        const std::string key = std::string(j["transport"]) + " " + std::string(j["state"]) + " " +
                                ep_text(j["local"]) + " " + ep_text(j["remote"], j["local"]);
        ASSERT_TRUE(j.contains("processes")) << j;
        by_source[i][key] = j["processes"].dump();
      }
    }
  }
  EXPECT_GE(by_source[0].size(), 8u);  // listener, 3 accepted, UDP listener, 3 clients
  EXPECT_EQ(by_source[0], by_source[1]);
  const std::string me = std::to_string(::getpid());
  for (const auto& [key, processes] : by_source[0]) {
    EXPECT_NE(processes.find("\"pid\":" + me), std::string::npos) << key << " " << processes;
  }
  auto r = run_sockscope({"sockets", "--json", "--owners-from", "bpf", "--process", me, "--local",
                          s.server.to_string()});
  EXPECT_EQ(json_lines(r.out).size(), 5u) << r.err;

  r = run_sockscope({"sockets", "-p", "--owners-from", "kernel"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--owners-from 'kernel': expected auto, bpf or proc"), std::string::npos)
      << r.err;
  r = run_sockscope({"ephemeral", "-p", "--owners-from", "bpf"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_sockscope({"ephemeral", "-p", "--owners-from", "nope"});
  EXPECT_EQ(r.exit_code, 2);

  if (::geteuid() != 0) return;
  auto as_nobody = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                SOCKSCOPE_BINARY, "sockets", "-p", "--owners-from", "bpf"});
  if (as_nobody.exit_code == 127 || as_nobody.err.find("setpriv") != std::string::npos) {
    GTEST_SKIP() << "cannot run sockscope as nobody: " << as_nobody.err;
  }
  EXPECT_EQ(as_nobody.exit_code, 3);
  EXPECT_EQ(as_nobody.out, "");
  EXPECT_EQ(as_nobody.err,
            "sockscope: owners from BPF: loading a BPF iterator needs CAP_BPF and CAP_PERFMON "
            "(root)\n");
}

TEST(HostCliTest, ChurnNeverBreaksTheOutput) {
  const IpAddress a = testing::own_v4(140);
  Fd listener = testing::tcp_listen({a, 0});
  const Endpoint at = testing::local_of(listener.get());
  std::atomic<bool> stop{false};
  std::atomic<int> cycles{0};
  std::thread churn([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!stop && std::chrono::steady_clock::now() < until) {
      std::vector<Fd> open;
      for (int i = 0; i < 20; ++i) {
        open.push_back(testing::tcp_connect(at));
        open.push_back(testing::tcp_accept(listener.get()));
      }
      // Close with a reset: thousands of TIME_WAITs would crowd the host's
      // ephemeral ports for a minute while other suites run.
      const linger reset{1, 0};
      for (const Fd& fd : open) ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ++cycles;
    }
  });
  for (int i = 0; i < 4; ++i) {
    auto r = run_sockscope({"sockets", "--json", "-p", "--tcp"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& j : json_lines(r.out)) {
      EXPECT_TRUE(j.contains("processes") || j.contains("owner_missing")) << j;
    }
  }
  stop = true;
  churn.join();
  EXPECT_GT(cycles.load(), 0);
}

}  // namespace
}  // namespace sockscope
