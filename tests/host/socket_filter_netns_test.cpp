// SocketFilter against real peers, in a network namespace this test creates
// (root needed; skipped otherwise) holding 1,000+ loopback sockets of every
// kind: IPv4 and IPv6 listeners (one dual-stack), both ends of established
// connections (accepted IPv4 ones on the dual-stack listener are IPv4-mapped),
// TIME-WAIT, FIN-WAIT-2/CLOSE-WAIT, clients bound by hand below and inside the
// ephemeral range, UDP bound and connected.
//   - The kernel is the oracle for the bytecode: a raw sock_diag dump carrying
//     only bytecode() returns exactly the records matches(r, kKernel) accepts.
//   - Every source with the filter returns exactly what matches() accepts.
//   - ss itself: `ss -tuanH EXPR` inside the namespace shows exactly the
//     (transport, state, local, remote) set sockscope returns, from the library
//     and from the command (`sockscope --json sockets EXPR`).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "host/diag_bytecode.hpp"
#include "host/loopback.hpp"
#include "sockscope/socket_filter.hpp"
#include "support/run_command.hpp"

namespace sockscope {
namespace {

using testing::Fd;
using Keys = std::set<std::string>;

// The expressions compared (each also with the kernel and every source).
const std::vector<std::string> kExpressions = {
    "",
    "state established",
    "state listening",
    "state time-wait",
    "state connected",
    "state synchronized",
    "state bucket",
    "state big",
    "exclude established",
    "state fin-wait-2 state close-wait",
    "state unconnected",
    "exclude connected exclude listening",
    "sport = :80",
    "sport == :https",
    "dport eq :ssh",
    "sport = :domain",
    "dport != :80",
    "sport ne :8443",
    "dport < :1024",
    "dport lt :443",
    "sport > :40000",
    "sport gt :8080",
    "dport <= :443",
    "sport >= :40000 and sport le :40029",
    "dport geq :8443",
    "dport ge :8443 and sport leq :60000",
    "sport neq :22 & dport neq :22",
    "sport = :22 | sport = :80 & dport != :80",
    "src 127.0.0.1",
    "src 127.0.0.0/24",
    "dst 127.0.0.3/32",
    "src 127.0.0.3:2010",
    "src [::1]",
    "dst [::1]:8080",
    "src [::ffff:127.0.0.1]:8443",
    "src 127.0.0.1:8443",
    "dst [::ffff:127.0.0.0/120]",
    "src *:22",
    "dst *",
    "src ::/0",
    "src 0.0.0.0/0",
    "not src 0.0.0.0/0",
    "not src ::/1",
    "not src ::/8",
    "autobound",
    "not autobound",
    "state time-wait autobound",
    "( sport = :80 or sport = :443 ) and dport > :40000",
    "sport = :443 or sport = :80 and dport < :40000",  // left to right: the 443s need it too
    "sport = :443 or ( sport = :80 and dport < :40000 )",
    "not ( dport = :80 or dport = :8443 ) and not sport = :53",
    "state established ( dport = :443 or sport = :https )",
    "state established ! ( src 127.0.0.1/32 or src [::1] )",
    "src inet:127.0.0.1 or sport = :8080",
    "dst 127.0.0.2 && dport = :443 || src [::]:8443",
    "( ( sport = :22 ) or ( dst 127.0.0.5 and not autobound ) )",
    "exclude listening exclude unconnected sport >= :1024 dport >= :1024",
};

// A socket of `type` bound to `at` (port 0: kernel's choice); v6only for "::".
Fd open_bound(int type, const Endpoint& at, int v6only = -1) {
  Fd fd(::socket(at.address.is_v4() ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (v6only >= 0) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  sockaddr_storage ss;
  const socklen_t len = testing::to_sockaddr(at, ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ADD_FAILURE() << "bind " << at.to_string() << ": " << std::strerror(errno);
  }
  return fd;
}

Endpoint ep(std::string_view text) { return *Endpoint::parse(text); }

// The namespace and its sockets, built once for the suite.
class Scene {
 public:
  std::string name = "sockscope-filter-" + std::to_string(::getpid());
  std::string skip;  // why the suite cannot run
  std::vector<Fd> fds;

  Scene() {
    if (::geteuid() != 0) {
      skip = "needs root to create a network namespace";
      return;
    }
    if (testing::run_command({"ip", "netns", "add", name}).exit_code != 0 ||
        testing::run_command({"ip", "-n", name, "link", "set", "lo", "up"}).exit_code != 0) {
      skip = "ip netns add/link set failed";
      return;
    }
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int ns = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (home_ < 0 || ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) skip = "setns failed";
    if (ns >= 0) ::close(ns);
    if (skip.empty()) build();
  }
  ~Scene() {
    fds.clear();
    if (home_ >= 0) {
      ::setns(home_, CLONE_NEWNET);
      ::close(home_);
    }
    testing::run_command({"ip", "netns", "del", name});
  }

 private:
  Fd& listen_on(const Endpoint& at, int v6only = -1) {
    fds.push_back(open_bound(SOCK_STREAM, at, v6only));
    ::listen(fds.back().get(), 1024);
    return fds.back();
  }
  // `n` connections to `to` (from `from`, port+i when from's port is set); both ends kept.
  void connect_many(int listener, const Endpoint& to, int n, const Endpoint* from = nullptr) {
    for (int i = 0; i < n; ++i) {
      Endpoint src = from ? *from : Endpoint{};
      if (from && from->port) src.port = Port(from->port + i);
      fds.push_back(from ? open_connected(src, to) : testing::tcp_connect(to));
      fds.push_back(testing::tcp_accept(listener));
    }
  }
  static Fd open_connected(const Endpoint& from, const Endpoint& to) {
    Fd fd = open_bound(SOCK_STREAM, from);
    sockaddr_storage ss;
    const socklen_t len = testing::to_sockaddr(to, ss);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      ADD_FAILURE() << "connect from " << from.to_string() << ": " << std::strerror(errno);
    }
    return fd;
  }

  void build() {
    const int http = listen_on(ep("127.0.0.1:80")).get();
    const int https = listen_on(ep("127.0.0.2:443")).get();
    const int ssh = listen_on(ep("0.0.0.0:22")).get();
    const int dual = listen_on(ep("[::]:8443"), 0).get();
    const int v6 = listen_on(ep("[::1]:8080"), 1).get();
    connect_many(http, ep("127.0.0.1:80"), 150);
    const Endpoint low = ep("127.0.0.3:2000"), high = ep("127.0.0.3:40000");
    connect_many(https, ep("127.0.0.2:443"), 50, &low);
    connect_many(http, ep("127.0.0.1:80"), 30, &high);
    connect_many(dual, ep("127.0.0.1:8443"), 100);
    connect_many(dual, ep("[::1]:8443"), 100);
    connect_many(v6, ep("[::1]:8080"), 80);
    connect_many(ssh, ep("127.0.0.5:22"), 30);
    // TIME-WAIT: the client closes first, then the server.
    for (int i = 0; i < 60; ++i) {
      Fd c = testing::tcp_connect(i < 40 ? ep("127.0.0.1:80") : ep("[::1]:8080"));
      Fd a = testing::tcp_accept(i < 40 ? http : v6);
      c.reset();
      ::usleep(200);
      a.reset();
    }
    // FIN-WAIT-2 / CLOSE-WAIT: the client closes, the server keeps its end.
    for (int i = 0; i < 20; ++i) {
      Fd c = testing::tcp_connect(ep("127.0.0.2:443"));
      fds.push_back(testing::tcp_accept(https));
      c.reset();
    }
    fds.push_back(open_bound(SOCK_DGRAM, ep("127.0.0.1:53")));
    fds.push_back(open_bound(SOCK_DGRAM, ep("[::1]:53")));
    fds.push_back(open_bound(SOCK_DGRAM, ep("0.0.0.0:5353")));
    fds.push_back(open_bound(SOCK_DGRAM, ep("[::]:123"), 0));
    for (int i = 0; i < 40; ++i) fds.push_back(testing::udp_connect(ep("127.0.0.1:53")));
    for (int i = 0; i < 20; ++i) fds.push_back(testing::udp_connect(ep("[::1]:53")));
    ::usleep(50 * 1000);  // the last FINs' ACKs
  }

  int home_ = -1;
};

Scene* scene = nullptr;

class SocketFilterNetns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { scene = new Scene(); }
  static void TearDownTestSuite() {
    delete scene;
    scene = nullptr;
  }
  void SetUp() override {
    if (!scene->skip.empty()) GTEST_SKIP() << scene->skip;
  }

  static SocketFilter parse(const std::string& text) {
    auto f = SocketFilter::parse(text, Registry::builtin(), host_filter_options());
    EXPECT_TRUE(f) << text << ": " << (f ? "" : f.error().what());
    return f ? *f : SocketFilter();
  }

  // `split_from`: SocketQuery::split_from_sockets; `splits` (when given) gets how
  // many requests were split over two threads.
  static std::vector<SocketRecord> dump(SocketSource& source, const SocketFilter* filter,
                                        bool autobound = true,
                                        std::size_t split_from = SocketQuery{}.split_from_sockets,
                                        std::size_t* splits = nullptr) {
    SocketQuery q;
    q.autobound = autobound;
    q.split_from_sockets = split_from;
    if (filter) q.filter = std::make_shared<const SocketFilter>(*filter);
    std::vector<SocketRecord> out;
    auto stats = source.dump(q, [&](const SocketRecord& r) { out.push_back(r); });
    EXPECT_TRUE(stats) << (stats ? "" : stats.error().what());
    if (stats && splits) *splits = stats->split_requests;
    return out;
  }

  // What only one side has, for a readable failure.
  static std::string difference(const Keys& ours, const Keys& theirs) {
    std::string out;
    int shown = 0;
    for (const auto& k : ours) {
      if (!theirs.count(k) && shown++ < 10) out += "\n  only sockscope: " + k;
    }
    for (const auto& k : theirs) {
      if (!ours.count(k) && shown++ < 20) out += "\n  only the other: " + k;
    }
    return out;
  }

  // The state word ss takes when the filter asks for exactly one state (its
  // output then has no state column), else empty.
  static std::string_view single_state(const SocketFilter& f) {
    const StateMask states = f.states();
    const bool single = states != 0 && (states & (states - 1)) == 0;
    return single ? to_string(SocketState(std::countr_zero(states))) : std::string_view();
  }

  // ss's set "at the same moment" as ours, with ss run before and after: sockets
  // come and go while the suite runs (TIME-WAIT ends after 60 s, and sanitizer
  // builds take longer than that), so ours must hold every socket of both runs of
  // ss and nothing that neither run had. The failures, or nothing.
  static std::string same_moment(const Keys& ours, const Keys& before, const Keys& after) {
    std::string out;
    int shown = 0;
    for (const auto& k : ours) {
      if (!before.count(k) && !after.count(k) && shown++ < 10) out += "\n  only sockscope: " + k;
    }
    for (const auto& k : before) {
      if (after.count(k) && !ours.count(k) && shown++ < 20) out += "\n  only the other: " + k;
    }
    return out;
  }

  static Keys keys(const std::vector<SocketRecord>& records) {
    Keys out;
    for (const auto& r : records) out.insert(testing::key_of(r));
    return out;
  }
};

// ss's address column: "*" is IPv6's any address (not v6only), "*" as a port is 0.
std::string ss_endpoint(std::string text) {
  if (text.starts_with("*:")) text = "[::]" + text.substr(1);
  if (text.ends_with(":*")) text = text.substr(0, text.size() - 1) + "0";
  auto e = Endpoint::parse(text);
  EXPECT_TRUE(e) << "[" << text << "]";
  return e ? e->to_string() : text;
}

void append_words(std::vector<std::string>& argv, const std::string& expression) {
  std::size_t at = 0;
  while ((at = expression.find_first_not_of(' ', at)) != std::string::npos) {
    const std::size_t end = std::min(expression.find(' ', at), expression.size());
    argv.push_back(expression.substr(at, end - at));
    at = end;
  }
}

// ss leaves out the State column when one state is asked for: `only_state` names it.
Keys ss_keys(const std::string& ns, const std::string& expression, std::string_view only_state) {
  // One word per argument, as a shell would pass them: ss takes `state` only as a word.
  std::vector<std::string> argv = {"ip", "netns", "exec", ns, "ss", "-tuanH"};
  append_words(argv, expression);
  auto r = testing::run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << expression << ": " << r.err;
  Keys out;
  for (const auto& line : testing::lines(r.out)) {
    char netid[16], state[16] = {}, local[128], remote[128];
    unsigned rq, wq;
    const bool one_state = !only_state.empty();
    if (one_state ? std::sscanf(line.c_str(), "%15s %u %u %127s %127s", netid, &rq, &wq, local,
                                remote) != 5
                  : std::sscanf(line.c_str(), "%15s %15s %u %u %127s %127s", netid, state, &rq, &wq,
                                local, remote) != 6) {
      ADD_FAILURE() << "unexpected ss line: " << line;
      continue;
    }
    out.insert(std::string(netid) + " " + (one_state ? std::string(only_state) : state) + " " +
               ss_endpoint(local) + " " + ss_endpoint(remote));
  }
  return out;
}

TEST_F(SocketFilterNetns, SceneIsLargeAndVaried) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source);
  const auto all = dump(**source, nullptr);
  EXPECT_GE(all.size(), 1000u);
  std::set<std::string> kinds;
  for (const auto& r : all) {
    kinds.insert(std::string(to_string(r.transport)) + " " + std::string(to_string(r.state)) +
                 (r.local.address.is_v4_mapped() ? " mapped"
                  : r.local.address.is_v6()      ? " v6"
                                                 : ""));
  }
  for (std::string_view want :
       {"tcp LISTEN", "tcp LISTEN v6", "tcp ESTAB", "tcp ESTAB v6", "tcp ESTAB mapped",
        "tcp TIME-WAIT", "tcp TIME-WAIT v6", "tcp FIN-WAIT-2", "tcp CLOSE-WAIT", "udp UNCONN",
        "udp UNCONN v6", "udp ESTAB", "udp ESTAB v6"}) {
    EXPECT_TRUE(kinds.count(std::string(want))) << want;
  }
}

