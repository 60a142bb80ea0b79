// Subcommands over this host's live sockets: sockets, listen, and their --watch.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "cli/host_filter.hpp"
#include "cli/watch.hpp"
#include "output/kinds/host.hpp"
#include "serve/metrics.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/overview.hpp"

namespace sockscope::cli {
namespace {

std::vector<std::string_view> hidden_fields(const Context& ctx, const HostOptions& o, bool watch,
                                            bool all_netns) {
  return output::hidden_socket_fields({.human = ctx.human(),
                                       .watch = watch,
                                       .processes = o.processes,
                                       .all_netns = all_netns,
                                       .numeric = o.numeric,
                                       .extended = o.extended,
                                       .timers = o.timers,
                                       .info = o.info,
                                       .memory = o.memory});
}

output::WriterOptions writer_options(Context& ctx, const HostOptions& o, bool watch,
                                     bool all_netns) {
  output::WriterOptions wo{.host_ephemeral = ctx.host_range(), .style = ctx.style};
  wo.hidden = hidden_fields(ctx, o, watch, all_netns);
  wo.header_once = watch;
  wo.no_header = o.no_header;
  return wo;
}

const Naming& naming_for(Context& ctx, const HostOptions& o) {
  return ctx.naming({.name_guesses = o.ephemeral_names});
}

int run_sockets(Context& ctx, const HostOptions& o, bool listen_only) {
  auto filter = make_filter(ctx, o, listen_only);
  if (!filter) return kExitUsage;
  const Naming& naming = naming_for(ctx, o);
  HostScan scan(filter->scan, naming, ctx.reporter());
  output::RecordWriter out(ctx.format, ctx.out, {&output::kSocketKind},
                           writer_options(ctx, o, false, filter->scan.all_namespaces));
  std::size_t shown = 0;
  auto done = scan.run([&](const HostRow& row) {
    if (!filter->matches(naming, row)) return;
    ++shown;
    out.write(output::kSocketKind, output::SocketRow{row});
  });
  out.finish();
  if (!done) {
    ctx.error(done.error().what());
    return kExitRuntime;
  }
  return shown ? kExitOk : kExitNotFound;
}

std::string optional_count(const std::optional<std::uint64_t>& n) {
  return n ? std::to_string(*n) : "?";
}

// -s: like ss -s, sockets by transport, family and state, then the kernel's counters.
int run_summary(Context& ctx, const HostOptions& o, bool listen_only) {
  auto filter = make_filter(ctx, o, listen_only);
  if (!filter) return kExitUsage;
  const Naming& naming = naming_for(ctx, o);
  HostScan scan(filter->scan, naming, ctx.reporter());
  SocketSummaryBuilder builder;
  for (Transport t : filter->scan.query.transports) builder.include(t);
  auto done = scan.run([&](const HostRow& row) {
    if (filter->matches(naming, row)) builder.add(row.socket.record);
  });
  if (!done) {
    ctx.error(done.error().what());
    return kExitRuntime;
  }
  const std::vector<TransportCount> counts = builder.finish();
  const KernelSocketCounts k = read_kernel_socket_counts();
  output::WriterOptions wo{.style = ctx.style};
  wo.no_header = o.no_header;
  output::RecordWriter out(ctx.format, ctx.out,
                           {&output::kTransportSummaryKind, &output::kKernelSocketsKind}, wo);
  out.note(fmt::format("Total: {} sockets of every family (/proc/net/sockstat)",
                       optional_count(k.sockets_used)));
  std::uint64_t established = 0;
  for (const auto& c : counts) {
    if (c.transport == Transport::kTcp) established = c.states.of(SocketState::kEstablished);
  }
  out.note(fmt::format("TCP:   {} IPv4 + {} IPv6 in use (estab {}, orphaned {}, timewait {})\n",
                       optional_count(k.tcp_inuse), optional_count(k.tcp6_inuse), established,
                       optional_count(k.tcp_orphan), optional_count(k.tcp_time_wait)));
  for (const auto& c : counts)
    out.write(output::kTransportSummaryKind, output::TransportSummaryRow(c));
  if (!ctx.human()) out.write(output::kKernelSocketsKind, k);
  out.finish();
  return kExitOk;
}

// --watch: the first view from a scan, then the connection log's events
// (connection_log.hpp) as rows, so a socket that opened and closed between two
// refreshes is shown too. A socket is keyed as the view shows it: namespace,
// transport, endpoints.
struct WatchKey {
  std::uint64_t netns;
  Transport transport;
  Endpoint local, remote;
  friend bool operator==(const WatchKey&, const WatchKey&) = default;
};
struct WatchKeyHash {
  std::size_t operator()(const WatchKey& k) const {
    return SocketPair{k.transport, k.local, k.remote}.hash() ^ k.netns;
  }
};
WatchKey key_of(const SocketRecord& r) { return {r.netns, r.transport, r.local, r.remote}; }

// A socket as it was shown, kept for its disappearance (owners copied: the scan
// or event that found them is gone by then).
struct Seen {
  SocketRecord record;
  LocalRole role;
  Evidence evidence;
  const Service* service;
  std::size_t netns_index;
  bool owners_known;
  OwnerMissing owner_missing;
  std::vector<std::string> commands;  // storage for owners' command views
  std::vector<ProcessOwner> owners;

