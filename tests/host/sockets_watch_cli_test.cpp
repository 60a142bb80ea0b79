// `sockets --watch` run as a separate process inside a namespace the test makes:
// a connection the test opens and closes within 50 ms, well inside one 2 s refresh,
// still appears and disappears (the connection log's events, not a diff of two
// snapshots), and the filter words keep out a connection they exclude.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "host/loopback.hpp"
#include "support/json_lines.hpp"
#include "support/live_command.hpp"
#include "support/test_netns.hpp"

namespace sockscope {
namespace {

using nlohmann::json;

// One connection to `listener` carrying one byte, closed at once.
// Returns the client's local endpoint and how long the connection lived.
struct Brief {
  Endpoint client;
  std::chrono::milliseconds lived;
};
Brief open_and_close(int listener) {
  const auto start = std::chrono::steady_clock::now();
  testing::Fd client = testing::tcp_connect(testing::local_of(listener));
  testing::Fd server = testing::tcp_accept(listener);
  char byte = 'x';
  EXPECT_EQ(::write(client.get(), &byte, 1), 1);
  EXPECT_EQ(::read(server.get(), &byte, 1), 1);
  const Endpoint local = testing::local_of(client.get());
  client = testing::Fd();
  server = testing::Fd();
  return {local, std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)};
}

bool involves(const json& row, std::uint16_t port) {
  return row["local"]["port"] == port ||
         (row["remote"].is_object() && row["remote"]["port"] == port);
}

TEST(SocketsWatchCli, ABriefConnectionAppearsAndDisappearsAndFiltersHoldForEvents) {
  testing::TestNetns ns("sockscope-swatch-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  ns.run([&] {
    const IpAddress lo = *IpAddress::parse("127.0.0.1");
    testing::Fd shown = testing::tcp_listen({lo, 8080});
    testing::Fd excluded = testing::tcp_listen({lo, 9090});
    testing::LiveCommand watch(
        "ip netns exec " + ns.name() +
        " " SOCKSCOPE_BINARY
        " --json sockets --tcp --watch 2 --count 2 'sport = :8080 or dport = :8080'");
    // The first view: the 8080 listener only, written once the log is watching.
    const json first = json::parse(watch.next_line(), nullptr, false);
    ASSERT_TRUE(first.is_object()) << "no first view";
    EXPECT_EQ(first["state"], "LISTEN");
    EXPECT_EQ(first["local"]["port"], 8080);
    EXPECT_FALSE(first.contains("event"));
    const Brief kept = open_and_close(shown.get());
    const Brief dropped = open_and_close(excluded.get());
    ASSERT_LT(kept.lived.count(), 50) << "the connection lived too long to prove anything";
    std::vector<json> rows;
    for (std::string line = watch.next_line(); !line.empty(); line = watch.next_line()) {
      rows.push_back(json::parse(line, nullptr, false));
    }
    EXPECT_EQ(watch.close(), 0);
    // Both sides of the 8080 connection: appeared, then disappeared, once each.
    const std::uint16_t port = kept.client.port;
    for (const bool client_side : {true, false}) {
      std::vector<std::string> events;
      for (const json& r : rows) {
        if (r["local"]["port"] == (client_side ? port : 8080) && involves(r, port)) {
          events.push_back(r["event"]);
          EXPECT_EQ(r["role"], client_side ? "client" : "server") << r.dump();
        }
      }
      EXPECT_EQ(events, (std::vector<std::string>{"appeared", "disappeared"}))
          << (client_side ? "client side" : "server side");
    }
    for (const json& r : rows) {
      EXPECT_FALSE(involves(r, 9090) || involves(r, dropped.client.port)) << r.dump();
    }
  });
}

}  // namespace
}  // namespace sockscope
