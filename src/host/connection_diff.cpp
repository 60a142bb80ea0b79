// The connection log's diff: what a re-dump shows against the live table,
// what a destroy message ends, owners (scan, listener), and the events.
#include <netinet/in.h>

#include <algorithm>

#include "host/connection_log_state.hpp"

namespace sockscope {
namespace {

using host_detail::Live;

// Payload each way from the kernel's counters. bytes_acked counts the SYN of
// the side that sent it and an acknowledged FIN; bytes_sent - bytes_retrans is
// the payload transmitted once, which bounds what can have been acknowledged,
// so the smaller of the two is the payload acknowledged, FIN or not.
// bytes_received counts the peer's FIN, taken off when the close was orderly.
ConnectionCounters counters_of(const Live& l, const host_detail::TcpCounters& t) {
  ConnectionCounters c;
  std::uint64_t acked = t.bytes_acked;
  if (l.active_open && acked > 0) --acked;
  const std::uint64_t once = t.bytes_sent >= t.bytes_retrans ? t.bytes_sent - t.bytes_retrans : 0;
  c.sent_bytes = t.has_bytes_sent ? std::min(acked, once) : acked;
  c.received_bytes = t.bytes_received;
  const bool fin = l.fin_received || (!l.reset && t.bytes_received > 0);
  if (fin && c.received_bytes > 0) --c.received_bytes;
  c.sent_segments = t.segs_out;
  c.received_segments = t.segs_in;
  c.retransmits = t.total_retrans;
  return c;
}

}  // namespace

using host_detail::classify;
using host_detail::DiagMessage;
using host_detail::endpoint_of;
using host_detail::is_listener;
using host_detail::ListenerIndex;
using host_detail::Live;
using host_detail::now_ns;
using host_detail::RoleOf;

std::expected<void, Error> ConnectionLog::State::dump_space(Space& space, bool baseline) {
  SocketQuery query;
  query.transports.clear();
  if (options.tcp) query.transports.push_back(Transport::kTcp);
  if (options.udp) query.transports.push_back(Transport::kUdp);
  query.ipv4 = options.ipv4;
  query.ipv6 = options.ipv6;
  std::vector<SocketRecord> records;
  auto dumped = space.source->dump(query, [&](const SocketRecord& r) { records.push_back(r); });
  if (!dumped) return std::unexpected(dumped.error());
  ListenerIndex index;
  for (const auto& r : records) {
    if (is_listener(r)) index.add(r);
  }
  const std::int64_t now = now_ns();
  std::vector<std::uint64_t> fresh;
  for (const SocketRecord& r : records) {
    const bool remnant = r.state == SocketState::kTimeWait || r.state == SocketState::kSynRecv ||
                         (r.transport == Transport::kTcp && r.state == SocketState::kClose);
    auto it = live.find(r.cookie);
    if (it != live.end()) {
      Live& l = it->second;
      l.state = r.state;
      l.fin_received |= host_detail::implies_fin_received(r.state);
      // A TIME_WAIT remnant keeps the cookie of the socket it replaced: that
      // socket is gone, and counts as missing until its destroy message comes.
      if (r.state == SocketState::kTimeWait) continue;
      l.seen_in = generation;
      l.missing_dumps = 0;
      continue;
    }
    if (remnant || recovered.count(r.cookie)) continue;
    Live& l = live[r.cookie];
    l.local = r.local;
    l.remote = r.remote;
    l.netns = space.ns.inode;
    l.inode = r.inode;
    l.uid = r.uid;
    l.transport = r.transport;
    l.state = r.state;
    const RoleOf role = classify(r, index, options.host_ephemeral);
    l.role = role.role;
    l.evidence = role.evidence;
    l.listener = role.role == LocalRole::kListener;
    l.active_open = !l.listener && role.evidence != Evidence::kAccepted;
    l.fin_received = host_detail::implies_fin_received(r.state);
    l.opened_ns = baseline ? 0 : now;
    l.seen_in = generation;
    fresh.push_back(r.cookie);
  }
  for (std::uint64_t cookie : fresh) {
    const Live& l = live.at(cookie);
    if (l.listener) listeners.add(l, cookie);
  }
  resolve_owners(fresh);
  if (!baseline) close_missing(space, now);
  for (std::uint64_t cookie : fresh) {
    const Live& l = live.at(cookie);
    if (baseline && !options.initial_events) continue;
    emit(l.listener ? ConnectionEventKind::kListen : ConnectionEventKind::kOpen, l, cookie, now,
         space.ns, std::nullopt, false);
  }
  if (baseline) summary.initial_sockets += fresh.size();
  return {};
}

void ConnectionLog::State::resolve_owners(const std::vector<std::uint64_t>& fresh) {
  if (!options.owners || fresh.empty()) return;
  // The tracer saw their connect(): no scan needed for those.
  for (std::uint64_t cookie : fresh) {
    Live& l = live.at(cookie);
    owner_from_connect(l, cookie);
    if (l.owner_set) {
      l.active_open = true;
      l.role = LocalRole::kClient;
      l.evidence = Evidence::kHandshake;
    }
  }
  const bool any_inode = std::any_of(fresh.begin(), fresh.end(), [&](std::uint64_t c) {
    return live.at(c).inode != 0 && !live.at(c).owner_set;
  });
  std::optional<ProcessOwners> scanned;
  if (any_inode) {
    if (auto s = ProcessOwners::scan(options.owner_source)) {
      scanned = std::move(*s);
    } else {
      warn(s.error().what());
    }
    ++summary.owner_scans;
  }
  // Listeners first: accepted connections of this batch inherit from them.
  std::vector<std::uint64_t> order = fresh;
  std::stable_partition(order.begin(), order.end(),
                        [&](std::uint64_t c) { return live.at(c).listener; });
  for (std::uint64_t cookie : order) {
    Live& l = live.at(cookie);
    if (!l.owner_set) owner_from_scan(l, cookie, scanned ? &*scanned : nullptr);
    if (!l.owner_set) inherit_owner(l);
  }
}

void ConnectionLog::State::owner_from_scan(Live& l, std::uint64_t cookie,
                                           const ProcessOwners* scanned) {
  if (l.inode == 0) {
    l.owner_missing = OwnerMissing::kClosedBeforeScan;  // orphaned: its process closed it
    return;
  }
  if (!scanned) return;
  std::vector<int> pids;
  for (const ProcessOwner& o : scanned->of(l.inode)) {
    pids.push_back(o.pid);
    processes.get(o.pid, o.command);
  }
  l.owner_set = sets.intern(std::move(pids));
  if (l.owner_set) {
    l.owner_evidence = OwnerEvidence::kScan;
  } else {
    l.owner_missing = scanned->why_missing(record_of(l, cookie));
  }
}

// An accepted connection whose own process was not seen: its listener's owner.
void ConnectionLog::State::inherit_owner(Live& l) {
  if (l.evidence != Evidence::kAccepted) return;
  const std::uint64_t from = listeners.find(l.netns, l.transport, l.local);
  auto it = from ? live.find(from) : live.end();
  if (it == live.end() || !it->second.owner_set) return;
  l.owner_set = it->second.owner_set;
  sets.retain(l.owner_set);
  l.owner_evidence = OwnerEvidence::kListener;
  l.owner_missing = OwnerMissing::kNone;
}

// Live sockets of `space` the last dump did not show: closed without a message
// we read. After lost messages that is proof at once; otherwise a message may
// still be on its way, so only when a second dump agrees.
void ConnectionLog::State::close_missing(Space& space, std::int64_t now) {
  for (auto it = live.begin(); it != live.end();) {
    Live& l = it->second;
    if (l.netns != space.ns.inode || l.seen_in == generation ||
        (++l.missing_dumps < 2 && !space.overflowed)) {
      ++it;
      continue;
    }
    const std::uint64_t cookie = it->first;
    recovered[cookie] = now;
    ++summary.closes_recovered;
    emit(l.listener ? ConnectionEventKind::kUnlisten : ConnectionEventKind::kClose, l, cookie, now,
         space.ns, std::nullopt, true);
    auto next = std::next(it);
    forget(it);
    it = next;
  }
}

void ConnectionLog::State::forget(std::unordered_map<std::uint64_t, Live>::iterator it) {
  if (it->second.listener) listeners.remove(it->second, it->first);
  sets.release(it->second.owner_set);
  live.erase(it);
}

void ConnectionLog::State::on_destroy(Space& space, const DiagMessage& m) {
  if (m.protocol != IPPROTO_TCP && m.protocol != IPPROTO_UDP) return;
  // The tracer's records of this socket were committed before it was freed:
  // taken first, they are in order.
  if (tracer && m.protocol == IPPROTO_TCP) consume_tracer();
  auto it = live.find(m.cookie);
  const std::int64_t now = now_ns();
  if (it == live.end()) {
    if (!recovered.count(m.cookie)) on_unknown_destroy(space, m, now);
    return;
  }
  const Live& l = it->second;
  bool cleared = false;
  const auto counters = close_counters(l, m, cleared);
  emit(l.listener ? ConnectionEventKind::kUnlisten : ConnectionEventKind::kClose, l, m.cookie, now,
       space.ns, counters, false, cleared);
  forget(it);
  connecting.erase(m.cookie);
}

// The destroy message's counters, unless an abort (close with SO_LINGER 0)
// cleared them in tcp_disconnect(): a TCP socket with a peer has sent at least
// its SYN or SYN-ACK, so all-zero segments mean cleared (an unknown socket
// without a peer and counters is an aborted connection, see on_unknown_destroy). Then the tracer's
// copy taken at CLOSE, if it ran; else none, and `cleared` says why.
std::optional<ConnectionCounters> ConnectionLog::State::close_counters(const Live& l,
                                                                       const DiagMessage& m,
                                                                       bool& cleared) {
  auto traced = closing.find(m.cookie);
  std::optional<host_detail::TcpCounters> at_close;
  if (traced != closing.end()) {
    at_close = traced->second.counters;
    closing.erase(traced);
  }
  if (!m.tcp || l.listener) return std::nullopt;
  // (tcp_disconnect() clears the peer too: the peer is the one the log knew.)
  const bool zeroed = m.tcp->segs_in == 0 && m.tcp->segs_out == 0 && l.remote.port != 0;
  if (!zeroed) return counters_of(l, *m.tcp);
  if (at_close) return counters_of(l, *at_close);
  cleared = true;
  return std::nullopt;
}

// A socket that opened and closed between two dumps: what its message says.
void ConnectionLog::State::on_unknown_destroy(Space& space, const DiagMessage& m,
                                              std::int64_t now) {
  Live l;
  l.transport = m.protocol == IPPROTO_TCP ? Transport::kTcp : Transport::kUdp;
  if (l.transport == Transport::kTcp && m.sport == 0) return;  // never bound: nothing to log
  l.local = endpoint_of(m.family, m.src, m.sport);
  l.remote = endpoint_of(m.family, m.dst, m.dport);
  l.netns = space.ns.inode;
  l.state = SocketState::kClose;
  const SocketRecord r = record_of(l, m.cookie);
  const bool ephemeral_port = options.host_ephemeral && options.host_ephemeral->contains(m.sport);
  // An abort (SO_LINGER 0) clears the peer and the counters before the end: an
  // unknown TCP socket on an ephemeral port with neither was a connection whose
  // peer is lost, not a listener.
  const bool aborted = l.transport == Transport::kTcp && r.unconnected() && ephemeral_port &&
                       m.tcp && m.tcp->segs_in == 0 && m.tcp->segs_out == 0;
  if (r.unconnected() && !aborted && (l.transport == Transport::kTcp || !ephemeral_port)) {
    l.listener = true;
    l.role = LocalRole::kListener;
    l.evidence = Evidence::kListener;
  } else {
    const RoleOf role = classify(r, listeners.index(), options.host_ephemeral);
    l.role = role.role;
    l.evidence = role.evidence;
  }
  l.active_open = !l.listener && l.evidence != Evidence::kAccepted;
  l.owner_missing = OwnerMissing::kClosedBeforeScan;
  owner_from_connect(l, m.cookie);  // a failed connect(), seen by the tracer
  if (options.owners && !l.owner_set) inherit_owner(l);
  bool cleared = aborted;
  const auto counters = aborted ? std::nullopt : close_counters(l, m, cleared);
  emit(l.listener ? ConnectionEventKind::kUnlisten : ConnectionEventKind::kClose, l, m.cookie, now,
       space.ns, counters, false, cleared);
  sets.release(l.owner_set);
}

void ConnectionLog::State::emit(ConnectionEventKind kind, const Live& l, std::uint64_t cookie,
                                std::int64_t t, const NetworkNamespace& ns,
                                std::optional<ConnectionCounters> counters, bool lost,
                                bool counters_cleared) {
  ConnectionEvent e;
  e.kind = kind;
  e.time_ns = t;
  e.record = record_of(l, cookie);
  e.role = l.role;
  e.evidence = l.evidence;
  e.service = naming.service(l.transport, HostSocket{e.record, l.role, l.evidence}.server_port(),
                             l.evidence);
  e.netns = &ns;
  owners_scratch.clear();
  if (l.owner_set) {
    for (int pid : sets.pids(l.owner_set)) {
      const auto& info = processes.get(pid);
      owners_scratch.push_back({pid, info.uid, info.command, info.cmdline});
    }
  }
  e.owners = owners_scratch;
  if (options.owners && owners_scratch.empty()) {
    e.owner_missing =
        l.owner_missing == OwnerMissing::kNone ? OwnerMissing::kNoProcess : l.owner_missing;
    // The scan right after the dump that found it saw no process, and it is gone
    // within two intervals: it closed before the scan reached it.
    const auto interval = std::chrono::nanoseconds(options.redump_interval).count();
    if (e.owner_missing == OwnerMissing::kNoProcess && l.opened_ns &&
        t - l.opened_ns < 2 * interval && kind == ConnectionEventKind::kClose) {
      e.owner_missing = OwnerMissing::kClosedBeforeScan;
    }
    ++summary.owners_missing[std::size_t(e.owner_missing)];
  }
  e.owner_evidence = l.owner_evidence;
  const bool ends = kind == ConnectionEventKind::kClose || kind == ConnectionEventKind::kUnlisten;
  if (ends && l.opened_ns) e.duration_ns = t - l.opened_ns;
  e.counters = counters;
  e.lost = lost;
  e.counters_cleared = counters_cleared;
  switch (kind) {
    case ConnectionEventKind::kOpen: ++summary.opens; break;
    case ConnectionEventKind::kClose: ++summary.closes; break;
    case ConnectionEventKind::kListen: ++summary.listens; break;
    case ConnectionEventKind::kUnlisten: ++summary.unlistens; break;
  }
  (*sink)(e);
}
}  // namespace sockscope
