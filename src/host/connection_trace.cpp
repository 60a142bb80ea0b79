// The connection log's use of the state tracer (state_tracer.hpp): opens as they
// happen, the process behind each connect() and listen(), the state a socket
// left at its close.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <cstring>

#include "host/connection_log_state.hpp"

namespace sockscope {

using host_detail::DiagMessage;
using host_detail::endpoint_of;
using host_detail::Live;
using host_detail::now_ns;

std::expected<void, Error> ConnectionLog::State::open_tracer() {
  using Tracer = ConnectionLogOptions::Tracer;
  if (options.tracer == Tracer::kOff || !options.tcp) {
    summary.tracer = "off";
    return {};
  }
  std::size_t ring = 4096;
  while (ring < options.tracer_ring_bytes && ring < (std::size_t{1} << 30)) ring <<= 1;
  auto opened = host_detail::StateTracer::open(ring);
  if (!opened) {
    summary.tracer = "off: " + opened.error().what();
    if (options.tracer == Tracer::kOn) return std::unexpected(opened.error());
    if (opened.error().code != Error::Code::kPermission) {
      warn("no state tracer (opens are seen by re-dumps only): " + opened.error().what());
    }
    return {};
  }
  tracer.emplace(std::move(*opened));
  summary.tracer = "tracepoint";
  timespec mono{}, real{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  monotonic_to_real = (real.tv_sec - mono.tv_sec) * 1'000'000'000LL + real.tv_nsec - mono.tv_nsec;
  return {};
}

ConnectionLog::State::Space* ConnectionLog::State::space_of(std::uint64_t netns) {
  for (Space& s : spaces) {
    if (s.ns.inode == netns) return &s;
  }
  return nullptr;
}

// Everything the tracer committed so far; true when the ring lost records
// (the loop then dumps again at once).
bool ConnectionLog::State::consume_tracer() {
  if (!tracer) return false;
  tracer->consume([&](const host_detail::StateChange& c) {
    if (!done()) on_change(c);
  });
  const std::uint64_t lost = tracer->lost();
  if (lost == ring_lost) return false;
  summary.events_lost += lost - ring_lost;
  ring_lost = lost;
  return true;
}

void ConnectionLog::State::on_change(const host_detail::StateChange& c) {
  Space* space = space_of(c.netns);
  if (!space || recovered.count(c.cookie)) return;
  const std::int64_t t = std::int64_t(c.time_ns) + monotonic_to_real;
  const auto state = SocketState(c.new_state);
  if (state == SocketState::kSynSent) {
    Connecting& who = connecting[c.cookie];
    who.tgid = c.tgid;
    who.uid = c.uid;
    who.since = t;
    std::memcpy(who.comm, c.comm, sizeof who.comm);
  } else if (state == SocketState::kEstablished) {
    on_established(*space, c, t);
  } else if (state == SocketState::kListen) {
    on_listen(*space, c, t);
  } else if (state == SocketState::kClose && c.has_counters) {
    host_detail::TcpCounters& k = closing[c.cookie].counters;
    closing[c.cookie].since = t;
    k.bytes_acked = c.bytes_acked;
    k.bytes_received = c.bytes_received;
    k.bytes_sent = c.bytes_sent;
    k.bytes_retrans = c.bytes_retrans;
    k.segs_out = c.segs_out;
    k.segs_in = c.segs_in;
    k.total_retrans = c.total_retrans;
    k.has_bytes_sent = true;
  }
  if (state != SocketState::kClose) return;
  if (auto it = live.find(c.cookie); it != live.end()) {  // CLOSE: the state it left
    Live& l = it->second;
    const auto left = SocketState(c.old_state);
    l.state = left;
    l.fin_received |= host_detail::implies_fin_received(left) || left == SocketState::kFinWait2;
    l.reset = left == SocketState::kEstablished || left == SocketState::kSynSent ||
              left == SocketState::kSynRecv || left == SocketState::kFinWait1;
  }
}

static Live live_from_change(const host_detail::StateChange& c, std::uint64_t netns) {
  Live l;
  const bool v4 = c.family == AF_INET;
  std::uint8_t src[16] = {}, dst[16] = {};
  if (v4) {
    std::memcpy(src, &c.saddr4, 4);
    std::memcpy(dst, &c.daddr4, 4);
  } else {
    std::memcpy(src, c.saddr6, 16);
    std::memcpy(dst, c.daddr6, 16);
  }
  l.local = endpoint_of(std::uint8_t(c.family), src, c.sport);
  l.remote = endpoint_of(std::uint8_t(c.family), dst, Port(ntohs(c.dport)));
  l.netns = netns;
  l.transport = Transport::kTcp;
  l.state = SocketState(c.new_state);
  l.uid = c.uid;
  return l;
}

// The process that called connect() (its socket's SYN_SENT), as the owner.
void ConnectionLog::State::owner_from_connect(Live& l, std::uint64_t cookie) {
  auto it = connecting.find(cookie);
  if (it == connecting.end() || !options.owners) return;
  const Connecting& who = it->second;
  processes.get(int(who.tgid), std::string_view(who.comm, ::strnlen(who.comm, sizeof who.comm)),
                who.uid);
  l.owner_set = sets.intern({int(who.tgid)});
  l.owner_evidence = OwnerEvidence::kConnect;
  l.owner_missing = OwnerMissing::kNone;
  connecting.erase(it);
}

void ConnectionLog::State::on_established(Space& space, const host_detail::StateChange& c,
                                          std::int64_t t) {
  if (auto it = live.find(c.cookie); it != live.end()) {
    // A re-dump found it first: the tracer knows better who opened it, and how.
    Live& l = it->second;
    if (c.old_state == std::uint8_t(SocketState::kSynSent)) {
      l.active_open = true;
      l.role = LocalRole::kClient;
      l.evidence = Evidence::kHandshake;
      if (l.owner_evidence != OwnerEvidence::kScan) {
        sets.release(l.owner_set);
        l.owner_set = 0;
        owner_from_connect(l, c.cookie);
      }
    }
    connecting.erase(c.cookie);
    return;
  }
  Live l = live_from_change(c, space.ns.inode);
  l.opened_ns = t;
  l.seen_in = generation;
  if (c.old_state == std::uint8_t(SocketState::kSynSent)) {
    l.active_open = true;
    l.role = LocalRole::kClient;
    l.evidence = Evidence::kHandshake;  // this side sent the SYN
    owner_from_connect(l, c.cookie);
  } else {
    l.role = LocalRole::kServer;
    l.evidence = Evidence::kAccepted;
    l.uid = 0;  // softirq context: the current task is not the server
    if (options.owners) inherit_owner(l);
  }
  if (!l.owner_set) l.owner_missing = OwnerMissing::kNoProcess;
  const Live& stored = live.emplace(c.cookie, l).first->second;
  emit(ConnectionEventKind::kOpen, stored, c.cookie, t, space.ns, std::nullopt, false);
}

void ConnectionLog::State::on_listen(Space& space, const host_detail::StateChange& c,
                                     std::int64_t t) {
  if (live.count(c.cookie)) return;
  Live l = live_from_change(c, space.ns.inode);
  l.opened_ns = t;
  l.seen_in = generation;
  l.listener = true;
  l.role = LocalRole::kListener;
  l.evidence = Evidence::kListener;
  connecting[c.cookie] = {c.tgid, c.uid, {}, t};  // listen() runs in the caller's context
  std::memcpy(connecting[c.cookie].comm, c.comm, sizeof c.comm);
  owner_from_connect(l, c.cookie);
  const Live& stored = live.emplace(c.cookie, l).first->second;
  listeners.add(stored, c.cookie);
  emit(ConnectionEventKind::kListen, stored, c.cookie, t, space.ns, std::nullopt, false);
}
}  // namespace sockscope
