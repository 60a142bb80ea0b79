// `sockscope watch` run as a separate process inside a namespace the test
// makes, while the test opens and closes connections there: JSON Lines with
// the issue's field names, bytes equal to what the test's own calls moved,
// Community IDs equal to `sockscope pair`'s, Zeek's names with --zeek-json, and
// an unprivileged run (runuser -u nobody) that still sees every close.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host/connection_burst.hpp"
#include "host/loopback.hpp"
#include "support/json_lines.hpp"
#include "support/live_command.hpp"
#include "support/test_netns.hpp"

namespace sockscope {
namespace {

using nlohmann::json;

// Whether a sock_diag socket (protocol 4) of this namespace has joined the
// destroy groups: /proc/net/netlink, polled for at most 5 s, then
// 0.3 s for the baseline dump that follows the subscription.
bool destroy_subscription_seen() {
  for (int i = 0; i < 500; ++i) {
    std::ifstream table("/proc/thread-self/net/netlink");
    for (std::string line; std::getline(table, line);) {
      char sk[32];
      unsigned eth = 0, pid = 0, groups = 0;
      if (std::sscanf(line.c_str(), "%31s %u %u %x", sk, &eth, &pid, &groups) == 4 && eth == 4 &&
          groups != 0) {
        ::usleep(300'000);
        return true;
      }
    }
    ::usleep(10'000);
  }
  return false;
}

// Runs `watch` with `args` (prefix: e.g. runuser) inside the namespace, waits for
// the listener's initial `listen` line, runs a burst of `n`, and returns the
// rest of the output's JSON lines and the burst's truth.
struct WatchRun {
  std::vector<json> lines;
  std::vector<testing::BurstConnection> burst;
};
WatchRun watch_burst(const std::string& prefix, const std::string& format, std::size_t n) {
  WatchRun run;
  testing::TestNetns ns("sockscope-wcli-");
  if (!ns.why_not().empty()) return run;
  ns.run([&] {
    testing::Fd listener = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), 8080}, 256);
    const std::string cmd = "ip netns exec " + ns.name() + " " + prefix + " " SOCKSCOPE_BINARY " " +
                            format + " watch --tcp --initial --duration 2.5 --interval 0.2";
    testing::LiveCommand watch(cmd);
    if (format != "--zeek-json") {
      // The initial listen means it is watching.
      const std::string first = watch.next_line();
      ASSERT_NE(first.find("\"listen\""), std::string::npos) << first;
    } else {
      // A Zeek log holds closes only: wait for its destroy subscription instead.
      ASSERT_TRUE(destroy_subscription_seen()) << "watch did not subscribe within 5 s";
    }
    run.burst = testing::run_burst(listener.get(), testing::local_of(listener.get()), n);
    for (std::string line = watch.next_line(); !line.empty(); line = watch.next_line()) {
      run.lines.push_back(json::parse(line, nullptr, false));
    }
    EXPECT_EQ(watch.close(), 0);
  });
  return run;
}

std::map<std::uint64_t, json> closes_by_cookie(const std::vector<json>& lines,
                                               const char* cookie_key) {
  std::map<std::uint64_t, json> out;
  for (const json& j : lines) {
    if (j.contains("event") && j["event"] != "close") continue;
    EXPECT_TRUE(out.emplace(j[cookie_key].get<std::uint64_t>(), j).second) << j.dump();
  }
  return out;
}

TEST(WatchCli, JsonLinesCarryTheIssuesFieldsBytesAndPairsCommunityId) {
  auto run = watch_burst("", "--json", 50);
  if (run.burst.empty()) GTEST_SKIP() << "no namespace";
  ASSERT_EQ(run.burst.size(), 50u);
  ASSERT_FALSE(run.lines.empty());
  const json& summary = run.lines.back();
  EXPECT_EQ(summary["event"], "summary");
  EXPECT_EQ(summary["events_lost"], 0);
  run.lines.pop_back();
  const auto closes = closes_by_cookie(run.lines, "cookie");
  for (const auto& c : run.burst) {
    const json& client = closes.at(c.client_cookie);
    const json& server = closes.at(c.server_cookie);
    EXPECT_EQ(client["sent_bytes"], c.client_sent);
    EXPECT_EQ(client["received_bytes"], c.client_received);
    EXPECT_EQ(server["sent_bytes"], c.server_sent);
    EXPECT_EQ(server["received_bytes"], c.server_received);
    EXPECT_EQ(server["role"], "server");
    EXPECT_EQ(client["local"]["port"], c.client.port);
    for (const char* key :
         {"event", "time", "transport", "local", "remote", "role", "role_evidence", "service",
          "cookie", "netns", "owner_missing", "community_id", "sent_bytes", "received_bytes",
          "sent_segments", "received_segments", "retransmits", "state"}) {
      EXPECT_TRUE(client.contains(key) ||
                  (std::string(key) == "owner_missing" && client.contains("processes")))
          << key << " missing: " << client.dump();
    }
    EXPECT_EQ(client["community_id"], server["community_id"]);
  }
  // The Community ID of the pair as `sockscope pair` computes it, for a few.
  for (std::size_t i = 0; i < run.burst.size(); i += 17) {
    const auto& c = run.burst[i];
    auto pair = testing::run_sockscope(
        {"--json", "pair", "tcp " + c.client.to_string() + ", " + c.server.to_string()});
    ASSERT_EQ(pair.exit_code, 0) << pair.err;
    EXPECT_EQ(json::parse(pair.out)["community_id"], closes.at(c.client_cookie)["community_id"]);
  }
}

TEST(WatchCli, ZeekJsonUsesZeeksNamesWithTheClientAsOriginator) {
  auto run = watch_burst("", "--zeek-json", 20);
  if (run.burst.empty()) GTEST_SKIP() << "no namespace";
  const auto closes = closes_by_cookie(run.lines, "cookie");
  for (const auto& c : run.burst) {
    for (std::uint64_t cookie : {c.client_cookie, c.server_cookie}) {
      const json& z = closes.at(cookie);
      EXPECT_EQ(z["id.orig_h"], c.client.address.to_string());
      EXPECT_EQ(z["id.orig_p"], c.client.port);
      EXPECT_EQ(z["id.resp_p"], 8080);
      EXPECT_EQ(z["proto"], "tcp");
      EXPECT_EQ(z["orig_bytes"], c.client_sent);
      EXPECT_EQ(z["resp_bytes"], c.server_sent);
      EXPECT_EQ(std::string(z["uid"]).size(), 18u);
      EXPECT_EQ(z["local_orig"], cookie == c.client_cookie);
    }
  }
}

TEST(WatchCli, UnprivilegedRunStillSeesEveryCloseAndSaysWhyOwnersAreMissing) {
  auto run = watch_burst("runuser -u nobody --", "--json", 30);
  if (run.burst.empty()) GTEST_SKIP() << "no namespace";
  ASSERT_FALSE(run.lines.empty());
  EXPECT_EQ(run.lines.back()["event"], "summary");
  const auto closes =
      closes_by_cookie(std::vector<json>(run.lines.begin(), run.lines.end() - 1), "cookie");
  const std::set<std::string> reasons = {"no-permission", "closed-before-scan"};
  for (const auto& c : run.burst) {
    for (std::uint64_t cookie : {c.client_cookie, c.server_cookie}) {
      const json& e = closes.at(cookie);
      // The test runs as root: nobody may not read its descriptors.
      EXPECT_FALSE(e.contains("processes")) << e.dump();
      EXPECT_TRUE(reasons.count(e["owner_missing"])) << e.dump();
    }
    EXPECT_EQ(closes.at(c.client_cookie)["sent_bytes"], c.client_sent);
  }
}

}  // namespace
}  // namespace sockscope
