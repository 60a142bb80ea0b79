// Community ID per conversation: the portable SHA-1 block function against the
// SHA extensions in the same run, into a buffer (detail::community_id_to) and
// through the public community_id(), which returns a std::string.
#include <benchmark/benchmark.h>

#include "core/community_id_text.hpp"
#include "core/sha1.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/socket_pair.hpp"

namespace {

using sockscope::detail::Sha1Digest;

constexpr const char* kIpv4 = "tcp 192.168.1.20:51514 -> 93.184.216.34:443";
constexpr const char* kIpv6 =
    "tcp [2001:db8::20]:51514 -> [2606:2800:220:1:248:1893:25c8:1946]:443";

Sha1Digest accelerated(const std::uint8_t* data, std::size_t size) {
  return *sockscope::detail::sha1_accelerated(data, size);
}

void community_id_text(benchmark::State& state, const char* text,
                       sockscope::detail::Sha1Function hash) {
  if (hash == &accelerated && !sockscope::detail::sha1_accelerated_available()) {
    state.SkipWithError("this CPU has no SHA extensions (sha_ni)");
    return;
  }
  const sockscope::SocketPair pair = *sockscope::SocketPair::parse(text);
  const std::uint8_t protocol = sockscope::ip_protocol(pair.transport, pair.first.address.family());
  char out[sockscope::detail::kCommunityIdSize];
  for (auto _ : state) {
    sockscope::detail::community_id_to(out, pair.first.address, pair.second.address, protocol,
                                       pair.first.port, pair.second.port, true, 0, hash);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}
BENCHMARK_CAPTURE(community_id_text, ipv4_portable, kIpv4, &sockscope::detail::sha1_portable);
BENCHMARK_CAPTURE(community_id_text, ipv4_accelerated, kIpv4, &accelerated);
BENCHMARK_CAPTURE(community_id_text, ipv6_portable, kIpv6, &sockscope::detail::sha1_portable);
BENCHMARK_CAPTURE(community_id_text, ipv6_accelerated, kIpv6, &accelerated);

// The hash alone, on the 40 bytes of an IPv6 Community ID input (one block).
void sha1_one_block(benchmark::State& state, sockscope::detail::Sha1Function hash) {
  if (hash == &accelerated && !sockscope::detail::sha1_accelerated_available()) {
    state.SkipWithError("this CPU has no SHA extensions (sha_ni)");
    return;
  }
  std::uint8_t input[40] = {};
  for (auto _ : state) {
    benchmark::DoNotOptimize(input);
    benchmark::DoNotOptimize(hash(input, sizeof input));
  }
}
BENCHMARK_CAPTURE(sha1_one_block, portable, &sockscope::detail::sha1_portable);
BENCHMARK_CAPTURE(sha1_one_block, accelerated, &accelerated);

// What `conversations --json/--csv/--zeek` calls per row (best block function, a string).
void community_id_string(benchmark::State& state, const char* text) {
  const sockscope::SocketPair pair = *sockscope::SocketPair::parse(text);
  for (auto _ : state) benchmark::DoNotOptimize(sockscope::community_id(pair));
}
BENCHMARK_CAPTURE(community_id_string, ipv4, kIpv4);
BENCHMARK_CAPTURE(community_id_string, ipv6, kIpv6);

}  // namespace

BENCHMARK_MAIN();
