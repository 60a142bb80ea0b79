// `sockets` with ss's detail letters (-e -i -o -m), lsof's questions (--user,
// the owner's command line) and the defects of the first trial: dual-stack
// listeners, link-local zones, listeners without a remote endpoint. Each is
// checked against ss run at the same moment, or against the kernel's own facts
// (getsockopt, /proc/self/cmdline, the uid the socket was made with).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
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

bool is(const json& e, const Endpoint& ep) {
  return !e.is_null() && e["port"] == ep.port && e["address"] == ep.address.to_string();
}

// The JSON row of `sockets` whose local endpoint is `local` (and remote `remote`).
json row_of(const std::vector<json>& rows, const Endpoint& local,
            const std::optional<Endpoint>& remote = {}) {
  for (const auto& j : rows) {
    if (is(j["local"], local) && (!remote || is(j["remote"], *remote))) return j;
  }
  ADD_FAILURE() << "no row for " << local.to_string();
  return json::object();
}

// `key:VALUE` (or `key VALUE`) from ss's detail text, as text.
std::string ss_field(const std::string& text, const std::string& key) {
  std::smatch m;
  const std::regex re("(^|[\\s(,])" + key + "[: ]([^\\s,)]+)");
  return std::regex_search(text, m, re) ? m[2].str() : std::string();
}

