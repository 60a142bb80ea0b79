// ConnectionLog: destroy notifications, re-dump diffs and owner scans joined into
// one event stream by socket cookie. See connection_log.hpp for the design.
#include "sockscope/connection_log.hpp"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "host/connection_table.hpp"
#include "host/destroy_listener.hpp"
#include "host/netns_enter.hpp"
#include "host/state_tracer.hpp"

namespace sockscope {

using host_detail::DiagMessage;
using host_detail::Live;

std::string_view to_string(ConnectionEventKind kind) {
  switch (kind) {
    case ConnectionEventKind::kOpen: return "open";
    case ConnectionEventKind::kClose: return "close";
    case ConnectionEventKind::kListen: return "listen";
    case ConnectionEventKind::kUnlisten: return "unlisten";
  }
  return "open";
}

std::string_view to_string(OwnerEvidence evidence) {
  switch (evidence) {
    case OwnerEvidence::kNone: return "none";
    case OwnerEvidence::kScan: return "scan";
    case OwnerEvidence::kConnect: return "connect";
    case OwnerEvidence::kListener: return "listener";
  }
  return "none";
}

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Endpoint endpoint_of(std::uint8_t family, const std::uint8_t* address, Port port) {
  return {family == AF_INET ? IpAddress::v4_bytes(address) : IpAddress::v6_bytes(address), port};
}

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

struct ConnectionLog::State {
  State(ConnectionLogOptions o, const Naming& n, ReportFn r, std::atomic<bool>& s)
      : options(std::move(o)), naming(n), report(std::move(r)), stop(s) {}

  struct Space {
    NetworkNamespace ns;
    host_detail::DestroyListener destroys;
    std::unique_ptr<SocketSource> source;
    std::uint64_t drops = 0;  // the kernel's count when last read
    bool overflowed = false;  // since the last re-dump
  };

  ConnectionLogOptions options;
  const Naming& naming;
  ReportFn report;
  std::atomic<bool>& stop;
  std::list<Space> spaces;  // stable addresses: events point at their namespace
  std::unordered_map<std::uint64_t, Live> live;
  host_detail::ListenerMap listeners;
  host_detail::OwnerSets sets;
  host_detail::ProcessCache processes;
  // Cookies closed from a re-dump, with the time: a destroy message that was late
  // rather than lost must not close them twice.
  std::unordered_map<std::uint64_t, std::int64_t> recovered;
  ConnectionLogSummary summary;
  // The state tracer, when it runs: the process behind each connect() until its
  // socket is established or gone, and the clock that turns its times into ours.
  std::optional<host_detail::StateTracer> tracer;
  struct Connecting {
    std::uint32_t tgid, uid;
    char comm[16];
    std::int64_t since = 0;  // when the SYN was sent
  };
  std::unordered_map<std::uint64_t, Connecting> connecting;
  std::int64_t monotonic_to_real = 0;
  std::uint64_t ring_lost = 0;  // the tracer's count when last read
  std::uint32_t generation = 0;
  const Sink* sink = nullptr;
  const std::function<void()>* batch_done = nullptr;
  std::size_t emitted_at_batch = 0;  // events when batch_done last ran
  std::vector<ConnectionOwner> owners_scratch;
  std::int64_t deadline_ns = 0;

  void warn(const std::string& message) const {
    if (report) report(Severity::kWarning, message);
  }
  std::size_t events() const {
    return summary.opens + summary.closes + summary.listens + summary.unlistens;
  }
  bool done() const {
    if (stop.load(std::memory_order_relaxed)) return true;
    return options.max_events && events() >= options.max_events;
  }

