// The connection log against real sockets in a namespace the test makes: every
// connection of a burst exactly once as a close, with the bytes the test's own
// read() and write() calls moved; owners from the scan and the listener; loss
// with a forced small queue counted and recovered by the re-dump.
#include "sockscope/connection_log.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "host/connection_burst.hpp"
#include "host/loopback.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/registry.hpp"
#include "support/test_netns.hpp"

namespace sockscope {
namespace {

using testing::BurstConnection;
using testing::Fd;

// What the test keeps of an event.
struct Seen {
  ConnectionEventKind kind;
  std::uint64_t cookie;
  SocketRecord record;
  LocalRole role;
  Evidence evidence;
  std::vector<int> pids;
  OwnerMissing owner_missing;
  OwnerEvidence owner_evidence;
  std::optional<ConnectionCounters> counters;
  bool lost;
  std::string netns;  // its name, or net:[INODE]
  bool counters_cleared = false;
};

// A log running on its own thread (in the caller's namespace) until finish().
class Running {
 public:
  // `stall`: the sink sleeps this long at the first close (a slow consumer).
  explicit Running(ConnectionLogOptions options, int stall_ms = 0)
      : log_(std::move(options), naming_) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([this, &ready, stall_ms] {
      summary_ = log_.run(
          [this, stall_ms](const ConnectionEvent& e) {
            std::vector<int> pids;
            for (const auto& o : e.owners) pids.push_back(o.pid);
            std::lock_guard lock(mutex_);
            events_.push_back({e.kind, e.record.cookie, e.record, e.role, e.evidence,
                               std::move(pids), e.owner_missing, e.owner_evidence, e.counters,
                               e.lost, e.netns ? e.netns->label() : "", e.counters_cleared});
            if (e.kind == ConnectionEventKind::kClose && closes_++ == 0 && stall_ms > 0) {
              ::usleep(unsigned(stall_ms) * 1000);
            }
            if (e.kind == ConnectionEventKind::kOpen) ++opens_;
            ++all_;
          },
          [this, &ready] {
            started_ = true;
            ready.set_value();
          });
      if (!started_) ready.set_value();
    });
    started.wait();
  }
  ~Running() { finish(); }

