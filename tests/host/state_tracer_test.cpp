// The state tracer on the real kernel: its program loads (the verifier's
// verdict is the failure message), and a connection the test makes shows up
// with its cookie (SO_COOKIE), the test's pid at connect() and listen(), its
// endpoints and its namespace's inode.
#include "host/state_tracer.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "host/connection_burst.hpp"
#include "host/loopback.hpp"
#include "support/test_netns.hpp"

namespace sockscope::host_detail {
namespace {

TEST(StateTracer, SeesConnectListenAndCloseWithTheCallersPid) {
  auto tracer = StateTracer::open(1 << 20);
  if (!tracer && tracer.error().code == Error::Code::kPermission) {
    GTEST_SKIP() << tracer.error().what();
  }
  ASSERT_TRUE(tracer) << tracer.error().what();
  testing::TestNetns ns("sockscope-trace-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  std::uint64_t listener_cookie = 0, client_cookie = 0, server_cookie = 0;
  Endpoint client_at, server_at;
  std::uint32_t netns = 0;
  ns.run([&] {
    struct stat st {};
    ASSERT_EQ(::stat("/proc/thread-self/ns/net", &st), 0);
    netns = std::uint32_t(st.st_ino);
    testing::Fd listener = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), 0});
    server_at = testing::local_of(listener.get());
    listener_cookie = testing::cookie_of(listener.get());
    testing::Fd client = testing::tcp_connect(server_at);
    testing::Fd server = testing::tcp_accept(listener.get());
    client_cookie = testing::cookie_of(client.get());
    server_cookie = testing::cookie_of(server.get());
    client_at = testing::local_of(client.get());
  });  // every socket closed
  std::vector<StateChange> seen;
  for (int i = 0; i < 100; ++i) {
    tracer->consume([&](const StateChange& c) { seen.push_back(c); });
    bool closed = false;
    for (const auto& c : seen) closed |= c.cookie == server_cookie && c.new_state == 7;
    if (closed) break;
    ::usleep(10'000);
  }
  auto find = [&](std::uint64_t cookie, int state) -> const StateChange* {
    for (const auto& c : seen) {
      if (c.cookie == cookie && c.new_state == state && c.netns == netns) return &c;
    }
    return nullptr;
  };
  const StateChange* listen = find(listener_cookie, 10);
  ASSERT_NE(listen, nullptr);
  EXPECT_EQ(listen->tgid, std::uint32_t(::getpid()));
  EXPECT_EQ(listen->sport, server_at.port);
  const StateChange* connect = find(client_cookie, 2);
  ASSERT_NE(connect, nullptr);
  EXPECT_EQ(connect->tgid, std::uint32_t(::getpid()));
  EXPECT_EQ(connect->family, AF_INET);
  EXPECT_EQ(connect->daddr4, htonl(0x7f000001));
  const StateChange* established = find(client_cookie, 1);
  ASSERT_NE(established, nullptr);
  EXPECT_EQ(established->old_state, 2);
  EXPECT_EQ(established->sport, client_at.port);
  EXPECT_EQ(ntohs(established->dport), server_at.port);
  const StateChange* accepted = find(server_cookie, 1);
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->old_state, 3);  // SYN_RECV: a passive open
  ASSERT_NE(find(server_cookie, 7), nullptr);
  EXPECT_EQ(tracer->lost(), 0u);
}

}  // namespace
}  // namespace sockscope::host_detail
