// The connection log's closes as flow records: the socket pair, the segments and
// bytes each way from the final tcp_info; what is known of the closes without
// counters (UDP sockets, lost closes, aborts).
#include "ipfix/layout.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/ipfix.hpp"

namespace sockscope {

bool has_flow(const ConnectionEvent& e) {
  return e.kind == ConnectionEventKind::kClose && e.record.remote.port != 0 &&
         !e.record.remote.address.is_unspecified();
}

std::size_t flow_records(const ConnectionEvent& e, bool biflow, FlowRecord out[2]) {
  if (!has_flow(e)) return 0;  // a listener's or an unconnected UDP socket's end: no peer
  FlowRecord from_local;
  from_local.pair = {e.record.transport, e.record.local, e.record.remote};
  from_local.end_ms = std::uint64_t(e.time_ns) / 1'000'000;
  from_local.start_ms = std::uint64_t(e.time_ns - e.duration_ns.value_or(0)) / 1'000'000;
  // A close proven by a re-dump after the kernel dropped events: the metering's
  // resources ran out (its end time is when the re-dump saw it gone).
  from_local.end_reason = e.lost ? IpfixEndReason::kLackOfResources : IpfixEndReason::kEndOfFlow;
  FlowRecord from_remote = from_local;
  from_remote.pair = from_local.pair.reversed();
  // Client first: the local socket unless it is the server.
  const bool local_serves = e.role == LocalRole::kServer;
  if (!e.counters) {
    // The kernel keeps no counters for UDP sockets, and a lost close's are gone:
    // one record of the pair, client first, with zero counters.
    out[0] = local_serves ? from_remote : from_local;
    return 1;
  }
  const ConnectionCounters& k = *e.counters;
  // tcp_info counts payload; each segment carried at least an IP and a TCP header.
  const std::uint64_t headers = (e.record.local.address.is_v6() ? 40 : 20) + 20;
  from_local.packets = k.sent_segments;
  from_local.octets = k.sent_bytes + headers * k.sent_segments;
  from_remote.packets = k.received_segments;
  from_remote.octets = k.received_bytes + headers * k.received_segments;
  return local_serves ? ipfix::client_first(from_remote, from_local, biflow, out)
                      : ipfix::client_first(from_local, from_remote, biflow, out);
}

}  // namespace sockscope
