// Registry lookups against glibc's getservbyport_r / getservbyname_r, same
// inputs (the entries of this machine's /etc/services), same run. glibc reads
// /etc/services again on every call; the registry answers from static indexes.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netdb.h>

#include <string>
#include <vector>

#include "sockscope/registry.hpp"

namespace {

using sockscope::Registry;
using sockscope::Transport;

struct Entry {
  std::string name;
  std::string proto;
  int port_net;  // network byte order, as glibc takes it
  sockscope::Port port;
  Transport transport;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = [] {
    std::vector<Entry> out;
    char buf[4096];
    servent e{}, *r = nullptr;
    ::setservent(0);
    while (::getservent_r(&e, buf, sizeof buf, &r) == 0 && r) {
      auto t = sockscope::parse_transport(e.s_proto);
      if (!t || !sockscope::has_ports(*t)) continue;
      out.push_back({e.s_name, e.s_proto, e.s_port, ntohs(std::uint16_t(e.s_port)), *t});
    }
    ::endservent();
    return out;
  }();
  return kEntries;
}

// Cycles through the inputs without a division per iteration.
const Entry& next(const std::vector<Entry>& in, std::size_t& i) {
  if (++i == in.size()) i = 0;
  return in[i];
}

const Registry& with_etc_services() {
  static const Registry kRegistry = [] {
    Registry r;
    (void)r.load_services_file("/etc/services");
    return r;
  }();
  return kRegistry;
}

// Runs `lookup` on the entries in turn, one per iteration.
template <class Lookup>
void cycle(benchmark::State& state, Lookup lookup) {
  const auto& in = entries();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(lookup(next(in, i)));
}

const servent* glibc_by_port(const Entry& e) {
  static thread_local char buf[4096];
  static thread_local servent s;
  servent* r = nullptr;
  ::getservbyport_r(e.port_net, e.proto.c_str(), &s, buf, sizeof buf, &r);
  return r;
}

const servent* glibc_by_name(const Entry& e) {
  static thread_local char buf[4096];
  static thread_local servent s;
  servent* r = nullptr;
  ::getservbyname_r(e.name.c_str(), e.proto.c_str(), &s, buf, sizeof buf, &r);
  return r;
}

void BM_GlibcGetservbyport(benchmark::State& state) { cycle(state, glibc_by_port); }
BENCHMARK(BM_GlibcGetservbyport);

void BM_RegistryPrimary(benchmark::State& state) {
  const Registry& reg = with_etc_services();
  cycle(state, [&](const Entry& e) { return reg.primary(e.port, e.transport); });
}
BENCHMARK(BM_RegistryPrimary);

void BM_RegistryPrimaryIanaOnly(benchmark::State& state) {
  const Registry& reg = Registry::builtin();
  cycle(state, [&](const Entry& e) { return reg.primary(e.port, e.transport); });
}
BENCHMARK(BM_RegistryPrimaryIanaOnly);

void BM_RegistryByPort(benchmark::State& state) {  // every name, as a vector
  const Registry& reg = with_etc_services();
  cycle(state, [&](const Entry& e) { return reg.by_port(e.port, e.transport); });
}
BENCHMARK(BM_RegistryByPort);

void BM_GlibcGetservbyname(benchmark::State& state) { cycle(state, glibc_by_name); }
BENCHMARK(BM_GlibcGetservbyname);

void BM_RegistryFind(benchmark::State& state) {  // getservbyname's question
  const Registry& reg = with_etc_services();
  cycle(state, [&](const Entry& e) { return reg.find(e.name, e.transport); });
}
BENCHMARK(BM_RegistryFind);

void BM_RegistryFindIanaOnly(benchmark::State& state) {
  const Registry& reg = Registry::builtin();
  cycle(state, [&](const Entry& e) { return reg.find(e.name, e.transport); });
}
BENCHMARK(BM_RegistryFindIanaOnly);

void BM_RegistryByName(benchmark::State& state) {  // every assignment, as a vector
  const Registry& reg = with_etc_services();
  cycle(state, [&](const Entry& e) { return reg.by_name(e.name); });
}
BENCHMARK(BM_RegistryByName);

void BM_LoadEtcServices(benchmark::State& state) {  // what every CLI run pays once
  for (auto _ : state) {
    Registry r;
    benchmark::DoNotOptimize(r.load_services_file("/etc/services"));
  }
}
BENCHMARK(BM_LoadEtcServices);

void BM_RegistrySearch(benchmark::State& state) {  // a scan of all ~11,700 records
  const Registry& reg = Registry::builtin();
  for (auto _ : state) benchmark::DoNotOptimize(reg.search("mail"));
}
BENCHMARK(BM_RegistrySearch);

}  // namespace

BENCHMARK_MAIN();
