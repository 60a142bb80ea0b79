// The offsets the state tracer's program reads from struct sock and struct net,
// found in the kernel's BTF (the CO-RE step libbpf would do, for ten fields).
// Standard library and linux/btf.h only, like btf.cpp: fuzzed with it.
#include <linux/btf.h>

#include "host/btf.hpp"

namespace sockscope::host_detail {

std::expected<SockStateLayout, Error> find_sock_state_layout(std::span<const std::uint8_t> btf) {
  auto types = BtfTypes::parse(btf);
  if (!types) return std::unexpected(types.error());
  static constexpr BtfTypes::Wanted kWanted[] = {
      {BTF_KIND_TYPEDEF, "btf_trace_inet_sock_set_state"},
      {BTF_KIND_STRUCT, "sock"},
      {BTF_KIND_STRUCT, "sock_common"},
      {BTF_KIND_STRUCT, "net"},
      {BTF_KIND_STRUCT, "tcp_sock"},
  };
  const auto ids = find_required(*types, kWanted, "no tracepoint sock:inet_sock_set_state");
  if (!ids) return std::unexpected(ids.error());
  SockStateLayout l;
  l.attach_btf_id = (*ids)[0];
  static constexpr BtfField<SockStateLayout> kFields[] = {
      {2, "skc_family", 2, &SockStateLayout::family},
      {2, "skc_num", 2, &SockStateLayout::num},
      {2, "skc_dport", 2, &SockStateLayout::dport},
      {2, "skc_rcv_saddr", 4, &SockStateLayout::rcv_saddr},
      {2, "skc_daddr", 4, &SockStateLayout::daddr},
      {2, "skc_v6_rcv_saddr", 16, &SockStateLayout::v6_rcv_saddr},
      {2, "skc_v6_daddr", 16, &SockStateLayout::v6_daddr},
      {2, "skc_net", 8, &SockStateLayout::net},
      {1, "sk_protocol", 2, &SockStateLayout::protocol},
      {4, "bytes_acked", 8, &SockStateLayout::bytes_acked},
      {4, "bytes_received", 8, &SockStateLayout::bytes_received},
      {4, "bytes_sent", 8, &SockStateLayout::bytes_sent},
      {4, "bytes_retrans", 8, &SockStateLayout::bytes_retrans},
      {4, "segs_out", 4, &SockStateLayout::segs_out},
      {4, "segs_in", 4, &SockStateLayout::segs_in},
      {4, "total_retrans", 4, &SockStateLayout::total_retrans},
  };
  std::string problem = fill_fields<SockStateLayout>(*types, *ids, kFields, l);
  // sock_common sits inside struct sock as __sk_common: offsets from struct sock.
  std::uint32_t common = 0;
  if (problem.empty()) {
    auto m = types->member((*ids)[1], "__sk_common");
    if (!m) {
      problem = m.error().message;
    } else {
      common = m->offset;
    }
  }
  // struct net's namespace inode: net.ns (struct ns_common).inum.
  if (problem.empty()) {
    auto ns = types->member((*ids)[3], "ns");
    if (!ns) {
      problem = ns.error().message;
    } else {
      std::uint32_t inum = 0;
      problem = field_offset(*types, types->resolve(ns->type), "inum", 4, &inum);
      l.net_inum = ns->offset + inum;
    }
  }
  if (!problem.empty()) return std::unexpected(Error{Error::Code::kUnsupported, problem, 0, {}});
  for (std::uint32_t* f : {&l.family, &l.num, &l.dport, &l.rcv_saddr, &l.daddr, &l.v6_rcv_saddr,
                           &l.v6_daddr, &l.net}) {
    *f += common;
  }
  return l;
}

}  // namespace sockscope::host_detail
