// `sockscope watch --ipfix`: a loopback connection this test makes and closes is
// exported with the client first, its segments as packets and the bytes each side
// wrote (plus 40 bytes of headers a segment), read back from the IPFIX file.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "ipfix/decoder.hpp"
#include "support/run_command.hpp"

namespace sockscope {
namespace {

std::uint16_t port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

// A connection on loopback: the client writes `up` bytes, the server `down`; both close.
std::pair<std::uint16_t, std::uint16_t> talk(std::size_t up, std::size_t down) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  ::listen(listener, 1);
  sa.sin_port = htons(port_of(listener));
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  const int server = ::accept(listener, nullptr, nullptr);
  std::vector<char> buf(std::max(up, down), 'x');
  ::send(client, buf.data(), up, 0);
  for (std::size_t got = 0; got < up;)
    got += std::size_t(std::max<ssize_t>(1, ::recv(server, buf.data(), up - got, 0)));
  ::send(server, buf.data(), down, 0);
  for (std::size_t got = 0; got < down;)
    got += std::size_t(std::max<ssize_t>(1, ::recv(client, buf.data(), down - got, 0)));
  const std::pair<std::uint16_t, std::uint16_t> ports{port_of(client), port_of(listener)};
  ::close(client);
  ::close(server);
  ::close(listener);
  return ports;
}

TEST(IpfixWatch, ClosedConnectionsAreExportedClientFirst) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("sockscope-watch-" + std::to_string(::getpid()) + ".ipfix");
  testing::CommandResult r;
  std::thread watch([&] {
    r = testing::run_sockscope(
        {"watch", "--tcp", "--json", "--duration", "4", "--ipfix", "file:" + file.string()}, 30);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past its baseline dump
  const auto [client_port, server_port] = talk(1000, 5000);
  watch.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("IPFIX: "), std::string::npos) << r.err;
  std::ifstream in(file, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove(file);
  ipfix::Decoder d;
  ASSERT_TRUE(d.decode(bytes));
  // Both sockets close on this host: each side's close gives the client's record first.
  std::size_t ups = 0, downs = 0;
  for (std::size_t i = 0; i < d.records.size(); ++i) {
    const auto& rec = d.records[i];
    const auto src = rec.get(7), dst = rec.get(11);
    if (src == client_port && dst == server_port) {
      ++ups;
      EXPECT_EQ(rec.get(1) - 40 * rec.get(2), 1000u);
      ASSERT_LT(i + 1, d.records.size());
      EXPECT_EQ(d.records[i + 1].get(7), server_port);  // then the server's direction
      EXPECT_EQ(d.records[i + 1].get(1) - 40 * d.records[i + 1].get(2), 5000u);
    }
    downs += src == server_port && dst == client_port;
  }
  EXPECT_EQ(ups, 2u);
  EXPECT_EQ(downs, 2u);
}

// A connected UDP socket's close: the kernel keeps no counters for it, so its one
// record carries the pair and zero counts, and the summary says how many such
// closes went out (and the events lost, none here).
TEST(IpfixWatch, UdpClosesAreExportedWithZeroCounts) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("sockscope-watch-udp-" + std::to_string(::getpid()) + ".ipfix");
  testing::CommandResult r;
  std::thread watch([&] {
    r = testing::run_sockscope(
        {"watch", "--udp", "--json", "--duration", "4", "--ipfix", "file:" + file.string()}, 30);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past its baseline dump
  const int server = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(server, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  sa.sin_port = htons(port_of(server));
  const int client = ::socket(AF_INET, SOCK_DGRAM, 0);
  ::connect(client, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  ::send(client, "ping", 4, 0);
  char buf[8];
  ::recv(server, buf, sizeof(buf), 0);
  const std::uint16_t client_port = port_of(client), server_port = port_of(server);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // seen open by a re-dump
  ::close(client);
  ::close(server);
  watch.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("closes without counters"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("events lost 0"), std::string::npos) << r.err;
  std::ifstream in(file, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove(file);
  ipfix::Decoder d;
  ASSERT_TRUE(d.decode(bytes));
  std::size_t found = 0;
  for (const auto& rec : d.records) {
    if (rec.get(7) != client_port || rec.get(11) != server_port) continue;
    ++found;
    EXPECT_EQ(rec.get(4), 17u);
    EXPECT_EQ(rec.get(2), 0u);
    EXPECT_EQ(rec.get(1), 0u);
    EXPECT_EQ(rec.get(136), 3u);  // end of flow: the socket closed
  }
  EXPECT_EQ(found, 1u);
}

}  // namespace
}  // namespace sockscope
