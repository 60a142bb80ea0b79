// The live page in a real browser: `sockscope serve -p` in a network namespace
// the test makes (10 ephemeral ports, a listener on 127.0.0.1:8000 with 7
// connections held and never accepted), headless Chromium in the same namespace
// loads http://127.0.0.1:9846/, and the DOM is checked against what the test set
// up: the listener's row, the exhaustion gauge (7 of 10 ports: 70%), the graph's
// pair, and a connection the test closes arriving on the event feed; no
// JavaScript error, no horizontal scrolling at 1280x800 and 390x844; beyond its
// cap of 300 nodes the graph lists the rest in a table.
// Screenshots are kept in the build folder (SOCKSCOPE_PAGE_ARTIFACTS).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "support/background.hpp"
#include "support/headless_browser.hpp"
#include "support/loopback_sockets.hpp"
#include "support/test_netns.hpp"

namespace sockscope::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The cards something sticks out of (their content is wider than they are:
// tables scroll inside boxes of their own, the graph's SVG clips its content).
constexpr const char* kOutOfCards =
    "[...document.querySelectorAll('.card')]"
    ".filter(c => c.scrollWidth > c.clientWidth).map(c => c.id)";

// A quoted JavaScript string.
std::string js(const std::string& s) { return nlohmann::json(s).dump(); }

// The text of the first element matching `selector` ("" when none).
std::string text_of(HeadlessBrowser& b, const std::string& selector) {
  auto v = b.evaluate("(document.querySelector(" + js(selector) + ") || {}).textContent || ''");
  return v.is_string() ? v.get<std::string>() : "";
}

std::string attribute(HeadlessBrowser& b, const std::string& selector, const std::string& name) {
  auto v = b.evaluate("(document.querySelector(" + js(selector) + ") || {getAttribute() {}})" +
                      ".getAttribute(" + js(name) + ") || ''");
  return v.is_string() ? v.get<std::string>() : "";
}

std::string artifacts() {
  std::filesystem::create_directories(SOCKSCOPE_PAGE_ARTIFACTS);
  return SOCKSCOPE_PAGE_ARTIFACTS;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class PageBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HeadlessBrowser::installed()) GTEST_SKIP() << "chromium not installed";
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    ns_ = std::make_unique<TestNetns>("sockscope-page-");
    if (!ns_->why_not().empty()) GTEST_SKIP() << ns_->why_not();
    ns_->run([&] { listener_ = hold_ephemeral_ports(7, held_); });
    server_ = std::make_unique<Background>(std::vector<std::string>{
        "ip", "netns", "exec", ns_->name(), SOCKSCOPE_BINARY, "serve", "-p"});
    ASSERT_TRUE(server_->wait_for_stderr("serving on", 20)) << server_->err();
  }
  void TearDown() override {
    server_.reset();
    for (int fd : held_) close(fd);
    if (listener_ >= 0) close(listener_);
  }
  std::vector<std::string> in_ns() const { return {"ip", "netns", "exec", ns_->name()}; }

  std::unique_ptr<TestNetns> ns_;
  std::unique_ptr<Background> server_;
  int listener_ = -1;
  std::vector<int> held_;
};

