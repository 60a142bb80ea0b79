// `sockscope serve` as a user runs it, in network namespaces the tests make: the
// endpoints against the CLI's own --json, promtool and a real Prometheus
// scraping it, and bad requests (the server keeps serving).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background.hpp"
#include "support/json_lines.hpp"
#include "support/loopback_sockets.hpp"
#include "support/run_command.hpp"
#include "support/test_netns.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;

struct Reply {
  int status = -1;
  std::string body;
};

// One GET on a thread inside `ns` (its loopback is the namespace's own).
Reply get(TestNetns& ns, const std::string& host, int port, const std::string& path) {
  Reply r;
  ns.run([&] {
    httplib::Client client(host, port);
    client.set_connection_timeout(5);
    client.set_read_timeout(30);
    if (auto res = client.Get(path)) r = {res->status, res->body};
  });
  return r;
}

// Raw bytes to the server, and what it answered (the status line's code).
int raw_status(TestNetns& ns, int port, const std::string& request) {
  int status = -1;
  ns.run([&] {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(port);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      char buf[256];
      ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12 && std::string_view(buf, 5) == "HTTP/") status = std::atoi(buf + 9);
    }
    close(fd);
  });
  return status;
}

// A GET /events stream opened inside `ns`: the socket, its head read.
struct Stream {
  int fd = -1;
  std::string seen;  // everything read so far
  std::string why;   // how the last read_until ended without its needle
  ~Stream() {
    if (fd >= 0) close(fd);
  }
  // Reads until `needle` has arrived (at most `seconds`).
  bool read_until(const std::string& needle, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (seen.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return why = "timed out", false;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, int(left.count())) <= 0) return why = "timed out", false;
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n == 0) return why = "closed by the server", false;
      if (n < 0) return why = std::string("recv: ") + std::strerror(errno), false;
      seen.append(buf, std::size_t(n));
    }
    return true;
  }
};

std::unique_ptr<Stream> open_stream(TestNetns& ns, int port) {
  auto s = std::make_unique<Stream>();
  ns.run([&] {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(port);
    if (connect(s->fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      const std::string req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
      (void)!send(s->fd, req.data(), req.size(), MSG_NOSIGNAL);
    } else {
      s->why = std::string("connect: ") + std::strerror(errno);
    }
  });
  return s;
}

// The value of the first sample whose line starts with `prefix` (-1: none).
double sample(const std::string& metrics, const std::string& prefix) {
  for (const auto& line : lines(metrics)) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

std::vector<std::string> in_ns(const TestNetns& ns, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"ip", "netns", "exec", ns.name()});
  return argv;
}

// A namespace with a 10-port ephemeral range, a listener on 127.0.0.1:8000 and
// 7 connections to it held open: 7 of 10 ports toward that destination.
class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ns_ = std::make_unique<TestNetns>("sockscope-serve-");
    if (!ns_->why_not().empty()) GTEST_SKIP() << ns_->why_not();
    ns_->run([&] {
      listener_ = hold_ephemeral_ports(7, held_);
      udp_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // a UDP port served: mdns
      sockaddr_in u = loopback(5353);
      ASSERT_EQ(bind(udp_, reinterpret_cast<sockaddr*>(&u), sizeof u), 0);
    });
  }
  void TearDown() override {
    server_.reset();
    for (int fd : held_) close(fd);
    if (listener_ >= 0) close(listener_);
    if (udp_ >= 0) close(udp_);
  }
  // Starts `sockscope serve ARGS` in the namespace and waits until it listens.
  void start(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{SOCKSCOPE_BINARY, "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    server_ = std::make_unique<Background>(in_ns(*ns_, argv));
    ASSERT_TRUE(server_->wait_for_stderr("serving on", 20)) << server_->err();
  }
  Reply get(const std::string& path) { return testing::get(*ns_, "127.0.0.1", 9846, path); }

  std::unique_ptr<TestNetns> ns_;
  std::unique_ptr<Background> server_;
  int listener_ = -1, udp_ = -1;
  std::vector<int> held_;
};

