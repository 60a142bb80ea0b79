// ConnectionLog: destroy notifications, re-dump diffs, the state tracer and
// owner scans joined into one event stream by socket cookie (connection_log.hpp
// for the design). This part: the namespaces watched, the loop, run().
#include "sockscope/connection_log.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "host/connection_log_state.hpp"
#include "host/netns_enter.hpp"

namespace sockscope {

namespace host_detail {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Endpoint endpoint_of(std::uint8_t family, const std::uint8_t* address, Port port) {
  return {family == AF_INET ? IpAddress::v4_bytes(address) : IpAddress::v6_bytes(address), port};
}

}  // namespace host_detail

using host_detail::DiagMessage;
using host_detail::endpoint_of;
using host_detail::Live;
using host_detail::now_ns;

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
  std::erase_if(closing, [&](const auto& kv) { return kv.second.since < old; });
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