  // Waits (at most 60 s: 40,000 closes on a loaded machine or under a sanitizer)
  // until `closes` closes arrived, then stops the log.
  void finish(std::size_t closes = 0) {
    if (!thread_.joinable()) return;
    for (int i = 0; i < 6000 && closes_.load() < closes; ++i) ::usleep(10'000);
    log_.stop();
    thread_.join();
  }
  // Waits (at most 10 s) until `n` events of any kind arrived.
  void wait_events(std::size_t n) {
    for (int i = 0; i < 1000 && all_.load() < n; ++i) ::usleep(10'000);
  }
  // Waits (at most 10 s) until `opens` opens arrived.
  void wait_opens(std::size_t opens) {
    for (int i = 0; i < 1000 && opens_.load() < opens; ++i) ::usleep(10'000);
  }
  const std::expected<ConnectionLogSummary, Error>& summary() const { return summary_; }
  // False when run() failed before it was ready (summary() says why).
  bool started() const { return started_; }
  const std::vector<Seen>& events() const { return events_; }
  // Each event so far, while the log runs.
  void each(const std::function<void(const Seen&)>& fn) {
    std::lock_guard lock(mutex_);
    for (const Seen& e : events_) fn(e);
  }

 private:
  Registry registry_;
  Naming naming_{registry_};
  ConnectionLog log_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Seen> events_;
  std::atomic<std::size_t> closes_{0}, opens_{0}, all_{0};
  std::atomic<bool> started_{false};
  std::expected<ConnectionLogSummary, Error> summary_ = std::unexpected(Error::io("not run"));
};

std::size_t burst_size() {
  const char* n = std::getenv("SOCKSCOPE_BURST");
  return n ? std::size_t(std::atoll(n)) : 20000;
}

// Every connection once as a close, on both sides, with the bytes each moved.
void expect_every_close(const std::vector<BurstConnection>& burst, const std::vector<Seen>& events,
                        bool lost_allowed) {
  std::unordered_map<std::uint64_t, std::vector<const Seen*>> closes;
  for (const Seen& e : events) {
    if (e.kind == ConnectionEventKind::kClose) closes[e.cookie].push_back(&e);
  }
  std::size_t checked = 0;
  for (const BurstConnection& c : burst) {
    for (bool client : {true, false}) {
      const std::uint64_t cookie = client ? c.client_cookie : c.server_cookie;
      auto it = closes.find(cookie);
      ASSERT_NE(it, closes.end()) << (client ? "client " : "server ") << cookie << " never closed";
      ASSERT_EQ(it->second.size(), 1u)
          << "cookie " << cookie << " closed more than once; lost: " << it->second[0]->lost << ", "
          << it->second[1]->lost << "; counters: " << bool(it->second[0]->counters) << ", "
          << bool(it->second[1]->counters);
      const Seen& e = *it->second.front();
      EXPECT_EQ(e.record.local, client ? c.client : c.server);
      if (e.lost) {
        EXPECT_TRUE(lost_allowed);
        EXPECT_FALSE(e.counters);
        continue;
      }
      ASSERT_TRUE(e.counters) << "no counters for " << cookie;
      EXPECT_EQ(e.counters->sent_bytes, client ? c.client_sent : c.server_sent) << cookie;
      EXPECT_EQ(e.counters->received_bytes, client ? c.client_received : c.server_received)
          << cookie;
      ++checked;
    }
  }
  if (!lost_allowed) {
    EXPECT_EQ(checked, 2 * burst.size());
  }
}

// Runs `fn` inside a namespace of the test's own, with a listener on
// 127.0.0.1:8080 (a registered port outside the ephemeral range: the port rule
// names the clients) and options for a TCP-only log without the tracer.
void with_server(const std::string& prefix,
                 const std::function<void(int listener, const Endpoint& server,
                                          ConnectionLogOptions options)>& fn) {
  testing::TestNetns ns(prefix);
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  ns.run([&] {
    Fd listener = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), 8080}, 4096);
    fn(listener.get(), testing::local_of(listener.get()),
       {.udp = false,
        .tracer = ConnectionLogOptions::Tracer::kOff,
        .host_ephemeral = EphemeralRange::read_host()->range});
  });
}

TEST(ConnectionLog, BurstEveryConnectionOnceWithItsBytesAndOwners) {
  with_server("sockscope-clog-",
              [](int listener, const Endpoint& server, ConnectionLogOptions options) {
                Running log(options);
                const auto burst = testing::run_burst(listener, server, burst_size());
                ASSERT_EQ(burst.size(), burst_size());
                log.finish(2 * burst.size());
                ASSERT_TRUE(log.summary()) << log.summary().error().what();
                EXPECT_EQ(log.summary()->events_lost, 0u);
                expect_every_close(burst, log.events(), false);
                // Accepted sockets name the server (this process, the listener's owner);
                // clients of a registered port against an ephemeral one are clients.
                std::unordered_map<std::uint64_t, const Seen*> closes;
                for (const Seen& e : log.events()) {
                  if (e.kind == ConnectionEventKind::kClose) closes[e.cookie] = &e;
                }
                for (const BurstConnection& c : burst) {
                  const Seen& server_side = *closes.at(c.server_cookie);
                  EXPECT_EQ(server_side.role, LocalRole::kServer);
                  EXPECT_EQ(server_side.evidence, Evidence::kAccepted);
                  ASSERT_EQ(server_side.pids, std::vector<int>{::getpid()});
                  EXPECT_NE(server_side.owner_evidence, OwnerEvidence::kNone);
                  const Seen& client_side = *closes.at(c.client_cookie);
                  EXPECT_EQ(client_side.role, LocalRole::kClient);
                  // Without the tracer a client that lived between two dumps has no owner.
                  if (client_side.pids.empty()) {
                    EXPECT_EQ(client_side.owner_missing, OwnerMissing::kClosedBeforeScan);
                  } else {
                    EXPECT_EQ(client_side.pids, std::vector<int>{::getpid()});
                  }
                }
              });
}

// With the state tracer (root, BTF): every connection of the burst also opens
// once, and the client's pid is known for every one of them from its connect().
TEST(ConnectionLog, TracerNamesTheClientOfEveryConnection) {
  if (::geteuid() != 0) GTEST_SKIP() << "the tracer needs root";
  with_server("sockscope-ctrace-",
              [](int listener, const Endpoint& server, ConnectionLogOptions options) {
                options.tracer = ConnectionLogOptions::Tracer::kOn;
                Running log(options);
                ASSERT_TRUE(log.started()) << log.summary().error().what();
                const auto burst = testing::run_burst(listener, server, burst_size() / 4);
                log.finish(2 * burst.size());
                ASSERT_TRUE(log.summary()) << log.summary().error().what();
                EXPECT_EQ(log.summary()->tracer, "tracepoint");
                EXPECT_EQ(log.summary()->events_lost, 0u);
                expect_every_close(burst, log.events(), false);
                std::unordered_map<std::uint64_t, int> opens;
                std::unordered_map<std::uint64_t, const Seen*> closes;
                for (const Seen& e : log.events()) {
                  if (e.kind == ConnectionEventKind::kOpen) ++opens[e.cookie];
                  if (e.kind == ConnectionEventKind::kClose) closes[e.cookie] = &e;
                }
                for (const BurstConnection& c : burst) {
                  EXPECT_EQ(opens[c.client_cookie], 1);
                  EXPECT_EQ(opens[c.server_cookie], 1);
                  const Seen& client = *closes.at(c.client_cookie);
                  EXPECT_EQ(client.pids, std::vector<int>{::getpid()});
                  EXPECT_EQ(client.owner_evidence, OwnerEvidence::kConnect);
                  EXPECT_EQ(client.evidence, Evidence::kHandshake);
                  EXPECT_EQ(closes.at(c.server_cookie)->pids, std::vector<int>{::getpid()});
                }
              });
}

// A reset (SO_LINGER 0) after data: the abort clears the client's counters and
// peer in the kernel (tcp_disconnect) before its destroy message. With the
// tracer (root) they were taken at CLOSE and no FIN is taken off either side;
// without it the client's close says its counters were cleared.
void reset_after_data(bool tracer) {
  with_server("sockscope-crst-", [tracer](int listener, const Endpoint& server,
                                          ConnectionLogOptions options) {
    options.tracer =
        tracer ? ConnectionLogOptions::Tracer::kOn : ConnectionLogOptions::Tracer::kOff;
    options.redump_interval = std::chrono::milliseconds(50);
    Running log(options);
    ASSERT_TRUE(log.started()) << log.summary().error().what();
    Fd client = testing::tcp_connect(server);
    Fd accepted = testing::tcp_accept(listener);
    const std::uint64_t client_cookie = testing::cookie_of(client.get());
    const std::uint64_t server_cookie = testing::cookie_of(accepted.get());
    char buf[300] = {};
    ASSERT_EQ(::write(client.get(), buf, 200), 200);
    ASSERT_EQ(::read(accepted.get(), buf, sizeof buf), 200);
    ASSERT_EQ(::write(accepted.get(), buf, 77), 77);
    ASSERT_EQ(::read(client.get(), buf, sizeof buf), 77);
    log.wait_opens(2);  // seen open (a dump, or the tracer)
    const linger abort_now{1, 0};
    ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now), 0);
    client.reset();    // RST
    accepted.reset();  // already reset by the peer
    log.finish(2);
    ASSERT_TRUE(log.summary()) << log.summary().error().what();
    std::unordered_map<std::uint64_t, const Seen*> closes;
    for (const Seen& e : log.events()) {
      if (e.kind == ConnectionEventKind::kClose) closes[e.cookie] = &e;
    }
    ASSERT_TRUE(closes.count(client_cookie) && closes.count(server_cookie));
    const Seen& c = *closes.at(client_cookie);
    const Seen& s = *closes.at(server_cookie);
    EXPECT_EQ(c.record.remote, server);  // the peer the log knew, not the cleared one
    ASSERT_TRUE(s.counters);
    EXPECT_EQ(s.counters->sent_bytes, 77u);
    if (!tracer) {
      EXPECT_FALSE(c.counters);
      EXPECT_TRUE(c.counters_cleared);
      return;
    }
    ASSERT_TRUE(c.counters);
    EXPECT_EQ(c.counters->sent_bytes, 200u);
    EXPECT_EQ(c.counters->received_bytes, 77u);
    EXPECT_EQ(s.counters->received_bytes, 200u);
    EXPECT_EQ(c.record.state, SocketState::kEstablished);  // the state it left: a reset
  });
}