  Seen(const HostRow& row, std::size_t ns)
      : record(row.socket.record),
        role(row.socket.role),
        evidence(row.socket.evidence),
        service(row.service),
        netns_index(ns),
        owners_known(row.owners_known),
        owner_missing(row.owner_missing) {
    commands.reserve(row.owners.size());
    for (const ProcessOwner& o : row.owners) {
      commands.emplace_back(o.command);
      owners.push_back({o.pid, o.fd, commands.back()});
    }
  }
  Seen(const Seen&) = delete;
  Seen(Seen&&) = default;
};

// The state a socket the log saw only at its end had while it was open, for the
// state filter: LISTEN or UNCONN for a listener, ESTAB for a connection.
SocketState state_while_open(const ConnectionEvent& e) {
  if (e.role != LocalRole::kListener) return SocketState::kEstablished;
  return e.record.transport == Transport::kTcp ? SocketState::kListen : SocketState::kClose;
}

// The rows of one --watch run: what is shown now, and the stamp line before the
// first change of each refresh period.
class WatchView {
 public:
  WatchView(const HostFilter& filter, const Naming& naming, output::RecordWriter& out,
            double interval)
      : filter_(filter), naming_(naming), out_(out), interval_(interval) {}

  // The first view: every socket the scan gives and the filter takes, kept...
  void first(const HostRow& row) {
    if (shown_.empty()) shown_.reserve(64);  // the buckets, and so the order, of before
    if (filter_.matches(naming_, row)) {
      shown_.emplace(key_of(row.socket.record), Seen(row, netns(row.netns)));
    }
  }
  // ...then written after the line that counts them; the refresh periods start.
  void show_first() {
    out_.note(
        fmt::format("{} sockets now; watching every {}s (Ctrl-C ends)", shown_.size(), interval_));
    for (const auto& [key, seen] : shown_) emit(seen, "");
    out_.flush();
    start_ = std::chrono::steady_clock::now();
  }

  void event(const ConnectionEvent& e) {
    const bool ends =
        e.kind == ConnectionEventKind::kClose || e.kind == ConnectionEventKind::kUnlisten;
    const WatchKey key = key_of(e.record);
    if (auto it = shown_.find(key); it != shown_.end()) {
      if (!ends) return;  // in the view already (opened while the first one was taken)
      change(it->second, "disappeared");
      shown_.erase(it);
      return;
    }
    if (hidden_.erase(key) && ends) return;  // opened outside the filter
    ConnectionEvent open = e;
    if (ends) open.record.state = state_while_open(e);  // seen only at its end
    std::vector<ProcessOwner> owners;
    std::vector<std::string> commands;
    const HostRow row = row_of(open, ends, owners, commands);
    if (!filter_.matches_unqueried(naming_, row)) {
      if (!ends) hidden_.insert(key);
      return;
    }
    Seen seen(row, netns(row.netns));
    change(seen, "appeared", seen.role == LocalRole::kListener);
    if (ends) {
      seen.record.state = e.record.state;
      change(seen, "disappeared");
    } else {
      shown_.emplace(key, std::move(seen));
    }
  }

