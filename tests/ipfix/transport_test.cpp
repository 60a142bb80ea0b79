// The transports on loopback: what arrives on the wire (templates first, their
// refresh, sequence numbers, message sizes against the path MTU), a TCP collector
// that goes away and comes back, and drops counted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <span>
#include <thread>
#include <vector>

#include "ipfix/decoder.hpp"
#include "sockscope/ipfix.hpp"
#include "support/loopback_sockets.hpp"

namespace sockscope {
namespace {

// A loopback socket of `type` bound to a free port (listening for TCP).
int bound_socket(int type, std::uint16_t& port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return -1;
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  port = ntohs(sa.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 4);
  return fd;
}

// Everything readable on `fd` until `done` or 5 s of silence.
std::vector<std::vector<std::uint8_t>> receive(int fd, std::size_t messages) {
  std::vector<std::vector<std::uint8_t>> out;
  std::vector<std::uint8_t> buf(70000);
  for (int polls = 0; out.size() < messages && polls < 1000; ++polls) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    out.emplace_back(buf.begin(), buf.begin() + n);
  }
  return out;
}

FlowRecord v4_record(std::uint64_t i) {
  FlowRecord r;
  r.pair = *SocketPair::parse("udp 127.0.0.1:40000 127.0.0.2:53");
  r.pair.first.port = std::uint16_t(1024 + i % 60000);
  r.packets = i + 1;
  r.octets = 100 * (i + 1);
  return r;
}

TEST(IpfixUdp, TemplatesFirstRefreshedAndMessagesSizedToTheMtu) {
  std::uint16_t port = 0;
  const int rx = bound_socket(SOCK_DGRAM, port);
  ASSERT_GE(rx, 0);
  std::atomic<std::uint64_t> now{1'000'000'000'000'000'000ull};
  IpfixOptions o;
  o.clock = [&] { return now.load(); };
  o.template_refresh = std::chrono::seconds(60);
  std::vector<std::vector<std::uint8_t>> got;
  std::thread reader([&] { got = receive(rx, 5); });
  auto e = IpfixExporter::open("udp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(e) << e.error().what();
  // Loopback's MTU is 65536, more than 9000 - 20 - 8 bytes of IPFIX (the cap for the
  // collectors' buffers): (8972 - 20) / 48 records.
  const std::size_t per_message = (8972 - 20) / 48;
  for (std::size_t i = 0; i < per_message + 1; ++i) (*e)->add(v4_record(i));  // one message out
  now += 61'000'000'000ull;  // past the refresh: templates again before the next message
  for (std::size_t i = per_message + 1; i < 2 * per_message + 10; ++i) (*e)->add(v4_record(i));
  const IpfixStats stats = (*e)->finish();
  reader.join();
  ::close(rx);
  EXPECT_EQ(stats.records, 2 * per_message + 10);
  EXPECT_EQ(stats.messages, 5u);
  EXPECT_EQ(stats.dropped, 0u);
  ASSERT_EQ(got.size(), 5u);
  ipfix::Decoder d;
  const std::size_t templates[] = {4, 0, 4, 0, 0};
  const std::size_t records[] = {0, per_message, 0, per_message, 10};
  const std::uint32_t sequences[] = {0, 0, std::uint32_t(per_message), std::uint32_t(per_message),
                                     std::uint32_t(2 * per_message)};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_LE(got[i].size(), 8972u);
    auto m = d.decode(got[i]);
    ASSERT_TRUE(m) << m.error().what();
    EXPECT_EQ((*m)[0].templates, templates[i]) << i;
    EXPECT_EQ((*m)[0].records, records[i]) << i;
    EXPECT_EQ((*m)[0].sequence, sequences[i]) << i;
  }
  EXPECT_EQ(got[1].size(), 16 + 4 + per_message * 48);
  ASSERT_EQ(d.records.size(), 2 * per_message + 10);
  for (std::size_t i = 0; i < d.records.size(); ++i) ASSERT_EQ(d.records[i].get(2), i + 1);
}

// Datagrams on `fd` until they hold `records` data records (or 5 s of silence):
// each must be one IPFIX message, numbered by the records before it.
std::size_t receive_records(int fd, std::size_t records, std::size_t& bytes) {
  ipfix::Decoder d;
  std::vector<std::uint8_t> buf(70000);
  while (d.records.size() < records) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    bytes += std::size_t(n);
    const std::size_t before = d.records.size();
    auto m = d.decode(std::span(buf.data(), std::size_t(n)));
    EXPECT_TRUE(m && m->size() == 1u);
    if (m && !m->empty()) {
      EXPECT_EQ((*m)[0].sequence, before);
    }
  }
  return d.records.size();
}