TEST(ConnectionLog, TracerCountsTheBytesOfAResetConnection) {
  if (::geteuid() != 0) GTEST_SKIP() << "the tracer needs root";
  reset_after_data(true);
}

TEST(ConnectionLog, WithoutTheTracerAnAbortSaysItsCountersWereCleared) { reset_after_data(false); }

// UDP: a bound socket appears as a listener and ends as unlisten; a connected
// one opens and closes (no counters: UDP has no tcp_info).
TEST(ConnectionLog, UdpSocketsAppearAndEnd) {
  testing::TestNetns ns("sockscope-cudp-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  ns.run([&] {
    Running log({.tcp = false,
                 .tracer = ConnectionLogOptions::Tracer::kOff,
                 .redump_interval = std::chrono::milliseconds(100),
                 .host_ephemeral = EphemeralRange::read_host()->range});
    Fd server = testing::udp_bind({*IpAddress::parse("127.0.0.1"), 5353});
    const std::uint64_t server_cookie = testing::cookie_of(server.get());
    log.wait_events(1);  // a re-dump sees the listener
    Fd client = testing::udp_connect({*IpAddress::parse("127.0.0.1"), 5353});
    const std::uint64_t client_cookie = testing::cookie_of(client.get());
    log.wait_opens(1);
    client.reset();
    server.reset();
    log.wait_events(4);
    log.finish();
    ASSERT_TRUE(log.summary()) << log.summary().error().what();
    std::vector<std::pair<ConnectionEventKind, std::uint64_t>> seen;
    for (const Seen& e : log.events()) {
      seen.emplace_back(e.kind, e.cookie);
      EXPECT_FALSE(e.counters);
      EXPECT_EQ(e.record.transport, Transport::kUdp);
    }
    const std::vector<std::pair<ConnectionEventKind, std::uint64_t>> expected = {
        {ConnectionEventKind::kListen, server_cookie},
        {ConnectionEventKind::kOpen, client_cookie},
        {ConnectionEventKind::kClose, client_cookie},
        {ConnectionEventKind::kUnlisten, server_cookie}};
    EXPECT_EQ(seen, expected);
  });
}