TEST_F(PageBrowserTest, ShowsTheNamespaceAndItsEvents) {
  const std::string dir = artifacts();
  const auto started = Clock::now();
  HeadlessBrowser browser(in_ns(), dir + "/chromium.log");
  ASSERT_EQ(browser.why_not(), "");
  ASSERT_TRUE(browser.open("http://127.0.0.1:9846/", 1280, 800));
  const double browser_up = seconds_since(started);

  // The listeners table: the test's listener with its 7 waiting connections,
  // owned by this test's process (-p).
  const std::string row = "#listeners tr[data-transport='tcp'][data-port='8000']";
  ASSERT_TRUE(browser.wait_until("document.querySelector(" + js(row) + ") !== null", 60))
      << text_of(browser, "#status") << "\n"
      << text_of(browser, "#errors");
  const double first_data = seconds_since(started);
  const std::string listener = text_of(browser, row);
  EXPECT_NE(listener.find("8000/tcp"), std::string::npos) << listener;
  EXPECT_NE(listener.find("irdmi"), std::string::npos) << listener;
  EXPECT_NE(listener.find("7 ESTAB"), std::string::npos) << listener;
  EXPECT_EQ(text_of(browser, row + " td.queue"), "7/16");
  EXPECT_NE(listener.find("[" + std::to_string(::getpid()) + "]"), std::string::npos) << listener;

  // The gauge toward 127.0.0.1:8000: 7 of the 10 ports, 70%, none in TIME-WAIT.
  const std::string gauge = ".gauge[data-remote='127.0.0.1:8000']";
  ASSERT_TRUE(browser.wait_until("document.querySelector(" + js(gauge) + ") !== null", 30));
  EXPECT_EQ(attribute(browser, gauge, "data-used"), "7");
  EXPECT_EQ(attribute(browser, gauge, "data-capacity"), "10");
  EXPECT_EQ(attribute(browser, gauge, "data-utilization-pct"), "70");
  EXPECT_EQ(text_of(browser, gauge + " .how"), "7 of 10 ports (70%), 0 in TIME-WAIT (0% of used)");
  EXPECT_EQ(attribute(browser, gauge + " .gauge-track", "aria-valuenow"), "7");
  // The host's range beside IANA's.
  EXPECT_NE(text_of(browser, "[data-range='host']").find("40000-40009 (10 ports)"),
            std::string::npos);
  EXPECT_NE(text_of(browser, "[data-range='iana']").find("49152-65535 (16,384 ports)"),
            std::string::npos);

  // The graph: the listener's node, and a line from it to the remote host with
  // the 7 connections (accepted side).
  ASSERT_TRUE(browser.wait_until(
      "document.querySelector(\"#graph g.node[data-key='L|tcp|8000']\") !== null", 30));
  EXPECT_EQ(browser.evaluate("[...document.querySelectorAll('#graph line.edge')]"
                             ".filter(l => l.dataset.source === 'L|tcp|8000')"
                             ".map(l => l.dataset.states).join(';')"),
            "7 ESTAB");

  // The event feed: once the stream is live, a connection the test closes
  // arrives as a close row (the client side, 5 bytes sent).
  ASSERT_TRUE(
      browser.wait_until("document.getElementById('feed-state').textContent === 'live'", 30));
  const auto closed_at = Clock::now();
  ns_->run([] { exchange_and_close(8001, true); });
  const std::string close_row =
      "#events tr[data-event='close'][data-transport='tcp'][data-remote-port='8001']";
  ASSERT_TRUE(browser.wait_until("document.querySelector(" + js(close_row) + ") !== null", 30))
      << text_of(browser, "#events");
  const double event_latency = seconds_since(closed_at);
  const std::string close_text = text_of(browser, close_row);
  EXPECT_NE(close_text.find("127.0.0.1:8001"), std::string::npos) << close_text;
  EXPECT_NE(close_text.find("client"), std::string::npos) << close_text;

  // Readable at 1280x800: nothing wider than the window.
  EXPECT_EQ(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true);
  EXPECT_EQ(browser.evaluate(kOutOfCards), nlohmann::json::array());
  EXPECT_TRUE(browser.screenshot(dir + "/page-1280x800.png"));
  EXPECT_TRUE(browser.screenshot(dir + "/page-1280x800-full.png", true));

  // A phone-sized window: one column, still no horizontal scrolling.
  ASSERT_TRUE(browser.open("http://127.0.0.1:9846/", 390, 844, true));
  ASSERT_TRUE(browser.wait_until("document.querySelector(" + js(row) + ") !== null && " +
                                     "document.querySelector(\"#graph g.node\") !== null",
                                 60));
  EXPECT_EQ(browser.evaluate("window.innerWidth"), 390);
  EXPECT_EQ(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), true);
  EXPECT_EQ(browser.evaluate(kOutOfCards), nlohmann::json::array());
  EXPECT_TRUE(browser.screenshot(dir + "/page-390x844.png"));
  EXPECT_TRUE(browser.screenshot(dir + "/page-390x844-full.png", true));

  // No JavaScript error on either: neither what the page caught nor the browser's
  // log (which also has loads refused by the Content-Security-Policy); every
  // endpoint answered the last poll.
  EXPECT_EQ(text_of(browser, "#errors"), "");
  EXPECT_EQ(text_of(browser, "#status").rfind("updated ", 0), 0u) << text_of(browser, "#status");
  EXPECT_TRUE(browser.errors().empty()) << ::testing::PrintToString(browser.errors());
  std::printf(
      "browser up %.1f s, first data %.1f s, event on the page %.2f s after the close, "
      "whole test %.1f s; screenshots in %s\n",
      browser_up, first_data, event_latency, seconds_since(started), dir.c_str());
}

// 320 connections, each to a remote host of its own (127.0.0.2 on): more nodes
// than the graph's 300. It draws 300, the busiest, and lists the pairs of the
// others (remote hosts with one connection each) in the table below it.
TEST_F(PageBrowserTest, CapsTheGraphAndListsTheRest) {
  constexpr int kHosts = 320;
  std::vector<int> sockets;
  ns_->run([&] {
    const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in any = loopback(8002);
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(listen(l, kHosts), 0);
    sockets.push_back(l);
    for (int i = 0; i < kHosts; ++i) {
      sockaddr_in a = loopback(8002);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + std::uint32_t(i));
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << i;
      sockets.push_back(c);
      sockets.push_back(accept(l, nullptr, nullptr));
    }
  });
  HeadlessBrowser browser(in_ns(), artifacts() + "/chromium-cap.log");
  ASSERT_EQ(browser.why_not(), "");
  ASSERT_TRUE(browser.open("http://127.0.0.1:9846/", 1280, 800));
  ASSERT_TRUE(browser.wait_until("!document.getElementById('beyond').hidden", 60))
      << text_of(browser, "#status") << text_of(browser, "#errors");
  EXPECT_EQ(browser.evaluate("document.querySelectorAll('#graph g.node').length"), 300);
  const std::string note = text_of(browser, "#beyond-note");
  const int hidden = std::atoi(note.c_str());
  EXPECT_GE(hidden, 20) << note;  // 320 remote hosts and the local side's nodes
  EXPECT_EQ(browser.evaluate("document.querySelectorAll('#beyond-table tbody tr').length"), hidden)
      << note;
  // Each row: the test's process, one of its remote hosts, one connection.
  const auto rows = browser.evaluate(
      "[...document.querySelectorAll('#beyond-table tbody tr')].map(r => "
      "[...r.cells].map(c => c.textContent))");
  ASSERT_TRUE(rows.is_array());
  const std::string me = "[" + std::to_string(::getpid()) + "]";
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    EXPECT_NE(row[0].get<std::string>().find(me), std::string::npos) << row.dump();
    EXPECT_EQ(row[1].get<std::string>().rfind("127.0.", 0), 0u) << row.dump();
    EXPECT_EQ(row[3], "1 ESTAB") << row.dump();
  }
  EXPECT_TRUE(browser.screenshot(artifacts() + "/page-capped-1280x800-full.png", true));
  EXPECT_EQ(text_of(browser, "#errors"), "");
  EXPECT_TRUE(browser.errors().empty()) << ::testing::PrintToString(browser.errors());
  for (int fd : sockets) close(fd);
}

}  // namespace
}  // namespace sockscope::testing