  std::vector<NetworkNamespace> namespaces_to_watch() const;
  std::expected<Space*, Error> add_space(NetworkNamespace ns);
  std::expected<void, Error> open_spaces();
  void refresh_spaces();
  std::expected<void, Error> open_tracer();
  Space* space_of(std::uint64_t netns);
  bool consume_tracer();
  void on_change(const host_detail::StateChange& c);
  void on_established(Space& space, const host_detail::StateChange& c, std::int64_t t);
  void on_listen(Space& space, const host_detail::StateChange& c, std::int64_t t);
  void owner_from_connect(Live& l, std::uint64_t cookie);
  std::expected<void, Error> dump_space(Space& space, bool baseline);
  void resolve_owners(const std::vector<std::uint64_t>& fresh);
  void inherit_owner(Live& l);
  void owner_from_scan(Live& l, std::uint64_t cookie, const ProcessOwners* scanned);
  void close_missing(Space& space, std::int64_t now);
  void on_destroy(Space& space, const DiagMessage& m);
  void on_unknown_destroy(Space& space, const DiagMessage& m, std::int64_t now);
  void emit(ConnectionEventKind kind, const Live& l, std::uint64_t cookie, std::int64_t t,
            const NetworkNamespace& ns, std::optional<ConnectionCounters> counters, bool lost);
  void forget(std::unordered_map<std::uint64_t, Live>::iterator it);
  std::expected<void, Error> drain(Space& space);
  std::expected<void, Error> redump();
  std::expected<void, Error> loop();
};

std::vector<NetworkNamespace> ConnectionLog::State::namespaces_to_watch() const {
  if (!options.all_namespaces) return {current_network_namespace()};
  std::vector<Error> warnings;
  auto namespaces = list_network_namespaces(&warnings);
  for (const auto& w : warnings) warn(w.what());
  return namespaces;
}

// The namespace's destroy listener, joined before its source can dump: nothing
// falls between the snapshot and the stream.
std::expected<ConnectionLog::State::Space*, Error> ConnectionLog::State::add_space(
    NetworkNamespace ns) {
  const host_detail::DestroyOptions d{options.tcp, options.udp, options.ipv4, options.ipv6,
                                      options.receive_buffer};
  int fd = -1, err = 0;
  auto entered = host_detail::in_namespace(ns, [&] {
    fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) err = errno;
  });
  if (!entered) return std::unexpected(entered.error());
  if (fd < 0) return std::unexpected(Error::os("NETLINK_SOCK_DIAG socket", err));
  auto destroys = host_detail::DestroyListener::open(d, fd);
  if (!destroys) return std::unexpected(destroys.error());
  auto source = open_socket_source_in(ns);
  if (!source) return std::unexpected(source.error());
  summary.receive_buffer = destroys->receive_buffer();
  summary.receive_buffer_forced = destroys->forced();
  return &spaces.emplace_back(Space{std::move(ns), std::move(*destroys), std::move(*source)});
}

std::expected<void, Error> ConnectionLog::State::open_spaces() {
  for (auto& ns : namespaces_to_watch()) {
    const bool current = ns.current;
    const std::string label = ns.label();
    auto added = add_space(std::move(ns));
    if (added) continue;
    if (current) return std::unexpected(added.error());
    warn("network namespace " + label + " skipped: " + added.error().what());
  }
  if (spaces.empty()) return std::unexpected(Error::io("no network namespace could be watched"));
  return {};
}

// --all-netns: namespaces that appeared since (a container started) are watched
// from now on, their sockets as opens; those gone (no process, no name left)
// are drained and dropped, which also lets the kernel free them.
void ConnectionLog::State::refresh_spaces() {
  if (!options.all_namespaces) return;
  auto listed = namespaces_to_watch();
  for (auto it = spaces.begin(); it != spaces.end();) {
    const bool still = it->ns.current || std::any_of(listed.begin(), listed.end(), [&](auto& n) {
                         return n.inode == it->ns.inode;
                       });
    if (still) {
      ++it;
      continue;
    }
    (void)drain(*it);
    it->overflowed = true;  // whatever is left closed without a message we can read
    ++generation;
    close_missing(*it, now_ns());
    it = spaces.erase(it);
  }
  for (auto& ns : listed) {
    if (space_of(ns.inode)) continue;
    const std::string label = ns.label();
    auto added = add_space(std::move(ns));
    if (!added) {
      warn("network namespace " + label + " skipped: " + added.error().what());
      continue;
    }
    if (auto d = dump_space(**added, false); !d) warn(d.error().what());
  }
}

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
  std::optional<ConnectionCounters> counters;
  if (m.tcp && !l.listener) counters = counters_of(l, *m.tcp);
  emit(l.listener ? ConnectionEventKind::kUnlisten : ConnectionEventKind::kClose, l, m.cookie, now,
       space.ns, counters, false);
  forget(it);
  connecting.erase(m.cookie);
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
  if (r.unconnected() && (l.transport == Transport::kTcp || !options.host_ephemeral ||
                          !options.host_ephemeral->contains(l.local.port))) {
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
  std::optional<ConnectionCounters> counters;
  if (m.tcp && !l.listener) counters = counters_of(l, *m.tcp);
  emit(l.listener ? ConnectionEventKind::kUnlisten : ConnectionEventKind::kClose, l, m.cookie, now,
       space.ns, counters, false);
  sets.release(l.owner_set);
}

void ConnectionLog::State::emit(ConnectionEventKind kind, const Live& l, std::uint64_t cookie,
                                std::int64_t t, const NetworkNamespace& ns,
                                std::optional<ConnectionCounters> counters, bool lost) {
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
  switch (kind) {
    case ConnectionEventKind::kOpen: ++summary.opens; break;
    case ConnectionEventKind::kClose: ++summary.closes; break;
    case ConnectionEventKind::kListen: ++summary.listens; break;
    case ConnectionEventKind::kUnlisten: ++summary.unlistens; break;
  }
  (*sink)(e);
}