TEST_F(ServeTest, HealthzAndMetricsPassPromtool) {
  start();
  Reply health = get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  Reply metrics = get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("sockscope_build_info{version="), std::string::npos);
  EXPECT_NE(metrics.body.find("sockscope_ephemeral_ports_used{local_address=\"127.0.0.1\","
                              "remote=\"127.0.0.1:8000\",transport=\"tcp\"} 7"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("sockscope_listener_accept_queue_max_length{address=\"127.0.0.1\","
                              "port=\"8000\",service=\"irdmi\",transport=\"tcp\"} 16"),
            std::string::npos)
      << metrics.body;
  // Every listening port, TCP and UDP, has its info series.
  EXPECT_NE(metrics.body.find("sockscope_listener_info{address=\"127.0.0.1\",port=\"8000\","
                              "service=\"irdmi\",transport=\"tcp\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("sockscope_listener_info{address=\"127.0.0.1\",port=\"5353\","
                              "service=\"mdns\",transport=\"udp\"} 1"),
            std::string::npos)
      << metrics.body;
  auto check = run_command({"promtool", "check", "metrics"}, 30, metrics.body);
  if (check.exit_code == -1 && check.err.find("spawn failed") != std::string::npos) {
    GTEST_SKIP() << "promtool not installed";
  }
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

// /api/* answers the records of the CLI's --json, run in the same namespace.
TEST_F(ServeTest, ApiEqualsTheCliJson) {
  start();
  auto cli = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "--json", "ephemeral"}));
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto expected = json_lines(cli.out);
  auto served = json_lines(get("/api/ephemeral").body);
  ASSERT_GE(expected.size(), 2u) << cli.out;
  ASSERT_GE(served.size(), 2u);
  // The fullest destination (the held connections) is the same record. (The
  // client asking holds a port toward the server: a destination of its own.)
  EXPECT_EQ(served[0], expected[0]);
  EXPECT_EQ(served[0]["remote"]["port"], 8000);
  EXPECT_EQ(served[0]["used"], 7);
  EXPECT_EQ(served[0]["capacity"], 10);
  EXPECT_EQ(served.back()["kind"], "bind_pool");
  for (const char* field : {"kind", "capacity", "bind_held", "range", "reserved"}) {
    EXPECT_EQ(served.back()[field], expected.back()[field]) << field;
  }

  auto listen = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "--json", "listen"}));
  ASSERT_EQ(listen.exit_code, 0) << listen.err;
  auto listeners = json_lines(get("/api/listeners").body);
  auto cli_listeners = json_lines(listen.out);
  // The server's own listener is there too; compare the test's.
  auto find_8000 = [](const std::vector<json>& v) {
    for (const auto& j : v) {
      if (j["local"]["port"] == 8000) return j;
    }
    return json();
  };
  EXPECT_EQ(find_8000(listeners), find_8000(cli_listeners));
  EXPECT_FALSE(find_8000(listeners).is_null());
  EXPECT_FALSE(find_8000(listeners).contains("processes"));  // owners only with -p

  auto sockets = json_lines(get("/api/sockets").body);
  std::size_t to_8000 = 0;
  for (const auto& j : sockets) to_8000 += j["remote"].is_object() && j["remote"]["port"] == 8000;
  EXPECT_EQ(to_8000, 7u);

  auto overview = json_lines(get("/api/overview").body);
  ASSERT_FALSE(overview.empty());
  EXPECT_EQ(overview.back()["kind"], "summary");
}

TEST_F(ServeTest, OwnersOnlyWithProcessesFlag) {
  start({"-p"});
  json listener;
  for (const auto& j : json_lines(get("/api/listeners").body)) {
    if (j["local"]["port"] == 8000) listener = j;
  }
  ASSERT_TRUE(listener.contains("processes")) << listener.dump();
  ASSERT_EQ(listener["processes"].size(), 1u) << listener.dump();
  EXPECT_EQ(listener["processes"][0]["pid"], int(::getpid()));
}