 private:
  // The event's socket as a row; owners with the descriptor that holds it now.
  HostRow row_of(const ConnectionEvent& e, bool ended, std::vector<ProcessOwner>& owners,
                 std::vector<std::string>& commands) const {
    const bool known = filter_.scan.owners;
    commands.reserve(e.owners.size());
    for (const ConnectionOwner& o : e.owners) {
      commands.emplace_back(o.command);
      const bool here = e.netns && e.netns->current;  // a cookie is looked up here only
      const int fd = ended || (!here && !e.record.inode) ? -1 : socket_descriptor(o.pid, e.record);
      owners.push_back({o.pid, fd, commands.back()});
    }
    OwnerMissing missing = e.owner_missing;
    if (owners.empty() && missing == OwnerMissing::kNone) missing = OwnerMissing::kNoProcess;
    return HostRow{{e.record, e.role, e.evidence}, e.service, *e.netns, owners, missing, known};
  }
  std::size_t netns(const NetworkNamespace& ns) {
    auto it = std::find_if(namespaces_.begin(), namespaces_.end(),
                           [&](const NetworkNamespace& n) { return n.inode == ns.inode; });
    if (it == namespaces_.end()) it = namespaces_.insert(namespaces_.end(), ns);
    return std::size_t(it - namespaces_.begin());
  }
  void emit(const Seen& s, std::string_view event, bool new_listener = false) {
    const HostRow row{{s.record, s.role, s.evidence},
                      s.service,
                      namespaces_[s.netns_index],
                      s.owners,
                      s.owner_missing,
                      s.owners_known};
    out_.write(output::kSocketKind, output::SocketRow{row, event, new_listener});
  }
  // Unexplained open ports are a security concern: a new listener says so.
  void change(const Seen& s, std::string_view event, bool new_listener = false) {
    const auto since = std::chrono::steady_clock::now() - start_;
    const auto period = std::int64_t(std::chrono::duration<double>(since).count() / interval_);
    if (period != stamped_period_) out_.note(watch::stamp());
    stamped_period_ = period;
    emit(s, event, new_listener);
  }