TEST_F(SocketFilterNetns, SameSetsAsSs) {
  ASSERT_GE(kExpressions.size(), 30u);
  auto source = open_netlink_source();
  ASSERT_TRUE(source);
  for (const auto& text : kExpressions) {
    // ss -a: without state words every state.
    const SocketFilter f = parse(text);
    const std::string_view only = single_state(f);
    const Keys theirs = ss_keys(scene->name, text, only);
    const Keys ours = keys(dump(**source, &f));
    const Keys after = ss_keys(scene->name, text, only);
    const std::string wrong = same_moment(ours, theirs, after);
    EXPECT_TRUE(wrong.empty()) << "expression: " << text << wrong;
    if (text.empty()) {
      EXPECT_GE(theirs.size(), 1000u);
    }
  }
}

// An endpoint of the command's JSON; a socket without a peer has none ("remote":
// null), which ss writes as the unspecified address of the local one's family.
std::string json_endpoint(const nlohmann::json& e, const nlohmann::json& local) {
  if (e.is_null()) {
    return std::string(local["address"]).find(':') == std::string::npos ? "0.0.0.0:0" : "[::]:0";
  }
  const std::string a = e["address"];
  return (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" +
         std::to_string(int(e["port"]));
}

// `sockscope --json sockets EXPR` run in the namespace, as (transport, state, local, remote).
Keys command_keys(const std::string& ns, const std::string& expression,
                  const std::vector<std::string>& options = {}) {
  std::vector<std::string> argv = {"ip",     "netns",  "exec", ns, SOCKSCOPE_BINARY,
                                   "--json", "sockets"};
  argv.insert(argv.end(), options.begin(), options.end());
  append_words(argv, expression);
  auto r = testing::run_command(argv);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << expression << ": " << r.err;
  Keys out;
  for (const auto& line : testing::lines(r.out)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    out.insert(std::string(j["transport"]) + " " + std::string(j["state"]) + " " +
               json_endpoint(j["local"], j["local"]) + " " +
               json_endpoint(j["remote"], j["local"]));
  }
  return out;
}

// The command, not only the library: its words reach the filter as ss's do, and
// its second pass (listeners for the roles) does not change the set.
TEST_F(SocketFilterNetns, CommandGivesSameSetsAsSs) {
  ASSERT_GE(kExpressions.size(), 30u);
  for (const auto& text : kExpressions) {
    const SocketFilter f = parse(text);
    const std::string_view only = single_state(f);
    const Keys theirs = ss_keys(scene->name, text, only);
    const Keys ours = command_keys(scene->name, text);
    const Keys after = ss_keys(scene->name, text, only);
    const std::string wrong = same_moment(ours, theirs, after);
    EXPECT_TRUE(wrong.empty()) << "expression: " << text << wrong;
    if (text.empty()) {
      EXPECT_GE(ours.size(), 1000u);
    }
  }
}

// ss's letters and bundles, the list options and lsof's selections, each against
// the ss command line that means the same.
TEST_F(SocketFilterNetns, LettersListsAndSelectionsAsSs) {
  struct Case {
    std::vector<std::string> ours;
    std::string ss_letters;  // replaces -tuanH
    std::string ss_expression;
    std::string_view only_state = {};
  };
  const std::vector<Case> cases = {
      {{"-tln"}, "-tlnH", ""},
      {{"-ua"}, "-uanH", ""},
      {{"-t", "-4"}, "-tan4H", ""},
      {{"-6u"}, "-uan6H", ""},
      {{"--state", "time-wait,fin-wait-2"}, "-tuanH", "state time-wait state fin-wait-2"},
      {{"--state", "connected", "-t"}, "-tanH", "state connected"},
      {{"--port", "80,8443"},
       "-tuanH",
       "( sport = :80 or dport = :80 or sport = :8443 or dport = :8443 )"},
      {{"--port", "2000-2009"},
       "-tuanH",
       "( sport >= :2000 and sport <= :2009 ) or ( dport >= :2000 and dport <= :2009 )"},
      {{"--local", "127.0.0.3,[::1]:8080"}, "-tuanH", "src 127.0.0.3 or src [::1]:8080"},
      {{"--remote", "127.0.0.0/24", "--port", ":https"},
       "-tuanH",
       "dst 127.0.0.0/24 and ( sport = :443 or dport = :443 )"},
      {{":8080"}, "-tuanH", "sport = :8080 or dport = :8080"},
      {{"tcp@127.0.0.2:443"}, "-tanH", "src 127.0.0.2:443 or dst 127.0.0.2:443"},
      {{"udp@[::1]"}, "-uanH", "src [::1] or dst [::1]"},
      {{"6tcp:8443"}, "-tan6H", "sport = :8443 or dport = :8443"},
      {{"state", "established", ":22"},
       "-tuanH",
       "state established ( sport = :22 or dport = :22 )",
       "ESTAB"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {"ip", "netns", "exec", scene->name, "ss", c.ss_letters};
    const std::string ss_words = c.ss_expression;
    Keys theirs;
    {
      // ss_keys() runs -tuanH; other letters are run here the same way.
      std::vector<std::string> args = argv;
      append_words(args, ss_words);
      auto r = testing::run_command(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      // ss leaves out the Netid column for one transport and State for one state.
      const bool tcp = c.ss_letters.find('t') != std::string::npos;
      const bool udp = c.ss_letters.find('u') != std::string::npos;
      for (const auto& line : testing::lines(r.out)) {
        std::istringstream in(line);
        std::string netid = tcp && !udp ? "tcp" : "udp", state, rq, wq, local, remote;
        if (tcp && udp) in >> netid;
        if (c.only_state.empty()) in >> state;
        in >> rq >> wq >> local >> remote;
        if (!c.only_state.empty()) state = c.only_state;
        theirs.insert(netid + " " + state + " " + ss_endpoint(local) + " " + ss_endpoint(remote));
      }
    }
    std::string label;
    for (const auto& w : c.ours) label += w + " ";
    const Keys ours = command_keys(scene->name, "", c.ours);
    EXPECT_FALSE(theirs.empty()) << label;
    EXPECT_TRUE(ours == theirs) << "sockets " << label << difference(ours, theirs);
  }
}

// sockets -s: the dump's counts by transport, family and state as ss counts the
// same sockets, and the kernel's counters as the namespace's /proc/net/sockstat says.
TEST_F(SocketFilterNetns, SummaryCountsAsSs) {
  auto r = testing::run_command(
      {"ip", "netns", "exec", scene->name, SOCKSCOPE_BINARY, "--json", "sockets", "-s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ss_count = [&](const std::string& letters, const std::string& expression = "") {
    std::vector<std::string> argv = {"ip", "netns", "exec", scene->name, "ss", letters};
    append_words(argv, expression);
    return testing::lines(testing::run_command(argv).out).size();
  };
  auto sockstat =
      testing::run_command({"ip", "netns", "exec", scene->name, "cat", "/proc/net/sockstat"});
  int transports = 0;
  for (const auto& line : testing::lines(r.out)) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "kernel") {
      // "TCP: inuse N orphan N tw N alloc N mem N"
      std::istringstream in(sockstat.out.substr(sockstat.out.find("TCP:")));
      std::string word;
      std::map<std::string, std::uint64_t> tcp;
      in >> word;
      for (int i = 0; i < 5 && in >> word; ++i) in >> tcp[word];
      EXPECT_EQ(j["tcp_inuse"], tcp["inuse"]);
      EXPECT_EQ(j["tcp_time_wait"], tcp["tw"]);
      EXPECT_EQ(j["tcp_orphan"], tcp["orphan"]);
      continue;
    }
    ++transports;
    const std::string t = j["transport"];
    const std::string letter = t == "tcp" ? "-tanH" : "-uanH";
    EXPECT_EQ(j["total"], ss_count(letter)) << t;
    EXPECT_EQ(j["ipv4"], ss_count(letter + "4")) << t;
    EXPECT_EQ(j["ipv6"], ss_count(letter + "6")) << t;
    EXPECT_EQ(j["states"].value("ESTAB", 0u), ss_count(letter, "state established")) << t;
    EXPECT_EQ(j["states"].value("UNCONN", 0u), ss_count(letter, "state closed")) << t;
    if (t == "tcp") {
      EXPECT_EQ(j["states"]["TIME-WAIT"], ss_count(letter, "state time-wait"));
      EXPECT_EQ(j["states"]["LISTEN"], ss_count(letter, "state listening"));
    }
  }
  EXPECT_EQ(transports, 2);
}

// A sock_diag dump of one (family, protocol) carrying `program` alone.
Keys raw_dump(int family, int protocol, const std::vector<std::uint8_t>& program) {
  Keys out;
  for (const auto& r : testing::raw_diag_dump(family, protocol, program)) {
    out.insert(testing::key_of(r));
  }
  return out;
}

TEST_F(SocketFilterNetns, KernelRunsTheBytecodeAsMatchesPredicts) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source);
  const auto all = dump(**source, nullptr);  // with the autobound bit
  for (const auto& text : kExpressions) {
    const SocketFilter f = parse(text);
    auto program = f.bytecode();
    ASSERT_TRUE(program) << text;
    Keys kernel;
    for (int family : {AF_INET, AF_INET6}) {
      for (int protocol : {IPPROTO_TCP, IPPROTO_UDP})
        kernel.merge(raw_dump(family, protocol, *program));
    }
    Keys predicted;
    for (const auto& r : all) {
      if (f.matches(r, FilterSide::kKernel)) predicted.insert(testing::key_of(r));
    }
    EXPECT_TRUE(kernel == predicted) << "expression: " << text << difference(kernel, predicted);
  }
}

