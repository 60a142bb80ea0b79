// The BTF reader on arbitrary bytes: the layout search, and every query of the
// type index on the first types. Seeds: fuzz/corpus/btf_layout/ (written with
// tests/host/btf_builder.hpp: the miniature kernel and a few variations).
#include <cstddef>
#include <cstdint>
#include <span>

#include "host/btf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sockscope::host_detail::BtfTypes;
  const std::span<const std::uint8_t> in(data, size);
  auto layout = sockscope::host_detail::find_iter_task_file_layout(in);
  if (layout) {
    volatile std::uint32_t sink = layout->task_tgid + layout->attach_btf_id;
    (void)sink;
  }
  auto sock = sockscope::host_detail::find_sock_state_layout(in);
  if (sock) {
    volatile std::uint32_t sink = sock->net_inum + sock->attach_btf_id;
    (void)sink;
  }
  auto types = BtfTypes::parse(in);
  if (!types) return 0;
  (void)types->index_all();
  for (std::uint32_t id = 0; id <= types->count() && id < 64; ++id) {
    std::uint32_t element = 0, count = 0;
    volatile std::uint64_t sink = types->kind(id) + types->name(id).size() + types->size_of(id) +
                                  types->resolve(id) + types->array_of(id, &element, &count);
    (void)sink;
    (void)types->member(id, "pid");
    (void)types->member(id, "");
  }
  return 0;
}
