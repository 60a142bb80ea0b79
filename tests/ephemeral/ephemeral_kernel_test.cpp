// The real kernel decides: in a network namespace made for the test, with a
// 100-port ephemeral range, connect() to one destination until it fails and
// check that `sockscope ephemeral` said 100% exactly then, that another
// destination port still has room, that an explicit bind() lowers capacity,
// and that bind(0) exhaustion is reported as such.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/test_netns.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int listener(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(port);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  EXPECT_EQ(listen(fd, 1024), 0);
  return fd;
}

// connect() with the kernel choosing the port; returns the fd or -errno.
int connect_to(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

struct Report {
  int exit_code = -1;
  std::string err;  // warnings and errors: stderr, never among the records
  std::vector<json> destinations;
  json bind_pool;
  const json* find(const std::string& remote) const {
    for (const auto& d : destinations) {
      if (!d["remote"].is_null() && d["remote"]["address"].get<std::string>() + ":" +
                                            std::to_string(d["remote"]["port"].get<int>()) ==
                                        remote) {
        return &d;
      }
    }
    return nullptr;
  }
};

Report sockscope_ephemeral(const std::string& netns) {
  auto r = run_command({"ip", "netns", "exec", netns, SOCKSCOPE_BINARY, "--json", "ephemeral",
                        "--all", "--threshold", "100"});
  Report rep;
  rep.exit_code = r.exit_code;
  rep.err = r.err;
  for (const auto& line : lines(r.out)) {
    json j = json::parse(line);
    if (j["kind"] == "destination") rep.destinations.push_back(j);
    if (j["kind"] == "bind_pool") rep.bind_pool = j;
  }
  EXPECT_FALSE(rep.bind_pool.is_null()) << r.out << r.err;
  return rep;
}

TEST(EphemeralKernelTest, ConnectFailsExactlyWhenReportedFull) {
  TestNetns ns("sockscope-eph-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  std::vector<int> fds;
  ns.run([&] {
    {
      std::ofstream range("/proc/sys/net/ipv4/ip_local_port_range");
      range << "40000 40099\n";
    }
    std::ifstream check("/proc/sys/net/ipv4/ip_local_port_range");
    unsigned low = 0, high = 0;
    check >> low >> high;
    ASSERT_EQ(low, 40000u);
    ASSERT_EQ(high, 40099u);
    fds.push_back(listener(5000));
    fds.push_back(listener(5001));

    // bind() before connect(): port 40050 is held and never lent to connect().
    int held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in own = loopback(40050);
    ASSERT_EQ(bind(held, reinterpret_cast<sockaddr*>(&own), sizeof own), 0);
    sockaddr_in srv2 = loopback(5001);
    ASSERT_EQ(connect(held, reinterpret_cast<sockaddr*>(&srv2), sizeof srv2), 0);
    fds.push_back(held);

    Report empty = sockscope_ephemeral(ns.name());
    EXPECT_EQ(empty.bind_pool["bind_held"], 1);
    EXPECT_EQ(empty.bind_pool["capacity"], 100);
    EXPECT_EQ(empty.find("127.0.0.1:5000"), nullptr);

    int made = 0, last_error = 0;
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (made == 98) {
        Report almost = sockscope_ephemeral(ns.name());
        const json* d = almost.find("127.0.0.1:5000");
        ASSERT_NE(d, nullptr);
        EXPECT_EQ((*d)["used"], 98);
        EXPECT_EQ((*d)["capacity"], 99);  // 100 ports - the one bind() holds
        EXPECT_LT((*d)["utilization_pct"].get<double>(), 100.0);
        EXPECT_EQ(almost.exit_code, 0);
      }
      if (made == 99) {
        Report full = sockscope_ephemeral(ns.name());
        const json* d = full.find("127.0.0.1:5000");
        ASSERT_NE(d, nullptr);
        EXPECT_EQ((*d)["used"], 99);
        EXPECT_EQ((*d)["utilization_pct"].get<double>(), 100.0);
        EXPECT_EQ(full.exit_code, 4);  // --threshold 100 crossed
        // ... and says by whom, on stderr with the exhaustion error.
        EXPECT_NE(full.err.find("threshold 100% reached: tcp 127.0.0.1 -> 127.0.0.1:5000 is "
                                "100% used (99 of 99 ports)"),
                  std::string::npos)
            << full.err;
        EXPECT_NE(full.err.find("127.0.0.1:5000 uses all 99 ports"), std::string::npos);
        // The table keeps to stdout; the error line goes to stderr.
        auto table = run_command({"ip", "netns", "exec", ns.name(), SOCKSCOPE_BINARY, "ephemeral"});
        EXPECT_EQ(table.out.find("EADDRNOTAVAIL"), std::string::npos) << table.out;
        EXPECT_NE(table.err.find("EADDRNOTAVAIL"), std::string::npos) << table.err;
        // The other destination port of the same server still has every port.
        const json* other = full.find("127.0.0.1:5001");
        if (other) {
          EXPECT_EQ((*other)["used"], 0);
        }
        // Every usable port now has an owner: bind(0) has nothing left.
        EXPECT_EQ(full.bind_pool["free"], 0);
      }
      int fd = connect_to(5000);
      if (fd < 0) {
        last_error = -fd;
        break;
      }
      fds.push_back(fd);
      ++made;
    }
    EXPECT_EQ(made, 99);
    EXPECT_EQ(last_error, EADDRNOTAVAIL) << std::strerror(last_error);

    // Same ports, different socket pairs: the second server port still connects.
    int second = connect_to(5001);
    EXPECT_GE(second, 0) << std::strerror(-second);
    if (second >= 0) fds.push_back(second);
    Report after = sockscope_ephemeral(ns.name());
    const json* d2 = after.find("127.0.0.1:5001");
    ASSERT_NE(d2, nullptr);
    EXPECT_EQ((*d2)["used"], 1);
    EXPECT_EQ((*d2)["capacity"], 99);

    // bind(0) fails with EADDRINUSE, as reported.
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in any = loopback(0);
    EXPECT_NE(bind(b, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    EXPECT_EQ(errno, EADDRINUSE);
    close(b);
  });
  for (int fd : fds) close(fd);
}

TEST(EphemeralKernelTest, BindZeroPoolExhaustionIsReported) {
  TestNetns ns("sockscope-eph-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  std::vector<int> fds;
  ns.run([&] {
    {
      std::ofstream range("/proc/sys/net/ipv4/ip_local_port_range");
      range << "41000 41019\n";
    }
    // bind(0) + listen until the kernel refuses: listeners are visible to sock_diag.
    int made = 0, last_error = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (made == 20) {
        Report full = sockscope_ephemeral(ns.name());
        EXPECT_EQ(full.bind_pool["free"], 0);
        EXPECT_EQ(full.bind_pool["used"], 20);
      }
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in any = loopback(0);
      if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) {
        last_error = errno;
        close(fd);
        break;
      }
      listen(fd, 8);
      fds.push_back(fd);
      ++made;
    }
    EXPECT_EQ(made, 20);
    EXPECT_EQ(last_error, EADDRINUSE) << std::strerror(last_error);
  });
  for (int fd : fds) close(fd);
}

}  // namespace
}  // namespace sockscope::testing