TEST_F(ServeTest, BadRequestsAreRefusedAndServingGoesOn) {
  start();
  Reply unknown = get("/no/such/path");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no such path: /no/such/path"), std::string::npos);
  EXPECT_EQ(raw_status(*ns_, 9846, "GARBAGE\r\n\r\n"), 400);
  EXPECT_EQ(raw_status(*ns_, 9846,
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
                           "\r\n\r\n"),
            400);
  EXPECT_EQ(raw_status(*ns_, 9846, "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\n\r\n"), 414);
  EXPECT_EQ(
      raw_status(*ns_, 9846, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
      413);
  EXPECT_EQ(raw_status(*ns_, 9846, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_TRUE(server_->running());
}

TEST_F(ServeTest, RemoteNeedsAllowRemoteAndIsRateLimited) {
  auto refused = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "serve", "--listen", "0.0.0.0:9846"}));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--allow-remote"), std::string::npos) << refused.err;
  ASSERT_EQ(
      run_command({"ip", "-n", ns_->name(), "addr", "add", "192.0.2.1/24", "dev", "lo"}).exit_code,
      0);
  start({"--listen", "192.0.2.1:9846", "--allow-remote"});
  int ok = 0, limited = 0;
  ns_->run([&] {
    httplib::Client client("192.0.2.1", 9846);
    client.set_connection_timeout(5);
    client.set_keep_alive(true);  // 10 ephemeral ports here: no TIME-WAIT per request
    for (int i = 0; i < 30; ++i) {
      auto res = client.Get("/healthz");
      if (res && res->status == 200) ++ok;
      if (res && res->status == 429) ++limited;
    }
  });
  // A burst of 20, then about 5 a second: the 30 requests take well under 2 s.
  EXPECT_GE(ok, 20);
  EXPECT_LE(ok, 29);
  EXPECT_EQ(ok + limited, 30);
}

