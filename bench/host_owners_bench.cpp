// The parts of the owner scan (issue 4): the BTF file and its scan, loading
// the task_file iterator, one iteration, and the whole scan from each source.
// Run it while bench_host_hold holds many connections to see the per-socket
// costs (bench/host_sockets.sh starts them; see bench/README.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "host/bpf_iter.hpp"
#include "host/btf.hpp"
#include "sockscope/process_owners.hpp"

namespace sockscope {
namespace {

using host_detail::BtfFile;
using host_detail::TaskFileIterator;

constexpr const char* kVmlinux = "/sys/kernel/btf/vmlinux";

void BM_BtfOpen(benchmark::State& state) {
  for (auto _ : state) {
    auto f = BtfFile::open(kVmlinux);
    if (!f) return state.SkipWithError(f.error().what().c_str());
    // Touch every page once, as the scan does.
    unsigned sum = 0;
    for (std::size_t i = 0; i < f->bytes().size(); i += 4096) sum += f->bytes()[i];
    benchmark::DoNotOptimize(sum);
    state.counters["mapped"] = f->mapped();
  }
}
BENCHMARK(BM_BtfOpen)->Unit(benchmark::kMillisecond);

void BM_BtfLayout(benchmark::State& state) {  // open + index + find the fields
  for (auto _ : state) {
    auto f = BtfFile::open(kVmlinux);
    if (!f) return state.SkipWithError(f.error().what().c_str());
    auto layout = host_detail::find_iter_task_file_layout(f->bytes());
    if (!layout) return state.SkipWithError(layout.error().what().c_str());
    benchmark::DoNotOptimize(layout->task_tgid);
  }
}
BENCHMARK(BM_BtfLayout)->Unit(benchmark::kMillisecond);

void BM_BpfLoad(benchmark::State& state) {  // BPF_PROG_LOAD + BPF_LINK_CREATE
  auto f = BtfFile::open(kVmlinux);
  if (!f) return state.SkipWithError(f.error().what().c_str());
  auto layout = host_detail::find_iter_task_file_layout(f->bytes());
  if (!layout) return state.SkipWithError(layout.error().what().c_str());
  for (auto _ : state) {
    auto it = TaskFileIterator::load(*layout);
    if (!it) return state.SkipWithError(it.error().what().c_str());
  }
}
BENCHMARK(BM_BpfLoad)->Unit(benchmark::kMillisecond);

void BM_BpfIterate(benchmark::State& state) {  // BPF_ITER_CREATE + read() to the end
  auto it = host_detail::prepare_task_file_iterator();
  if (!it) return state.SkipWithError(it.error().what().c_str());
  for (auto _ : state) {
    auto files = it->read_all();
    if (!files) return state.SkipWithError(files.error().what().c_str());
    state.counters["sockets"] = double(files->size());
  }
}
BENCHMARK(BM_BpfIterate)->Unit(benchmark::kMillisecond);

void BM_OwnersFrom(benchmark::State& state) {  // arg 0: bpf, 1: proc
  const OwnerSource from = state.range(0) == 0 ? OwnerSource::kBpf : OwnerSource::kProc;
  state.SetLabel(std::string(to_string(from)));
  for (auto _ : state) {
    auto owners = ProcessOwners::scan(from);
    if (!owners) return state.SkipWithError(owners.error().what().c_str());
    state.counters["sockets"] = double(owners->sockets());
  }
}
BENCHMARK(BM_OwnersFrom)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// One lookup per socket in an order unrelated to the scan's, as the dump's
// rows come: what `sockets -p` pays per row besides formatting.
void BM_OwnersLookup(benchmark::State& state) {
  auto it = host_detail::prepare_task_file_iterator();
  if (!it) return state.SkipWithError(it.error().what().c_str());
  auto files = it->read_all();
  if (!files) return state.SkipWithError(files.error().what().c_str());
  auto owners = ProcessOwners::scan(OwnerSource::kBpf);
  if (!owners) return state.SkipWithError(owners.error().what().c_str());
  std::vector<std::uint64_t> inodes;
  for (const auto& f : *files) inodes.push_back(f.inode);
  std::shuffle(inodes.begin(), inodes.end(), std::mt19937_64(42));
  // Arg 1: caches emptied before each pass (in `sockets -p` the index was
  // built on the other thread, and the dump runs through megabytes meanwhile).
  std::vector<char> other(state.range(0) ? 32 << 20 : 0);
  for (auto _ : state) {
    if (!other.empty()) {
      state.PauseTiming();
      for (std::size_t i = 0; i < other.size(); i += 64) other[i] = char(other[i] + 1);
      state.ResumeTiming();
    }
    std::size_t found = 0;
    for (std::uint64_t inode : inodes) found += owners->of(inode).size();
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(std::int64_t(state.iterations() * inodes.size()));
  state.counters["sockets"] = double(inodes.size());
}
BENCHMARK(BM_OwnersLookup)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sockscope
BENCHMARK_MAIN();
