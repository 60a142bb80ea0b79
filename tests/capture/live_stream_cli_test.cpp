// `sockscope conversations` on a live interface and on a pipe, watched while it
// runs: rows must reach the reader as conversations end (not at exit), --duration
// must end a capture on a quiet interface, --report-every must write the open
// ones, and Ctrl-C must write the rest. The traffic is this test's own datagrams
// on loopback between 127.78.x addresses, picked out by a BPF filter; the pipe
// gets a capture written by the test's own writer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/capture_test_util.hpp"

namespace sockscope::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// sockscope as a child process: its stdin and stdout are pipes this test holds,
// so rows can be read the moment they are written.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv_s = {SOCKSCOPE_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    started_ = Clock::now();
  }
  ~Child() {
    close_stdin();
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  bool running() const { return pid_ > 0; }
  void write_stdin(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(stdin_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return;
      done += std::size_t(n);
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  // The next line of stdout, or nullopt when none comes within `seconds` (or at EOF).
  std::optional<std::string> read_line(double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, int(left.count())) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, std::size_t(n));
    }
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }
  void interrupt() { ::kill(pid_, SIGINT); }
  // The exit code (waits at most `seconds`, then kills: -1).
  int wait(double seconds = 20) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        waited_ = true;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  bool waited_ = false;
  std::string buffer_;
  Clock::time_point started_;
};

// UDP datagrams from 127.78.0.1 to 127.78.0.2:<port>, every `period` until stopped.
class Sender {
 public:
  Sender(std::uint16_t dport, std::chrono::milliseconds period) : dport_(dport) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f4e0001);  // 127.78.0.1
    ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    sport_ = ntohs(local.sin_port);
    thread_ = std::thread([this, period] {
      sockaddr_in peer{};
      peer.sin_family = AF_INET;
      peer.sin_addr.s_addr = htonl(0x7f4e0002);  // 127.78.0.2
      peer.sin_port = htons(dport_);
      const char payload[50] = {};
      for (int i = 0; i < 600 && !stop_; ++i) {
        ::sendto(fd_, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
        ++sent_;
        std::this_thread::sleep_for(period);
      }
    });
  }
  ~Sender() {
    stop();
    ::close(fd_);
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The BPF filter for exactly this sender's datagrams.
  std::string filter() const {
    return "udp and src host 127.78.0.1 and src port " + std::to_string(sport_) + " and dst port " +
           std::to_string(dport_);
  }
  int sent() const { return sent_; }

 private:
  int fd_ = -1;
  std::uint16_t sport_ = 0, dport_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

class LiveStreamCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "live capture needs root (CAP_NET_RAW)";
  }
};

// --duration ends the capture on time although no packet ever comes (a blocking
// libpcap read with TPACKET_V3 waits for the first packet, whatever its timeout).
TEST_F(LiveStreamCliTest, DurationEndsAQuietCapture) {
  Child c({"conv", "-i", "lo", "-f", "udp and host 127.78.255.255", "--duration", "1"});
  ASSERT_TRUE(c.running());
  EXPECT_EQ(c.wait(10), 1) << "no conversation, ended by --duration";
  EXPECT_LT(c.seconds(), 10);
}

// A conversation that went silent is written when its timeout passes, while the
// capture goes on: a reader sees it long before the capture ends.
TEST_F(LiveStreamCliTest, JsonRowsComeOutAsConversationsEnd) {
  Sender s(39901, std::chrono::milliseconds(50));
  Child c({"--json", "conv", "-i", "lo", "-f", s.filter(), "--timeout", "1", "--duration", "12"});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  s.stop();  // silent from here: ends after 1 s of silence, by the clock
  const auto line = c.read_line(8);
  ASSERT_TRUE(line) << "no row within 8 s of the silence";
  EXPECT_LT(c.seconds(), 11) << "written before the capture ended";
  const json row = json::parse(*line);
  EXPECT_EQ(row["transport"], "udp");
  EXPECT_EQ(row["server"]["port"], 39901);
  EXPECT_FALSE(row.contains("open"));
  EXPECT_GE(row["client_packets"].get<int>(), 1);
  EXPECT_LE(row["client_packets"].get<int>(), s.sent());
  c.interrupt();
  EXPECT_EQ(c.wait(10), 0);
}

// --report-every: a conversation that goes on is written while open (marked, counts
// growing), then once more when it ends; Ctrl-C ends the capture and writes it.
TEST_F(LiveStreamCliTest, ReportEveryAndCtrlCWriteOpenConversations) {
  Sender s(39902, std::chrono::milliseconds(50));
  Child c({"--json", "conv", "-i", "lo", "-f", s.filter(), "--report-every", "0.5", "--duration",
           "30"});
  std::vector<json> open_rows;
  while (open_rows.size() < 3) {
    const auto line = c.read_line(10);
    ASSERT_TRUE(line) << "no open report within 10 s";
    open_rows.push_back(json::parse(*line));
  }
  for (std::size_t i = 0; i < open_rows.size(); ++i) {
    EXPECT_EQ(open_rows[i]["open"], true);
    EXPECT_EQ(open_rows[i]["server"]["port"], 39902);
    if (i) {
      EXPECT_GE(open_rows[i]["client_packets"].get<int>(),
                open_rows[i - 1]["client_packets"].get<int>());
    }
  }
  c.interrupt();  // Ctrl-C: the capture ends, the open conversation is written
  std::optional<json> final_row;
  while (auto line = c.read_line(10)) {
    const json row = json::parse(*line);
    if (!row.contains("open")) final_row = row;
  }
  EXPECT_EQ(c.wait(10), 0);
  ASSERT_TRUE(final_row) << "Ctrl-C wrote the rest";
  EXPECT_EQ((*final_row)["server"]["port"], 39902);
  EXPECT_GE((*final_row)["client_packets"].get<int>(),
            open_rows.back()["client_packets"].get<int>());
}

// `conv -` from a pipe: a conversation that ended (a later packet's time is past
// its timeout) is written at once, while the writer still holds the pipe open.
TEST(PipeStreamCliTest, RowsComeOutWhileThePipeIsOpen) {
  Builder b(CaptureWriter::kPcapMicro);
  for (int i = 0; i < 3; ++i) b.udp(100.0 + i * 0.1, "10.9.0.1", 40000, "10.9.0.2", 53, 20);
  b.udp(200.0, "10.9.0.3", 40001, "10.9.0.4", 53, 20);  // 100 s later: the first has ended
  Child c({"--json", "conv", "-", "--timeout", "10"});
  ASSERT_TRUE(c.running());
  c.write_stdin(b.w.bytes());
  const auto line = c.read_line(10);
  ASSERT_TRUE(line) << "the ended conversation waits for the end of the pipe";
  const json first = json::parse(*line);
  EXPECT_EQ(first["client"]["address"], "10.9.0.1");
  EXPECT_EQ(first["client_packets"], 3);
  c.close_stdin();
  const auto second = c.read_line(10);
  ASSERT_TRUE(second);
  EXPECT_EQ(json::parse(*second)["client"]["address"], "10.9.0.3");
  EXPECT_EQ(c.wait(10), 0);
}

// A file is read in one go: --report-every has nothing to report there.
TEST(PipeStreamCliTest, ReportEveryNeedsALiveCaptureOrAPipe) {
  Child c({"--json", "conv", "--sample", "--report-every", "1"});
  EXPECT_EQ(c.wait(10), 2);
  Child t({"conv", "-i", "lo", "--report-every", "1", "--duration", "1"});
  EXPECT_EQ(t.wait(10), 2) << "the table is written at the end";
}

}  // namespace
}  // namespace sockscope::testing
