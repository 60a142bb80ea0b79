// Endpoint parse/format against the libc pair: inet_pton + strtoul to parse,
// inet_ntop + snprintf to format. Same inputs, same run.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sockscope/endpoint.hpp"

namespace {

using sockscope::Endpoint;

std::vector<std::string> make_inputs(bool v6) {
  std::mt19937 rng(1);
  std::vector<std::string> out;
  for (int i = 0; i < 4096; ++i) {
    char text[INET6_ADDRSTRLEN];
    if (v6) {
      std::uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
      for (int k = 8; k < 16; ++k) b[k] = std::uint8_t(rng());
      inet_ntop(AF_INET6, b, text, sizeof text);
      out.push_back("[" + std::string(text) + "]:" + std::to_string(rng() % 65536));
    } else {
      std::uint32_t v = rng();
      inet_ntop(AF_INET, &v, text, sizeof text);
      out.push_back(std::string(text) + ":" + std::to_string(rng() % 65536));
    }
  }
  return out;
}

// The libc way: split at the last ':', strip brackets, inet_pton, strtoul.
bool libc_parse(const std::string& s, unsigned char* addr, unsigned* port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  char host[INET6_ADDRSTRLEN + 2];
  std::size_t len = colon;
  const char* start = s.c_str();
  int family = AF_INET;
  if (s[0] == '[') {
    ++start;
    len -= 2;
    family = AF_INET6;
  }
  if (len >= sizeof host) return false;
  std::memcpy(host, start, len);
  host[len] = 0;
  if (inet_pton(family, host, addr) != 1) return false;
  char* end;
  unsigned long p = std::strtoul(s.c_str() + colon + 1, &end, 10);
  if (*end || p > 65535) return false;
  *port = unsigned(p);
  return true;
}

void BM_ParseSockscope(benchmark::State& state) {
  auto inputs = make_inputs(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    auto ep = Endpoint::parse(inputs[i++ & 4095]);
    benchmark::DoNotOptimize(ep);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseLibc(benchmark::State& state) {
  auto inputs = make_inputs(state.range(0));
  std::size_t i = 0;
  unsigned char addr[16];
  unsigned port;
  for (auto _ : state) {
    bool ok = libc_parse(inputs[i++ & 4095], addr, &port);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(addr);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FormatSockscope(benchmark::State& state) {
  auto inputs = make_inputs(state.range(0));
  std::vector<Endpoint> eps;
  for (auto& s : inputs) eps.push_back(*Endpoint::parse(s));
  char buf[Endpoint::kMaxTextSize];
  std::size_t i = 0;
  for (auto _ : state) {
    std::size_t n = eps[i++ & 4095].format(buf);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(buf);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FormatLibc(benchmark::State& state) {
  const bool v6 = state.range(0);
  auto inputs = make_inputs(v6);
  struct Raw {
    unsigned char addr[16];
    unsigned port;
  };
  std::vector<Raw> raws(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k)
    libc_parse(inputs[k], raws[k].addr, &raws[k].port);
  char text[INET6_ADDRSTRLEN];
  char buf[80];
  std::size_t i = 0;
  for (auto _ : state) {
    const Raw& r = raws[i++ & 4095];
    inet_ntop(v6 ? AF_INET6 : AF_INET, r.addr, text, sizeof text);
    int n = std::snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", text, r.port);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(buf);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ParseSockscope)->Arg(0)->Arg(1)->ArgName("v6");
BENCHMARK(BM_ParseLibc)->Arg(0)->Arg(1)->ArgName("v6");
BENCHMARK(BM_FormatSockscope)->Arg(0)->Arg(1)->ArgName("v6");
BENCHMARK(BM_FormatLibc)->Arg(0)->Arg(1)->ArgName("v6");

}  // namespace

BENCHMARK_MAIN();
