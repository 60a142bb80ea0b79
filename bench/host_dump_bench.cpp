// The parts of `sockscope sockets` on this host's real socket table: the
// netlink dump with and without the autobound split, the /proc/net text, the
// roles, and the /proc/*/fd owner scan. Run it while bench/host_sockets.sh's
// holders (or any busy host) keep many sockets open.
#include <benchmark/benchmark.h>

#include "sockscope/host.hpp"
#include "sockscope/process_owners.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

void BM_NetlinkDump(benchmark::State& state) {
  auto source = open_netlink_source();
  if (!source) {
    state.SkipWithError("no netlink");
    return;
  }
  SocketQuery q;
  q.transports = {Transport::kTcp};
  q.autobound = state.range(0) != 0;
  std::size_t n = 0;
  for (auto _ : state) {
    n = 0;
    auto stats = (*source)->dump(q, [&](const SocketRecord& r) { n += r.local.port; });
    benchmark::DoNotOptimize(n);
    state.counters["sockets"] = double(stats ? stats->sockets : 0);
  }
}
BENCHMARK(BM_NetlinkDump)->ArgName("autobound")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_ProcDump(benchmark::State& state) {
  auto source = open_proc_source();
  SocketQuery q;
  q.transports = {Transport::kTcp};
  for (auto _ : state) {
    std::size_t n = 0;
    auto stats = source->dump(q, [&](const SocketRecord& r) { n += r.local.port; });
    benchmark::DoNotOptimize(n);
    state.counters["sockets"] = double(stats ? stats->sockets : 0);
  }
}
BENCHMARK(BM_ProcDump)->Unit(benchmark::kMillisecond);

void BM_DumpWithRoles(benchmark::State& state) {
  auto source = open_netlink_source();
  if (!source) {
    state.SkipWithError("no netlink");
    return;
  }
  SocketQuery q;
  q.transports = {Transport::kTcp};
  for (auto _ : state) {
    std::size_t clients = 0;
    auto stats = dump_with_roles(**source, q, PortRange{32768, 60999}, [&](const HostSocket& s) {
      clients += s.role == LocalRole::kClient;
    });
    benchmark::DoNotOptimize(clients);
  }
}
BENCHMARK(BM_DumpWithRoles)->Unit(benchmark::kMillisecond);

void BM_OwnerScan(benchmark::State& state) {
  for (auto _ : state) {
    ProcessOwners owners = ProcessOwners::scan();
    state.counters["sockets"] = double(owners.sockets());
    state.counters["processes"] = double(owners.processes());
  }
}
BENCHMARK(BM_OwnerScan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sockscope
BENCHMARK_MAIN();