TEST(HostDetailsCliTest, ExtendedInfoTimersMemoryAsSs) {
  const IpAddress a = testing::own_v4(130);
  Fd listener = testing::tcp_listen({a, 0});
  const Endpoint srv = testing::local_of(listener.get());
  const Endpoint from{a, 0};
  Fd client = testing::tcp_connect(srv, &from);
  Fd accepted = testing::tcp_accept(listener.get());
  const int one = 1;
  ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), 0);
  const std::string data(10000, 'x');
  ASSERT_EQ(::send(client.get(), data.data(), data.size(), 0), ssize_t(data.size()));
  std::string got(20000, '\0');
  std::size_t read = 0;
  while (read < data.size()) {
    const ssize_t n = ::recv(accepted.get(), got.data() + read, got.size() - read, 0);
    ASSERT_GT(n, 0);
    read += std::size_t(n);
  }
  ::usleep(100 * 1000);  // the last ACK: the connection is idle from here on
  const Endpoint cl = testing::local_of(client.get());

  auto r = run_sockscope({"--json", "sockets", "-tieom", "--local", a.to_string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  const json c = row_of(rows, cl), s = row_of(rows, srv, cl);
  // ss on the client's socket: one line plus the indented detail line.
  auto ss = run_command({"ss", "-tieomnH", "src", cl.to_string()});
  ASSERT_EQ(ss.exit_code, 0) << ss.err;
  const std::string text = ss.out;
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(c["inode"].get<std::uint64_t>(), std::stoull(ss_field(text, "ino")));
  EXPECT_EQ(c["cookie"].get<std::uint64_t>(), std::stoull(ss_field(text, "sk"), nullptr, 16));
  EXPECT_EQ(c["uid"], ::getuid());
  EXPECT_EQ(c["user"], "root");
  EXPECT_EQ(c["timer"], "keepalive");  // timer:(keepalive,119min,0)
  EXPECT_NE(text.find("timer:(keepalive,"), std::string::npos) << text;
  EXPECT_EQ(std::to_string(c["bytes_acked"].get<std::uint64_t>()), ss_field(text, "bytes_acked"));
  EXPECT_EQ(c["bytes_acked"], data.size() + 1);  // the SYN counts one
  EXPECT_EQ(std::to_string(c["cwnd"].get<std::uint64_t>()), ss_field(text, "cwnd"));
  // tcp_info against the kernel's getsockopt(TCP_INFO), idle so it holds still.
  tcp_info info{};
  socklen_t len = sizeof info;
  ASSERT_EQ(::getsockopt(client.get(), IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  EXPECT_EQ(c["rtt_us"], info.tcpi_rtt);
  EXPECT_EQ(c["rttvar_us"], info.tcpi_rttvar);
  EXPECT_EQ(c["retransmits"], info.tcpi_total_retrans);
  // skmem: the buffer sizes (the queues are empty on an idle socket).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("skmem:\\(([^)]*)\\)"))) << text;
  const std::string skmem = m[1].str();
  EXPECT_NE(skmem.find("rb" + std::to_string(c["skmem_rcvbuf"].get<std::uint64_t>())),
            std::string::npos)
      << skmem;
  int sndbuf = 0;
  len = sizeof sndbuf;
  ASSERT_EQ(::getsockopt(client.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len), 0);
  EXPECT_EQ(c["skmem_sndbuf"], sndbuf);
  // The receiving end: what it received.
  EXPECT_EQ(s["bytes_received"], data.size());
  EXPECT_TRUE(s["timer"].is_null());
  // Without the letters none of it (uid and inode were always in JSON).
  r = run_sockscope({"--json", "sockets", "-t", "--local", a.to_string()});
  const json plain = row_of(json_lines(r.out), cl);
  for (const char* field : {"cookie", "user", "timer", "rtt_us", "skmem_rcvbuf", "bytes_acked"}) {
    EXPECT_FALSE(plain.contains(field)) << field;
  }
  EXPECT_TRUE(plain.contains("inode"));
  // The table's columns, named as ss names the facts.
  r = run_sockscope({"sockets", "-tieom", "--local", cl.to_string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = testing::lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  for (const char* header : {"USER", "INODE", "COOKIE", "TIMER", "RTT", "CWND", "SKMEM"}) {
    EXPECT_NE(lines[0].find(header), std::string::npos) << header;
  }
  EXPECT_NE(lines[1].find("keepalive,"), std::string::npos) << lines[1];
}

// A dual-stack [::] listener is written *:PORT, as ss writes it; a v6only one [::]:PORT.
TEST(HostDetailsCliTest, DualStackListenerShownAsSs) {
  Fd dual(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Fd only(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int off = 0, on = 1;
  ASSERT_EQ(::setsockopt(dual.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off), 0);
  ASSERT_EQ(::setsockopt(only.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on), 0);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  for (const Fd* fd : {&dual, &only}) {
    ASSERT_EQ(::bind(fd->get(), reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(::listen(fd->get(), 4), 0);
  }
  const Port dual_port = testing::local_of(dual.get()).port;
  const Port only_port = testing::local_of(only.get()).port;
  auto r = run_sockscope(
      {"listen", "-t", "--port", std::to_string(dual_port) + "," + std::to_string(only_port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ss = run_command(
      {"ss", "-tlnH",
       "sport = :" + std::to_string(dual_port) + " or sport = :" + std::to_string(only_port)});
  for (const std::string& want :
       {"*:" + std::to_string(dual_port), "[::]:" + std::to_string(only_port)}) {
    EXPECT_NE(ss.out.find(" " + want + " "), std::string::npos) << "ss: " << want << "\n" << ss.out;
    EXPECT_NE(r.out.find("  " + want + " "), std::string::npos) << want << "\n" << r.out;
  }
  r = run_sockscope({"--json", "listen", "-t", "--port", std::to_string(dual_port)});
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["v6only"], false);
  EXPECT_EQ(rows[0]["local"]["address"], "::");
  // A listener has no peer: no endpoint (once 0.0.0.0:0 of the well-known group).
  EXPECT_TRUE(rows[0]["remote"].is_null()) << rows[0];
  r = run_sockscope({"--json", "listen", "-t", "--port", std::to_string(only_port)});
  EXPECT_EQ(json_lines(r.out).at(0)["v6only"], true);
}

// --user by name and by uid: a socket made while this process's effective uid was
// nobody's belongs to nobody (the kernel records the creator's fsuid).
TEST(HostDetailsCliTest, UserFilterAndName) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a socket of another user";
  const IpAddress a = testing::own_v4(140);
  ASSERT_EQ(::seteuid(65534), 0);
  Fd theirs = testing::tcp_listen({a, 0});
  ASSERT_EQ(::seteuid(0), 0);
  Fd ours = testing::tcp_listen({a, 0});
  const Endpoint their_ep = testing::local_of(theirs.get());
  for (const std::string user : {"nobody", "65534"}) {
    auto r = run_sockscope({"--json", "sockets", "-e", "--user", user, "--local", a.to_string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = json_lines(r.out);
    ASSERT_EQ(rows.size(), 1u) << user << "\n" << r.out;
    EXPECT_EQ(rows[0]["local"]["port"], their_ep.port);
    EXPECT_EQ(rows[0]["uid"], 65534);
    EXPECT_EQ(rows[0]["user"], "nobody");
  }
  auto r = run_sockscope({"sockets", "--user", "root", "--local", their_ep.to_string()});
  EXPECT_EQ(r.exit_code, 1);  // nothing found
  r = run_sockscope({"sockets", "--user", "no-such-user-here"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--user 'no-such-user-here'"), std::string::npos) << r.err;
}

// -p in JSON: the owner's full command line beside its 15-character comm.
TEST(HostDetailsCliTest, OwnersCarryTheirCommandLine) {
  const IpAddress a = testing::own_v4(150);
  Fd listener = testing::tcp_listen({a, 0});
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  for (char& ch : cmdline) ch = ch == '\0' ? ' ' : ch;
  auto r = run_sockscope({"--json", "sockets", "-p", "--local", a.to_string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = json_lines(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["processes"][0]["pid"], ::getpid());
  EXPECT_EQ(rows[0]["processes"][0]["cmdline"], cmdline);
}

// A link-local socket keeps its interface (a veth pair in a namespace of its own):
// shown [fe80::1%NAME]:PORT (ss writes [fe80::1]%NAME:PORT) and found by --local with the zone, not
// without a match.
TEST(HostDetailsCliTest, LinkLocalZonesShownAndMatched) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  const std::string ns = "sockscope-zone-" + std::to_string(::getpid());
  if (run_command({"ip", "netns", "add", ns}).exit_code != 0) GTEST_SKIP() << "ip netns add";
  struct Cleanup {
    std::string ns;
    ~Cleanup() { run_command({"ip", "netns", "del", ns}); }
  } cleanup{ns};
  for (const std::vector<std::string>& step :
       {std::vector<std::string>{"ip", "-n", ns, "link", "add", "zz0", "type", "veth", "peer",
                                 "name", "zz1"},
        {"ip", "-n", ns, "link", "set", "zz0", "up"},
        {"ip", "-n", ns, "link", "set", "zz1", "up"},
        {"ip", "-n", ns, "addr", "add", "fe80::1/64", "dev", "zz0", "nodad"}}) {
    ASSERT_EQ(run_command(step).exit_code, 0);
  }
  // A listener bound to fe80::1%zz0 inside the namespace (a thread enters it).
  Fd listener;
  std::thread inside([&] {
    const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) return;
    ::close(nsfd);
    Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 at{};
    at.sin6_family = AF_INET6;
    at.sin6_port = htons(2222);
    inet_pton(AF_INET6, "fe80::1", &at.sin6_addr);
    at.sin6_scope_id = if_nametoindex("zz0");
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) == 0 &&
        ::listen(fd.get(), 4) == 0) {
      listener = std::move(fd);
    }
  });
  inside.join();
  ASSERT_GE(listener.get(), 0);
  auto exec = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"ip", "netns", "exec", ns, SOCKSCOPE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  auto ss = run_command({"ip", "netns", "exec", ns, "ss", "-tlnH"});
  EXPECT_NE(ss.out.find("[fe80::1]%zz0:2222"), std::string::npos) << ss.out;
  auto r = exec({"listen", "-t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[fe80::1%zz0]:2222"), std::string::npos) << r.out;
  r = exec({"--json", "listen", "-t"});
  EXPECT_EQ(json_lines(r.out).at(0)["local"]["address"], "fe80::1%zz0");
  for (const std::vector<std::string>& found :
       {std::vector<std::string>{"sockets", "--local", "[fe80::1%zz0]:2222"},
        {"sockets", "--local", "fe80::1%zz0"},
        {"sockets", "src", "[fe80::1%zz0]:2222"},
        {"sockets", "@[fe80::1%zz0]:2222"}}) {
    r = exec(found);
    EXPECT_EQ(r.exit_code, 0) << found.back() << ": " << r.err;
    EXPECT_NE(r.out.find("[fe80::1%zz0]:2222"), std::string::npos) << found.back();
  }
  r = exec({"sockets", "--local", "[fe80::1%lo]:2222"});
  EXPECT_EQ(r.exit_code, 1) << r.out;  // another interface's fe80::1 is another address
}

}  // namespace
}  // namespace sockscope
