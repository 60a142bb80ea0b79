// The sock_diag decoder on messages built here field by field (the values are
// the test's own), and on cut and lying lengths: an error naming the offset.
#include "host/diag_message.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace sockscope::host_detail {
namespace {

void put(std::vector<std::uint8_t>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  out.insert(out.end(), b, b + n);
  while (out.size() % 4) out.push_back(0);
}

void put_attr(std::vector<std::uint8_t>& out, std::uint16_t type, const void* p, std::size_t n) {
  nlattr a{std::uint16_t(sizeof(nlattr) + n), type};
  put(out, &a, sizeof a);
  put(out, p, n);
}

// A TCP destroy notification as the kernel builds it: header, message, protocol, tcp_info.
std::vector<std::uint8_t> tcp_destroy(std::uint64_t cookie, std::size_t info_size) {
  std::vector<std::uint8_t> body;
  inet_diag_msg m{};
  m.idiag_family = AF_INET;
  m.idiag_state = 7;
  m.id.idiag_sport = htons(40000);
  m.id.idiag_dport = htons(8080);
  m.id.idiag_src[0] = htonl(0x7f000001);
  m.id.idiag_dst[0] = htonl(0x7f000002);
  m.id.idiag_cookie[0] = std::uint32_t(cookie);
  m.id.idiag_cookie[1] = std::uint32_t(cookie >> 32);
  put(body, &m, sizeof m);
  const std::uint8_t proto = IPPROTO_TCP;
  put_attr(body, INET_DIAG_PROTOCOL, &proto, 1);
  tcp_info info{};
  info.tcpi_bytes_acked = 1001;
  info.tcpi_bytes_received = 2002;
  info.tcpi_segs_out = 7;
  info.tcpi_segs_in = 9;
  info.tcpi_total_retrans = 3;
  info.tcpi_bytes_sent = 1100;
  info.tcpi_bytes_retrans = 100;
  put_attr(body, INET_DIAG_INFO, &info, info_size);
  nlmsghdr h{std::uint32_t(sizeof(nlmsghdr) + body.size()), SOCK_DIAG_BY_FAMILY, 0, 0, 0};
  std::vector<std::uint8_t> out;
  put(out, &h, sizeof h);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(DiagMessage, DecodesEveryFieldOfATcpDestroy) {
  const auto bytes = tcp_destroy(0x123456789abcull, sizeof(tcp_info));
  std::vector<DiagMessage> got;
  auto n = parse_diag_messages(bytes, [&](const DiagMessage& m) { got.push_back(m); });
  ASSERT_TRUE(n) << n.error().what();
  ASSERT_EQ(*n, 1u);
  const DiagMessage& m = got.at(0);
  EXPECT_EQ(m.cookie, 0x123456789abcull);
  EXPECT_EQ(m.sport, 40000);
  EXPECT_EQ(m.dport, 8080);
  EXPECT_EQ(m.src[0], 127);
  EXPECT_EQ(m.dst[3], 2);
  EXPECT_EQ(m.protocol, IPPROTO_TCP);
  ASSERT_TRUE(m.tcp);
  EXPECT_EQ(m.tcp->bytes_acked, 1001u);
  EXPECT_EQ(m.tcp->bytes_received, 2002u);
  EXPECT_EQ(m.tcp->segs_out, 7u);
  EXPECT_EQ(m.tcp->segs_in, 9u);
  EXPECT_EQ(m.tcp->total_retrans, 3u);
  EXPECT_EQ(m.tcp->bytes_sent, 1100u);
  EXPECT_TRUE(m.tcp->has_bytes_sent);
}

TEST(DiagMessage, AnOlderKernelsShorterTcpInfoLeavesTheNewCountersUnset) {
  const auto bytes = tcp_destroy(1, offsetof(tcp_info, tcpi_bytes_sent));
  std::vector<DiagMessage> got;
  ASSERT_TRUE(parse_diag_messages(bytes, [&](const DiagMessage& m) { got.push_back(m); }));
  ASSERT_TRUE(got.at(0).tcp);
  EXPECT_EQ(got[0].tcp->segs_in, 9u);
  EXPECT_FALSE(got[0].tcp->has_bytes_sent);
  EXPECT_EQ(got[0].tcp->bytes_sent, 0u);
}

TEST(DiagMessage, CutAndLyingLengthsAreErrorsNamingTheOffset) {
  auto two = tcp_destroy(1, sizeof(tcp_info));
  const std::size_t first = two.size();
  const auto second = tcp_destroy(2, sizeof(tcp_info));
  two.insert(two.end(), second.begin(), second.end());
  two.resize(two.size() - 10);  // the second message cut
  std::size_t delivered = 0;
  auto n = parse_diag_messages(two, [&](const DiagMessage&) { ++delivered; });
  ASSERT_FALSE(n);
  EXPECT_EQ(delivered, 1u);
  EXPECT_NE(n.error().message.find("at byte " + std::to_string(first)), std::string::npos)
      << n.error().message;
  // An attribute longer than its message.
  auto lying = tcp_destroy(3, 8);
  lying[sizeof(nlmsghdr) + sizeof(inet_diag_msg)] = 0xff;
  EXPECT_FALSE(parse_diag_messages(lying, [](const DiagMessage&) {}));
}

}  // namespace
}  // namespace sockscope::host_detail