// What a paced export of `records` (v4_record) at `rate` delivered, and its time:
// from open() when `idle` is zero, else from the first record, `idle` after open()
// (the records made beforehand, so that they come faster than the pace).
struct PacedExport {
  IpfixStats stats;
  std::size_t received = 0, bytes = 0;
  double seconds = 0;
};
PacedExport paced_export(std::size_t records, std::uint64_t rate, std::chrono::milliseconds idle) {
  PacedExport out;
  std::uint16_t port = 0;
  const int rx = bound_socket(SOCK_DGRAM, port);
  EXPECT_GE(rx, 0);
  const int buffer = 4 << 20;
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  std::vector<FlowRecord> flows;
  for (std::size_t i = 0; i < records; ++i) flows.push_back(v4_record(i));
  std::thread reader([&] { out.received = receive_records(rx, records, out.bytes); });
  IpfixOptions o;
  o.udp_bytes_per_second = rate;
  auto start = std::chrono::steady_clock::now();
  auto e = IpfixExporter::open("udp://127.0.0.1:" + std::to_string(port), o);
  EXPECT_TRUE(e) << e.error().what();
  if (e) {
    if (idle.count()) {
      std::this_thread::sleep_for(idle);
      start = std::chrono::steady_clock::now();
    }
    for (const FlowRecord& r : flows) (*e)->add(r);
    out.stats = (*e)->finish();
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!e) ::shutdown(rx, SHUT_RDWR);
  reader.join();
  ::close(rx);
  return out;
}

// The pace holds however the messages are batched: N bytes at R bytes a second take
// at least (N - burst) / R; and time the sender waited for a core is made up, so
// the export is not much longer either (loosely bounded: the machine may be busy).
TEST(IpfixUdp, APacedExportTakesItsBytesOverTheRate) {
  const std::size_t records = 8'000;  // 48 bytes each: about 385 kB in 44 messages
  const double rate = 1'000'000, burst = 64 * 1024;
  const PacedExport e = paced_export(records, std::uint64_t(rate), std::chrono::milliseconds(0));
  EXPECT_EQ(e.stats.records, records);
  EXPECT_EQ(e.stats.dropped, 0u);
  EXPECT_EQ(e.received, records);
  EXPECT_GT(e.bytes, 350'000u);
  EXPECT_GE(e.seconds, (double(e.bytes) - burst) / rate);
  EXPECT_LT(e.seconds, 3 * double(e.bytes) / rate + 3.0);  // sanitizers, a loaded machine
}

// Credit for a late wake-up reaches 10 ms at the rate (200 kB at 20 MB/s), but a
// sender that was idle starts again with at most 64 kB: records that come after a
// quiet spell are not sent to the collector's buffer all at once.
TEST(IpfixUdp, AfterAnIdleSpellTheBurstIsAtMost64kB) {
  const std::size_t records = 6'000;  // about 290 kB
  const double rate = 20'000'000;
  const PacedExport e = paced_export(records, std::uint64_t(rate), std::chrono::milliseconds(50));
  EXPECT_EQ(e.stats.records, records);
  EXPECT_EQ(e.received, records);
  EXPECT_GE(e.seconds, (double(e.bytes) - 64 * 1024) / rate);
}

// A UDP port with no socket for the exporter's datagrams answers with ICMP port
// unreachable: sends fail with ECONNREFUSED, and those records are counted and the
// error kept, the rest sent (batched sends drop no error the single send reported).
TEST(IpfixUdp, ARefusedCollectorsDropsAreCountedAndTheErrorKept) {
  // A UDP socket bound to the port and connected elsewhere holds it: it takes no
  // datagram from the exporter, and no test running beside this one can bind there.
  std::uint16_t port = 0;
  const int holder = bound_socket(SOCK_DGRAM, port);
  ASSERT_GE(holder, 0);
  sockaddr_in elsewhere = testing::loopback(9);
  ASSERT_EQ(::connect(holder, reinterpret_cast<sockaddr*>(&elsewhere), sizeof(elsewhere)), 0);
  IpfixOptions o;
  o.max_message = 256;  // 4 records a message: 100 messages
  o.udp_bytes_per_second = 0;
  auto e = IpfixExporter::open("udp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(e) << e.error().what();
  for (int i = 0; i < 400; ++i) (*e)->add(v4_record(i));
  const IpfixStats stats = (*e)->finish();
  ::close(holder);
  EXPECT_EQ(stats.records + stats.dropped, 400u);
  EXPECT_GT(stats.dropped, 0u);
  ASSERT_TRUE(stats.error);
  EXPECT_NE(stats.error->what().find("Connection refused"), std::string::npos)
      << stats.error->what();
}

// Reads one TCP connection to its end.
std::vector<std::uint8_t> read_connection(int listener) {
  std::vector<std::uint8_t> all;
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return all;
  const int fd = ::accept(listener, nullptr, nullptr);
  for (auto chunk = receive(fd, 100000); const auto& c : chunk)
    all.insert(all.end(), c.begin(), c.end());
  ::close(fd);
  return all;
}

// Reads from `fd` until what came decodes to `records` data records (at most 5 s).
std::vector<std::uint8_t> read_records(int fd, std::size_t records) {
  std::vector<std::uint8_t> all;
  std::vector<std::uint8_t> buf(70000);
  for (int polls = 0; polls < 1000; ++polls) {
    ipfix::Decoder d;
    if (d.decode(all) && d.records.size() >= records) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    all.insert(all.end(), buf.begin(), buf.begin() + n);
  }
  return all;
}

// The first connection to `listener`, once the collector has read the exporter's
// first 8 records from it (two messages of 4); -1 on failure.
int first_connection_with_eight_records(int listener, IpfixExporter& e) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return -1;
  const int first = ::accept(listener, nullptr, nullptr);
  for (int i = 0; i < 8; ++i) e.add(v4_record(i));
  e.flush();  // sent from the exporter's thread: read until all 8 are here
  ipfix::Decoder got;
  EXPECT_TRUE(got.decode(read_records(first, 8)));
  EXPECT_EQ(got.records.size(), 8u);
  return first;
}

// The second connection holds the templates, then records 9 to 20 (sequence 8 on):
// none of the first connection's again, none lost.
void expect_records_nine_to_twenty(const std::vector<std::uint8_t>& second) {
  ipfix::Decoder d;
  auto m = d.decode(second);
  ASSERT_TRUE(m) << m.error().what();
  ASSERT_GE(m->size(), 2u);
  EXPECT_EQ((*m)[0].templates, 4u);  // templates first on the new connection
  EXPECT_EQ((*m)[0].sequence, (*m)[1].sequence);
  EXPECT_EQ((*m)[1].sequence, 8u);
  ASSERT_EQ(d.records.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(d.records[i].get(2), i + 9);
}

// A TCP exporter to loopback `port`, 4 records a message.
std::unique_ptr<IpfixExporter> tcp_exporter(std::uint16_t port, int reconnect_ms) {
  IpfixOptions o;
  o.max_message = 256;
  o.reconnect_interval = std::chrono::milliseconds(reconnect_ms);
  auto e = IpfixExporter::open("tcp://127.0.0.1:" + std::to_string(port), o);
  EXPECT_TRUE(e) << e.error().what();
  return e ? std::move(*e) : nullptr;
}

// finish(), with the collector reading the next connection to `listener` meanwhile.
std::vector<std::uint8_t> finish_into_next_connection(int listener, IpfixExporter& e,
                                                      IpfixStats& stats) {
  std::vector<std::uint8_t> second;
  std::thread reader([&] { second = read_connection(listener); });
  stats = e.finish();
  reader.join();
  return second;
}

TEST(IpfixTcp, CollectorGoesAwayAndComesBack) {
  std::uint16_t port = 0;
  int listener = bound_socket(SOCK_STREAM, port);
  ASSERT_GE(listener, 0);
  auto e = tcp_exporter(port, 50);
  ASSERT_TRUE(e);
  const int first = first_connection_with_eight_records(listener, *e);
  ASSERT_GE(first, 0);
  ::close(first);
  ::close(listener);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 8; i < 20; ++i) e->add(v4_record(i));  // queued while it is away
  listener = bound_socket(SOCK_STREAM, port);         // and comes back
  ASSERT_GE(listener, 0);
  IpfixStats stats;
  const auto second = finish_into_next_connection(listener, *e, stats);
  ::close(listener);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.reconnects, 1u);
  expect_records_nine_to_twenty(second);  // every record queued while it was away
}