// /events streams the connection log; a third stream beyond the limit of 2 gets
// 503 while the others go on; the closes are counted in /metrics.
TEST_F(ServeTest, EventsStreamTheConnectionLogAndAreLimited) {
  start({"--max-event-clients", "2"});
  auto first = open_stream(*ns_, 9846);
  auto second = open_stream(*ns_, 9846);
  ASSERT_TRUE(first->read_until("text/event-stream", 10)) << first->why << ": " << first->seen;
  ASSERT_TRUE(second->read_until("text/event-stream", 10))
      << second->why << ": " << second->seen << "\nserver: " << server_->err();
  EXPECT_EQ(first->seen.rfind("HTTP/1.1 200", 0), 0u) << first->seen;
  EXPECT_EQ(raw_status(*ns_, 9846, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"), 503);
  EXPECT_EQ(get("/healthz").status, 200);  // still serving beside the streams

  // One connection to a new listener: 5 bytes from the client, then both close.
  ns_->run([] { exchange_and_close(8001, false); });
  ASSERT_TRUE(first->read_until("\"sent_bytes\":5", 15)) << first->seen;
  EXPECT_NE(first->seen.find("event: close\ndata: {"), std::string::npos) << first->seen;
  EXPECT_TRUE(second->read_until("\"sent_bytes\":5", 15)) << second->seen;

  // The client's close counted with its 5 bytes, under the service the event
  // named; the server side received them.
  json close_event;
  for (const auto& line : lines(first->seen)) {
    if (line.rfind("data: ", 0) != 0) continue;
    json j = json::parse(line.substr(6), nullptr, false);
    if (!j.is_discarded() && j["event"] == "close" && j["remote"]["port"] == 8001) close_event = j;
  }
  ASSERT_FALSE(close_event.is_null()) << first->seen;
  EXPECT_EQ(close_event["role"], "client");
  EXPECT_EQ(close_event["sent_bytes"], 5);
  const std::string service =
      close_event["service"].is_string() ? close_event["service"].get<std::string>() : "";
  const std::string labels = "{role=\"client\",service=\"" + service + "\",transport=\"tcp\"}";
  const std::string server_labels =
      "{role=\"server\",service=\"" + service + "\",transport=\"tcp\"}";
  double sent = -1, received = -1, closed = -1;
  for (int i = 0; i < 50 && (sent < 5 || received < 5); ++i) {
    const std::string m = get("/metrics").body;
    sent = sample(m, "sockscope_connection_sent_bytes_total" + labels);
    received = sample(m, "sockscope_connection_received_bytes_total" + server_labels);
    closed = sample(m, "sockscope_connections_closed_total" + labels);
    if (sent < 5 || received < 5) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sent, 5);
  EXPECT_EQ(received, 5);
  EXPECT_EQ(closed, 1);
  // Once a stream ends, a new one is let in.
  first.reset();
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    auto third = open_stream(*ns_, 9846);
    admitted = third->read_until("HTTP/1.1 200", 2);
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(admitted);
}

// A real Prometheus scrapes the server; PromQL's ratio equals `ephemeral --json`.
TEST_F(ServeTest, PrometheusScrapesAndAgreesWithTheCli) {
  if (run_command({"prometheus", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "prometheus not installed (Debian prometheus)";
  }
  start();
  const std::string dir = "/tmp/sockscope-prom-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n"
                                         << "scrape_configs:\n  - job_name: sockscope\n"
                                         << "    static_configs:\n"
                                         << "      - targets: ['127.0.0.1:9846']\n";
  Background prom(
      in_ns(*ns_, {"prometheus", "--config.file=" + dir + "/prometheus.yml",
                   "--storage.tsdb.path=" + dir + "/data", "--web.listen-address=127.0.0.1:9090"}));
  auto query = [&](const std::string& promql) {
    Reply r = testing::get(*ns_, "127.0.0.1", 9090,
                           "/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["data"]["result"].empty()) return json();
    return j["data"]["result"][0];
  };
  json up;
  for (int i = 0; i < 60 && (up.is_null() || up["value"][1] != "1"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    up = query("up{job=\"sockscope\"}");
  }
  ASSERT_FALSE(up.is_null()) << prom.err();
  EXPECT_EQ(up["value"][1], "1");

  auto cli = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "--json", "ephemeral"}));
  auto records = json_lines(cli.out);
  ASSERT_FALSE(records.empty());
  const json& fullest = records[0];
  ASSERT_EQ(fullest["remote"]["port"], 8000);
  const double expected = fullest["used"].get<double>() / fullest["capacity"].get<double>();
  EXPECT_DOUBLE_EQ(expected, 0.7);
  json ratio = query(
      "sockscope_ephemeral_ports_used{remote=\"127.0.0.1:8000\"} / "
      "sockscope_ephemeral_ports_capacity{remote=\"127.0.0.1:8000\"}");
  ASSERT_FALSE(ratio.is_null());
  EXPECT_DOUBLE_EQ(std::stod(ratio["value"][1].get<std::string>()), expected);
  json max_ratio = query("sockscope_ephemeral_utilization_max_ratio{transport=\"tcp\"}");
  ASSERT_FALSE(max_ratio.is_null());
  EXPECT_DOUBLE_EQ(std::stod(max_ratio["value"][1].get<std::string>()),
                   fullest["utilization_pct"].get<double>() / 100.0);
  prom.stop();
  std::filesystem::remove_all(dir);
}

// --all-netns: every namespace's ephemeral families, each with a netns label (the
// test's namespace by its name: 7 of its 10 ports toward 127.0.0.1:8000), the
// namespace the command runs in among them, and the same namespaces in `ephemeral`'s
// JSON and table; without it, no netns label or field.
TEST_F(ServeTest, AllNetnsGivesEachNamespacesEphemeralPorts) {
  auto all = run_sockscope({"--all-netns", "--format", "prometheus", "ephemeral"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const std::string ns = "netns=\"" + ns_->name() + "\"";
  EXPECT_NE(
      all.out.find("sockscope_ephemeral_utilization_max_ratio{" + ns + ",transport=\"tcp\"} 0.7\n"),
      std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("sockscope_ephemeral_ports_used{local_address=\"127.0.0.1\"," + ns +
                         ",remote=\"127.0.0.1:8000\",transport=\"tcp\"} 7\n"),
            std::string::npos);
  EXPECT_NE(all.out.find("sockscope_ephemeral_range_ports{bound=\"low\"," + ns + "} 40000\n"),
            std::string::npos);
  EXPECT_NE(all.out.find("sockscope_bind_pool_ports_capacity{" + ns + "} 10\n"), std::string::npos);
  // The command's own namespace is there too, by its own label (unnamed here).
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0, high = 0;
  range >> low >> high;
  struct stat self {};
  ASSERT_EQ(stat("/proc/self/ns/net", &self), 0);
  EXPECT_NE(all.out.find("sockscope_ephemeral_range_ports{bound=\"high\",netns=\"net:[" +
                         std::to_string(self.st_ino) + "]\"} " + std::to_string(high) + "\n"),
            std::string::npos)
      << all.out;
  auto check = run_command({"promtool", "check", "metrics"}, 30, all.out);
  if (check.err.find("spawn failed") == std::string::npos) {
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
  // The command's JSON and table: the same namespaces, each with its own range.
  auto json = run_sockscope({"--all-netns", "--json", "ephemeral"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  int destinations = 0, pools = 0;
  for (const auto& r : json_lines(json.out)) {
    if (r.value("netns", "") != ns_->name()) continue;
    if (r["kind"] == "destination") {
      ++destinations;
      EXPECT_EQ(r["remote"]["port"], 8000);
      EXPECT_EQ(r["used"], 7);
      EXPECT_EQ(r["capacity"], 10);
    } else if (r["kind"] == "bind_pool") {
      ++pools;
      EXPECT_EQ(r["range"], "40000-40009");
      EXPECT_EQ(r["used"], 7);
    }
  }
  EXPECT_EQ(destinations, 1) << json.out;
  EXPECT_EQ(pools, 1);
  auto table = run_sockscope({"--all-netns", "ephemeral", "--threshold", "60"});
  EXPECT_EQ(table.exit_code, 4) << table.err;  // the test's namespace is 70% used
  EXPECT_NE(table.out.find("ephemeral ports in network namespace " + ns_->name() + "\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.err.find("threshold 60% reached: network namespace " + ns_->name() +
                           ": tcp 127.0.0.1 -> 127.0.0.1:8000 is 70% used (7 of 10 ports)"),
            std::string::npos)
      << table.err;
  auto here = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "--json", "ephemeral"}));
  ASSERT_EQ(here.exit_code, 0) << here.err;
  EXPECT_EQ(here.out.find("\"netns\""), std::string::npos) << here.out;
  // The server's own namespace only: no label.
  auto one = run_command(in_ns(*ns_, {SOCKSCOPE_BINARY, "--format", "prometheus", "ephemeral"}));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("sockscope_ephemeral_utilization_max_ratio{transport=\"tcp\"} 0.7\n"),
            std::string::npos)
      << one.out;
  EXPECT_EQ(one.out.find("netns="), std::string::npos);
}

TEST(ServeFormat, PrometheusFormatOfTheCommands) {
  auto eph = run_sockscope({"--format", "prometheus", "ephemeral"});
  ASSERT_EQ(eph.exit_code, 0) << eph.err;
  EXPECT_NE(eph.out.find("# TYPE sockscope_ephemeral_utilization_max_ratio gauge"),
            std::string::npos);
  EXPECT_EQ(eph.out.find("sockscope_listener_"), std::string::npos);
  auto listen = run_sockscope({"listen", "--format", "prometheus"});
  ASSERT_EQ(listen.exit_code, 0) << listen.err;
  EXPECT_NE(listen.out.find("# TYPE sockscope_listener_accept_queue_length gauge"),
            std::string::npos);
  auto all = run_sockscope({"--format", "prometheus", "--no-processes"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("sockscope_sockets{"), std::string::npos);
  auto wrong = run_sockscope({"--format", "prometheus", "port", "80"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("not of port"), std::string::npos) << wrong.err;
  auto check = run_command({"promtool", "check", "metrics"}, 30, all.out);
  if (check.err.find("spawn failed") == std::string::npos) {
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
}

}  // namespace
}  // namespace sockscope::testing