  const HostFilter& filter_;
  const Naming& naming_;
  output::RecordWriter& out_;
  double interval_;
  std::chrono::steady_clock::time_point start_;
  std::int64_t stamped_period_ = -1;
  std::unordered_map<WatchKey, Seen, WatchKeyHash> shown_;
  std::unordered_set<WatchKey, WatchKeyHash> hidden_;
  std::vector<NetworkNamespace> namespaces_;  // stable storage for the rows' namespaces
};

// The connection log for --watch: the scan's transports, families, namespaces and
// owners; `count` refreshes of `interval` seconds (-1: until Ctrl-C).
ConnectionLogOptions watch_log_options(Context& ctx, const HostFilter& f, double interval,
                                       int count) {
  const auto& t = f.scan.query.transports;
  ConnectionLogOptions lo;
  lo.tcp = std::find(t.begin(), t.end(), Transport::kTcp) != t.end();
  lo.udp = std::find(t.begin(), t.end(), Transport::kUdp) != t.end();
  lo.ipv4 = f.scan.query.ipv4;
  lo.ipv6 = f.scan.query.ipv6;
  lo.all_namespaces = f.scan.all_namespaces;
  lo.owners = f.scan.owners;
  lo.owner_source = f.scan.owner_source;
  lo.redump_interval = std::chrono::milliseconds(std::int64_t(std::min(interval, 0.5) * 1000));
  lo.host_ephemeral = ctx.host_range();
  if (count > 0) lo.duration = std::chrono::milliseconds(std::int64_t(count * interval * 1000));
  return lo;
}

int run_watch(Context& ctx, const HostOptions& o, bool listen_only) {
  auto filter = make_filter(ctx, o, listen_only);
  if (!filter) return kExitUsage;
  if (o.count == 0) return kExitOk;
  const double interval = o.watch > 0 ? o.watch : 2.0;
  watch::catch_interrupts();
  const Naming& naming = naming_for(ctx, o);
  output::RecordWriter out(ctx.format, ctx.out, {&output::kSocketKind},
                           writer_options(ctx, o, true, filter->scan.all_namespaces));
  WatchView view(*filter, naming, out, interval);
  ConnectionLog log(watch_log_options(ctx, *filter, interval, o.count), naming, ctx.reporter());
  std::optional<Error> failed;
  std::atomic<bool> finished{false};
  std::thread interrupts([&] {  // Ctrl-C reaches the log through its stop()
    while (!finished.load() && watch::pause(0.05)) {
    }
    log.stop();
  });
  // The first view once the log's baseline is in place: nothing falls between.
  const auto first_view = [&] {
    HostScan scan(filter->scan, naming, ctx.reporter());
    auto done = scan.run([&](const HostRow& row) { view.first(row); });
    if (!done) {
      failed = done.error();
      return log.stop();
    }
    view.show_first();
  };
  auto summary =
      log.run([&](const ConnectionEvent& e) { view.event(e); }, first_view, [&] { out.flush(); });
  finished = true;
  interrupts.join();
  out.finish();
  if (!failed && !summary) failed = summary.error();
  if (failed) {
    ctx.error(failed->what());
    return kExitRuntime;
  }
  return kExitOk;
}

// ss's letters: the ones with an answer here, and the rest as a clear error.
void add_ss_letters(CLI::App* sub, HostOptions& o) {
  sub->add_flag("-a,--all", o.all, "listeners and other sockets (ss -a; already the default)");
  sub->add_flag("-n,--numeric", o.numeric, "no service names (ss -n; SERVICE left out)");
  sub->add_flag("-H,--no-header", o.no_header, "no header line (tables and CSV)");
  sub->add_flag("-4,--ipv4", o.ipv4, "IPv4 sockets only (IPv4-mapped ones are IPv6 sockets)");
  sub->add_flag("-6,--ipv6", o.ipv6, "IPv6 sockets only");
  sub->add_flag("-e,--extended", o.extended, "user, inode and the kernel's socket cookie");
  sub->add_flag("-i,--info", o.info,
                "TCP's tcp_info: rtt, rttvar, cwnd, retransmits, bytes acked and received, "
                "delivery rate");
  sub->add_flag("-o,--options", o.timers, "the kernel's timers (ss -o): keepalive,119min,0");
  sub->add_flag("-m,--memory", o.memory, "socket memory (ss -m's skmem)");
  sub->add_flag("-s,--summary", o.summary,
                "counts by transport, family and state, and the kernel's counters (ss -s)");
}

void add_filter_options(CLI::App* sub, HostOptions& o, bool listen_cmd) {
  sub->add_flag("--tcp,-t", o.tcp, "TCP sockets");
  sub->add_flag("--udp,-u", o.udp, "UDP sockets");
  sub->add_flag("--sctp,-S", o.sctp,
                "SCTP sockets, where the kernel has sctp_diag (a warning says when not)");
  sub->add_flag("--dccp,-d", o.dccp,
                "DCCP sockets, where the kernel still has DCCP (removed in Linux 6.16)");
  add_ss_letters(sub, o);
  if (!listen_cmd) {
    sub->add_option("--state", o.states,
                    "only these states (a list, repeatable): established, listen, time-wait, "
                    "syn-sent, syn-recv, close-wait, unconn, ..., or ss's groups connected, "
                    "synchronized, bucket, big")
        ->type_name("STATES")
        ->transform(keep_literal());
  }
  sub->add_flag("--listening,-l", o.listening, "listeners only (LISTEN, UDP without a peer)");
  sub->add_option("--port", o.ports, "either side's port: a list like 7001,8443,:https,6000-6063")
      ->type_name("PORTS")
      ->transform(keep_literal());
  sub->add_option("--local", o.local, "local endpoints, addresses or CIDR prefixes (a list)")
      ->type_name("HOSTS")
      ->transform(keep_literal());
  sub->add_option("--remote", o.remote, "remote endpoints, addresses or CIDR prefixes (a list)")
      ->type_name("HOSTS")
      ->transform(keep_literal());
  sub->add_option("--group", o.group, "local port's group: well-known, registered, dynamic")
      ->transform(keep_literal());
  sub->add_option("--service", o.service,
                  "a name or alias the registry gives the server side's port")
      ->transform(keep_literal());
  sub->add_option("--process", o.process, "owning process: command name or pid")
      ->transform(keep_literal());
  sub->add_option("--user", o.user, "the socket's owner: user name or uid")
      ->type_name("USER")
      ->transform(keep_literal());
  sub->add_flag("--processes,-p", o.processes, "show owning processes (pid, command, fd)");
  add_owners_from_option(sub, o.owners_from);
  sub->add_flag("--all-netns", o.all_netns,
                "every network namespace (/proc/*/ns/net, /run/netns), not just this one");
  sub->add_flag("--ephemeral-names", o.ephemeral_names,
                "name services also for the lower port of two that both look ephemeral");
  sub->add_option("--watch", o.watch,
                  "print sockets as they appear and disappear, even between refreshes (the "
                  "connection log), stamped every SECONDS (default 2); flag new listeners")
      ->expected(0, 1)
      ->default_str("2")
      ->check(seconds_up_to(86400));
  sub->add_option("--count", o.count, "with --watch: stop after N refresh periods")
      ->check(count_at_least(0));
  sub->add_option("FILTER", o.words,
                  "ss's filter expression (state established '( dport = :443 )') or lsof's "
                  "selections (:443, @10.0.0.1, tcp@[::1]:8080)")
      ->transform(keep_literal());
}

// One view, the summary, or --watch's stream.
int run_host(Context& ctx, CLI::App* sub, const HostOptions& o, bool listen_only) {
  const bool watch = sub->get_option("--watch")->count() > 0;
  if (sub->get_option("--count")->count() > 0 && !watch) {
    ctx.error("--count counts --watch's refreshes: give --watch too");
    return kExitUsage;
  }
  if (o.summary && watch) {
    ctx.error("-s counts once: it does not go with --watch");
    return kExitUsage;
  }
  if (o.summary) return run_summary(ctx, o, listen_only);
  if (watch) return run_watch(ctx, o, listen_only);
  return run_sockets(ctx, o, listen_only);
}

}  // namespace

void add_sockets_command(CLI::App& app, Context& ctx) {
  static HostOptions o;
  auto* sockets = app.add_subcommand(
      "sockets", "this host's TCP and UDP sockets as socket pairs, with roles (like ss -tuan)");
  add_filter_options(sockets, o, false);
  ctx.on(sockets, [&ctx, sockets] { return run_host(ctx, sockets, o, false); });
}

void add_listen_command(CLI::App& app, Context& ctx) {
  static HostOptions o;
  auto* listen = app.add_subcommand("listen", "what this host serves: listening sockets");
  add_filter_options(listen, o, true);
  ctx.on(listen, [&ctx, listen] {
    if (ctx.prometheus) return write_prometheus(ctx, serve::kListenerFamilies, false);
    return run_host(ctx, listen, o, true);
  });
}

}  // namespace sockscope::cli