std::expected<void, Error> ConnectionLog::State::drain(Space& space) {
  for (int round = 0; round < 64 && !done(); ++round) {
    auto got = space.destroys.drain([&](const DiagMessage& m) {
      if (!done()) on_destroy(space, m);
    });
    if (!got) return std::unexpected(got.error());
    if (got->overflowed) space.overflowed = true;
    if (got->malformed) {
      summary.events_lost += got->malformed;
      warn(std::to_string(got->malformed) + " sock_diag datagrams could not be decoded");
    }
    if (got->messages == 0) break;
  }
  return {};
}

std::expected<void, Error> ConnectionLog::State::redump() {
  consume_tracer();  // connect()s the dump may find
  ++generation;
  ++summary.redumps;
  for (Space& space : spaces) {
    if (space.overflowed) {
      const std::uint64_t drops = space.destroys.drops();
      summary.events_lost += drops - space.drops;
      space.drops = drops;
    }
    if (auto d = dump_space(space, false); !d) return d;
    // What closed during the dump, before the diff's closes are trusted.
    if (auto d = drain(space); !d) return d;
    space.overflowed = false;
  }
  // Kept for 10 s: a late message comes within milliseconds of the close, and a
  // connect() is established or refused within its SYN retries (~2 min at most,
  // but its destroy message removes it; this bounds what a lost message leaves).
  const std::int64_t old = now_ns() - 10'000'000'000;
  std::erase_if(recovered, [&](const auto& kv) { return kv.second < old; });
  std::erase_if(connecting, [&](const auto& kv) {
    return kv.second.since < old - 120'000'000'000 && !live.count(kv.first);
  });
  // Processes no live socket refers to any more.
  if (processes.size() > 2 * sets.size() + 256) processes.retain_only(sets);
  return {};
}

std::expected<void, Error> ConnectionLog::State::loop() {
  using Clock = std::chrono::steady_clock;
  auto next_dump = Clock::now() + options.redump_interval;
  std::vector<pollfd> fds;
  while (!done()) {
    fds.clear();
    for (const Space& s : spaces) fds.push_back({s.destroys.fd(), POLLIN, 0});
    if (tracer) fds.push_back({tracer->fd(), POLLIN, 0});
    if (deadline_ns && now_ns() >= deadline_ns) break;
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_dump - Clock::now());
    const int timeout = int(std::clamp<std::int64_t>(wait.count(), 0, 100));
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      return std::unexpected(Error::os("poll", errno));
    }
    bool overflow = consume_tracer();
    for (Space& space : spaces) {
      if (auto d = drain(space); !d) return d;
      overflow |= space.overflowed;
    }
    if (overflow || Clock::now() >= next_dump) {
      if (auto d = redump(); !d) return d;
      next_dump = Clock::now() + options.redump_interval;
      if (summary.redumps % 4 == 0) refresh_spaces();
    }
    const std::size_t emitted = events();
    if (batch_done && emitted != emitted_at_batch) (*batch_done)();
    emitted_at_batch = emitted;
  }
  return {};
}

std::expected<void, Error> ConnectionLog::State::open_tracer() {
  using Tracer = ConnectionLogOptions::Tracer;
  if (options.tracer == Tracer::kOff || !options.tcp) {
    summary.tracer = "off";
    return {};
  }
  auto opened = host_detail::StateTracer::open();
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
  } else if (auto it = live.find(c.cookie); it != live.end()) {  // CLOSE: the state it left
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

ConnectionLog::ConnectionLog(ConnectionLogOptions options, const Naming& naming, ReportFn report)
    : state_(std::make_unique<State>(std::move(options), naming, std::move(report), stop_)) {}

ConnectionLog::~ConnectionLog() = default;

const ConnectionLogSummary& ConnectionLog::summary() const { return state_->summary; }

std::expected<ConnectionLogSummary, Error> ConnectionLog::run(
    const Sink& sink, const std::function<void()>& ready, const std::function<void()>& batch_done) {
  State& s = *state_;
  s.sink = &sink;
  s.batch_done = batch_done ? &batch_done : nullptr;
  if (auto opened = s.open_spaces(); !opened) return std::unexpected(opened.error());
  // The tracer before the baseline, as the destroy groups: nothing falls between.
  if (auto traced = s.open_tracer(); !traced) return std::unexpected(traced.error());
  for (auto& space : s.spaces) {
    if (auto d = s.dump_space(space, true); !d) return std::unexpected(d.error());
  }
  s.listeners.rebuild_index(s.live);
  if (s.options.duration.count() > 0) {
    s.deadline_ns = now_ns() + std::chrono::nanoseconds(s.options.duration).count();
  }
  if (ready) ready();
  auto looped = s.loop();
  // The last records and messages, and the drops, before the summary.
  s.consume_tracer();
  for (auto& space : s.spaces) {
    (void)s.drain(space);
    const std::uint64_t drops = space.destroys.drops();
    s.summary.events_lost += drops - space.drops;
    space.drops = drops;
  }
  if (!looped) return std::unexpected(looped.error());
  return s.summary;
}

}  // namespace sockscope