// --all-netns: a namespace made after the log started is watched from the next
// refresh on, its events tagged with its name.
TEST(ConnectionLog, AllNamespacesPicksUpANamespaceMadeLater) {
  if (::geteuid() != 0) GTEST_SKIP() << "entering namespaces needs root";
  Running log({.udp = false,
               .all_namespaces = true,
               .owners = false,
               .tracer = ConnectionLogOptions::Tracer::kOff,
               .redump_interval = std::chrono::milliseconds(50)});
  ASSERT_TRUE(log.started()) << log.summary().error().what();
  testing::TestNetns ns("sockscope-call-");
  if (!ns.why_not().empty()) GTEST_SKIP() << ns.why_not();
  std::vector<BurstConnection> burst;
  ns.run([&] {
    Fd listener = testing::tcp_listen({*IpAddress::parse("127.0.0.1"), 8080});
    // Until a refresh (every 4th re-dump) has found the namespace: its listener is
    // then a listen event tagged with its name (bounded: 20 s, for sanitizer builds).
    bool found = false;
    for (int i = 0; i < 2000 && !found; ++i) {
      ::usleep(10'000);
      log.each([&](const Seen& e) {
        found |= e.kind == ConnectionEventKind::kListen && e.netns == ns.name();
      });
    }
    ASSERT_TRUE(found) << "the log never found the namespace made after it started";
    burst = testing::run_burst(listener.get(), testing::local_of(listener.get()), 20);
  });
  ASSERT_EQ(burst.size(), 20u);
  std::size_t tagged = 0;
  for (int i = 0; i < 500 && tagged < 40; ++i) {
    ::usleep(10'000);
    tagged = 0;
    log.each([&](const Seen& e) {
      tagged += e.kind == ConnectionEventKind::kClose && e.netns == ns.name();
    });
  }
  log.finish();
  EXPECT_EQ(tagged, 40u);  // both sides of every connection, in that namespace
}

// A queue of a few messages: the kernel drops most closes of a burst; the
// drops are counted and the re-dump proves every connection gone.
TEST(ConnectionLog, SmallQueueLossIsCountedAndRecovered) {
  with_server("sockscope-closs-",
              [](int listener, const Endpoint& server, ConnectionLogOptions options) {
                options.receive_buffer = 4096;
                Running log(options, /*stall_ms=*/300);
                constexpr std::size_t kConnections = 1000;
                std::vector<std::pair<Fd, Fd>> open;
                std::vector<BurstConnection> truth;
                for (std::size_t i = 0; i < kConnections; ++i) {
                  Fd c = testing::tcp_connect(server);
                  Fd s = testing::tcp_accept(listener);
                  truth.push_back({testing::cookie_of(c.get()), testing::cookie_of(s.get()), 0, 0,
                                   0, 0, testing::local_of(c.get()), testing::local_of(s.get())});
                  open.emplace_back(std::move(c), std::move(s));
                }
                log.wait_opens(2 * kConnections);  // a re-dump saw them all
                for (auto& [c, s] : open) c.reset();
                for (auto& [c, s] : open) s.reset();
                log.finish(2 * kConnections);
                ASSERT_TRUE(log.summary()) << log.summary().error().what();
                EXPECT_GT(log.summary()->events_lost, 0u);
                EXPECT_GT(log.summary()->closes_recovered, 0u);
                // Every connection once: with its counters, or marked lost.
                expect_every_close(truth, log.events(), true);
                std::size_t lost = 0;
                for (const Seen& e : log.events()) lost += e.lost;
                EXPECT_EQ(lost, log.summary()->closes_recovered);
              });
}

// The tracer's ring as small as it goes (4 KiB: ~26 state changes) and the sink
// stalled: the ring refuses records, which are counted, and every connection
// still appears once, opened (by a re-dump if its tracer record was refused)
// and closed (by its destroy message, which the big queue keeps).
TEST(ConnectionLog, SmallTracerRingLossIsCountedAndEveryConnectionStillSeen) {
  if (::geteuid() != 0) GTEST_SKIP() << "the tracer needs root";
  with_server("sockscope-cring-",
              [](int listener, const Endpoint& server, ConnectionLogOptions options) {
                options.tracer = ConnectionLogOptions::Tracer::kOn;
                options.tracer_ring_bytes = 1;  // rounded up to a page
                Running log(options, /*stall_ms=*/300);
                ASSERT_TRUE(log.started()) << log.summary().error().what();
                const auto burst = testing::run_burst(listener, server, 500);
                log.finish(2 * burst.size());
                ASSERT_TRUE(log.summary()) << log.summary().error().what();
                EXPECT_EQ(log.summary()->tracer, "tracepoint");
                EXPECT_GT(log.summary()->events_lost, 0u);
                expect_every_close(burst, log.events(), true);
              });
}

}  // namespace
}  // namespace sockscope