TEST_F(SocketFilterNetns, EverySourceGivesWhatMatchesAccepts) {
  auto source = open_netlink_source();
  ASSERT_TRUE(source);
  const auto all = dump(**source, nullptr);
  auto recorded = open_recorded_source(all);
  auto proc = open_proc_source();
  for (const auto& text : kExpressions) {
    const SocketFilter f = parse(text);
    Keys want;
    for (const auto& r : all) {
      if (f.matches(r)) want.insert(testing::key_of(r));
    }
    std::size_t splits = 0;  // the balanced halves on two threads
    EXPECT_EQ(keys(dump(**source, &f, true, 0, &splits)), want) << "split halves: " << text;
    EXPECT_GT(splits, 0u);
    // AUTO, then NOT AUTO.
    EXPECT_EQ(keys(dump(**source, &f, true, SIZE_MAX)), want) << "plain halves: " << text;
    // Without the bit: one request, the user's program alone.
    EXPECT_EQ(keys(dump(**source, &f, false)), want) << "no halves: " << text;
    // /proc has no bit: `autobound` is the port range there (ss on /proc does the same).
    if (text.find("autobound") == std::string::npos) {
      EXPECT_EQ(keys(dump(*proc, &f)), want) << "/proc: " << text;
    }
    EXPECT_EQ(keys(dump(*recorded, &f)), want) << "recorded: " << text;
  }
}