// The collector closes its end between two messages, with everything sent so far
// read: the exporter sees the FIN before its next write, so what it writes after
// goes to the next connection instead of into the closed one.
TEST(IpfixTcp, RecordsAfterTheCollectorClosesGoToTheNextConnection) {
  std::uint16_t port = 0;
  const int listener = bound_socket(SOCK_STREAM, port);
  ASSERT_GE(listener, 0);
  auto e = tcp_exporter(port, 20);
  ASSERT_TRUE(e);
  const int first = first_connection_with_eight_records(listener, *e);
  ASSERT_GE(first, 0);
  ::close(first);                 // a FIN, all read: nothing to reset
  for (int i = 8; i < 20; ++i) {  // one message at a time, at once
    e->add(v4_record(i));
    if (i % 4 == 3) e->flush();
  }
  IpfixStats stats;
  const auto second = finish_into_next_connection(listener, *e, stats);
  ::close(listener);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.records, 20u);
  EXPECT_EQ(stats.reconnects, 1u);
  expect_records_nine_to_twenty(second);  // none written into the closed connection
}

TEST(IpfixTcp, NoCollectorDropsAreCountedAndTheErrorKept) {
  std::uint16_t port = 0;
  const int taken = testing::refusing_port(port);  // held to the end: TCP is refused
  ASSERT_GE(taken, 0);
  IpfixOptions o;
  o.max_message = 256;
  o.queue_records = 8;
  o.finish_timeout = std::chrono::milliseconds(100);
  o.reconnect_interval = std::chrono::milliseconds(20);
  auto e = IpfixExporter::open("tcp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(e);
  for (int i = 0; i < 30; ++i) (*e)->add(v4_record(i));
  const IpfixStats stats = (*e)->finish();
  EXPECT_EQ(stats.records, 0u);
  EXPECT_EQ(stats.dropped, 30u);
  ASSERT_TRUE(stats.error);
  EXPECT_NE(stats.error->what().find("Connection refused"), std::string::npos)
      << stats.error->what();
  ::close(taken);
}

}  // namespace
}  // namespace sockscope