// A zone is the socket's bound interface: in the kernel (S_COND and DEV_COND)
// and in matches(). (ss has no zones; its own sets are not compared here.)
TEST_F(SocketFilterNetns, ZoneMatchesTheBoundInterface) {
  Fd bound = open_bound(SOCK_DGRAM, ep("[::1]:0"));
  const char lo[] = "lo";
  ASSERT_EQ(::setsockopt(bound.get(), SOL_SOCKET, SO_BINDTODEVICE, lo, sizeof lo), 0)
      << std::strerror(errno);
  Fd unbound = open_bound(SOCK_DGRAM, ep("[::1]:0"));
  const Port port = testing::local_of(bound.get()).port;
  const Port other = testing::local_of(unbound.get()).port;
  auto source = open_netlink_source();
  ASSERT_TRUE(source);
  const auto all = dump(**source, nullptr);
  for (const std::string& text :
       std::vector<std::string>{"src [::1%lo]", "src [::1%1]:" + std::to_string(port),
                                "not src [::1%lo] and src [::1]:" + std::to_string(other)}) {
    const SocketFilter f = parse(text);
    Keys predicted;
    for (const auto& r : all) {
      if (f.matches(r, FilterSide::kKernel)) predicted.insert(testing::key_of(r));
    }
    ASSERT_EQ(predicted.size(), 1u) << text;
    EXPECT_EQ(raw_dump(AF_INET6, IPPROTO_UDP, *f.bytecode()), predicted) << text;
    EXPECT_EQ(keys(dump(**source, &f)), predicted) << text;
  }
}

}  // namespace
}  // namespace sockscope
