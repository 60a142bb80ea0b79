// Subcommands over this host's live sockets: sockets, listen, the overview
// (sockscope without arguments) and --watch. Rows are formatted straight into
// the output buffer while the kernel's dump streams in.
#include <fmt/format.h>
#include <fmt/chrono.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "cli/host_view.hpp"
#include "sockscope/community_id.hpp"

namespace sockscope::cli {
namespace {

// Only listeners pass for `listen` and --listening: LISTEN, and UDP without a peer.
bool listening_only_ok(const HostRow& row) {
  return row.socket.role == LocalRole::kListener;
}

// Column widths of the table; longer values push the line, never cut it.
constexpr int kEndpointWidth = 26;

class RowPrinter {
 public:
  RowPrinter(Context& ctx, HostScan& scan, bool processes, bool netns)
      : ctx_(ctx), scan_(scan), processes_(processes), netns_(netns) {}

  // `indent`: the width of the watch marks, so the header lines up.
  void header(std::string_view indent = {}) {
    auto out = std::back_inserter(ctx_.out.buffer());
    if (ctx_.format == Format::kCsv) {
      fmt::format_to(out, "transport,state,recv_q,send_q,local,remote,role,role_evidence,service,"
                          "uid,inode{}{}\n",
                     netns_ ? ",netns" : "", processes_ ? ",processes,owner_missing" : "");
    } else if (ctx_.format == Format::kTable) {
      fmt::format_to(out, "{}{}{:<6}{:<11}{:>7} {:>7} {:<{}} {:<{}} {:<26} {:<14}{}{}{}\n",
                     ctx_.style.bold(), indent, "NETID", "STATE", "RECV-Q", "SEND-Q", "LOCAL",
                     kEndpointWidth, "PEER", kEndpointWidth, "ROLE", "SERVICE",
                     netns_ ? " NETNS" : "", processes_ ? " PROCESS" : "", ctx_.style.reset());
    }
  }

  // `mark`: "" or a watch prefix ("+ ", "- "); `event`: "appeared"/"disappeared".
  void row(const HostRow& row, std::string_view mark = {}, std::string_view event = {},
           bool new_listener = false) {
    auto& buf = ctx_.out.buffer();
    const SocketRecord& r = row.socket.record;
    char local[Endpoint::kMaxTextSize], remote[Endpoint::kMaxTextSize];
    const std::string_view l(local, r.local.format(local)), p(remote, r.remote.format(remote));
    const std::string_view service = row.service ? row.service->name : std::string_view{};
    switch (ctx_.format) {
      case Format::kJson: json(row, event, new_listener); break;
      case Format::kCsv: {
        auto out = std::back_inserter(buf);
        fmt::format_to(out, "{},{},{},{},{},{},{},{},", to_string(r.transport), to_string(r.state),
                       r.rqueue, r.wqueue, l, p, to_string(row.socket.role),
                       to_string(row.socket.evidence));
        csv_field(buf, service);
        fmt::format_to(out, ",{},{}", r.uid, r.inode);
        if (netns_) {
          buf.push_back(',');
          csv_field(buf, row.netns.label());
        }
        if (processes_) {
          buf.push_back(',');
          fmt::memory_buffer owners;
          owners_text(owners, r);
          csv_field(buf, std::string_view(owners.data(), owners.size()));
          buf.push_back(',');
          csv_field(buf, missing_text(r));
        }
        buf.push_back('\n');
        break;
      }
      case Format::kTable: {
        // Hand-padded cells written with one size check each: this loop runs
        // once per socket on hosts with hundreds of thousands of them, and
        // fmt's dynamic widths (or appends byte by byte) cost more.
        put(buf, mark);
        cell(buf, to_string(r.transport), 6);
        cell(buf, to_string(r.state), 11);
        number(buf, r.rqueue, 7);
        put(buf, " ");
        number(buf, r.wqueue, 7);
        put(buf, " ");
        cell(buf, l, kEndpointWidth + 1);
        cell(buf, p, kEndpointWidth + 1);
        const std::size_t role_start = buf.size();
        put(buf, to_string(row.socket.role));
        if (row.socket.role != LocalRole::kListener) {
          put(buf, " (");
          put(buf, to_string(row.socket.evidence));
          put(buf, ")");
        }
        pad(buf, role_start, 27);
        if (netns_ || processes_ || !event.empty()) {
          cell(buf, service.empty() ? "-" : service, 15);
        } else {
          put(buf, service.empty() ? std::string_view("-") : service);
        }
        if (netns_) cell(buf, row.netns.label(), 1);
        if (processes_) {
          if (!owners_text(buf, r)) {
            put(buf, "(");
            put(buf, missing_text(r));
            put(buf, ")");
          }
        }
        if (!event.empty()) {
          put(buf, " ");
          put(buf, new_listener ? ctx_.style.red() : std::string_view{});
          put(buf, new_listener ? std::string_view("NEW LISTENER") : event);
          put(buf, ctx_.style.reset());
        }
        put(buf, "\n");
        break;
      }
    }
    ctx_.out.maybe_flush(1 << 14);
  }

 private:
  // Appends "pid/command:fdN,..."; false when the socket has no owner.
  bool owners_text(fmt::memory_buffer& buf, const SocketRecord& r) {
    auto owners = scan_.owners().of(r.inode);
    // Written by hand, each owner with one size check: this runs for every
    // socket with -p (fmt's parsing of a format string cost ~2 ms per 20,000 rows).
    for (std::size_t i = 0; i < owners.size(); ++i) {
      const fmt::format_int pid(owners[i].pid), fd(owners[i].fd);
      const std::string_view command = owners[i].command;
      char* out = extend(buf, (i != 0) + pid.size() + 1 + command.size() + 3 + fd.size());
      if (i) *out++ = ',';
      out = std::copy_n(pid.data(), pid.size(), out);
      *out++ = '/';
      out = std::copy_n(command.data(), command.size(), out);
      out = std::copy_n(":fd", 3, out);
      std::copy_n(fd.data(), fd.size(), out);
    }
    return !owners.empty();
  }
  // Grows `buf` by `n` bytes and returns where they start (one capacity check).
  static char* extend(fmt::memory_buffer& buf, std::size_t n) {
    const std::size_t at = buf.size();
    buf.resize(at + n);
    return buf.data() + at;
  }
  static void put(fmt::memory_buffer& buf, std::string_view text) {
    if (text.empty()) return;  // a default view's data() is null: no memcpy from it
    std::memcpy(extend(buf, text.size()), text.data(), text.size());
  }
  // Appends n spaces; up to 32 (every cell here) as one fixed-size store into
  // room reserved past the end: a memset call per cell cost more.
  static void spaces(fmt::memory_buffer& buf, std::size_t n) {
    static constexpr char kSpaces[] = "                                ";
    constexpr std::size_t kMost = sizeof kSpaces - 1;
    if (n > kMost) {
      std::memset(extend(buf, n), ' ', n);
      return;
    }
    const std::size_t at = buf.size();
    buf.reserve(at + kMost);
    std::memcpy(buf.data() + at, kSpaces, kMost);
    buf.resize(at + n);
  }
  static void pad(fmt::memory_buffer& buf, std::size_t start, std::size_t width) {
    std::size_t used = buf.size() - start;
    spaces(buf, used < width ? width - used : 1);
  }
  static void cell(fmt::memory_buffer& buf, std::string_view text, std::size_t width) {
    const std::size_t start = buf.size();
    put(buf, text);
    pad(buf, start, width);
  }
  static void number(fmt::memory_buffer& buf, std::uint32_t value, std::size_t width) {
    fmt::format_int digits(value);
    spaces(buf, digits.size() < width ? width - digits.size() : 0);
    put(buf, std::string_view(digits.data(), digits.size()));
  }
  std::string_view missing_text(const SocketRecord& r) {
    OwnerMissing why = scan_.owners().why_missing(r);
    return why == OwnerMissing::kNone ? std::string_view{} : to_string(why);
  }

  void json(const HostRow& row, std::string_view event, bool new_listener) {
    const SocketRecord& r = row.socket.record;
    const auto host = ctx_.host_range();
    JsonWriter j(ctx_.out.buffer());
    j.begin_object();
    if (!event.empty()) j.str("event", event);
    if (new_listener) j.boolean("new_listener", true);
    j.str("transport", to_string(r.transport))
        .str("state", to_string(r.state))
        .endpoint("local", r.local, host)
        .endpoint("remote", r.remote, host)
        .str("role", to_string(row.socket.role))
        .str("role_evidence", to_string(row.socket.evidence));
    if (row.service) {
      j.str("service", row.service->name);
    } else {
      j.null("service");
    }
    j.num("recv_q", unsigned{r.rqueue}).num("send_q", unsigned{r.wqueue}).num("uid", unsigned{r.uid});
    j.num("inode", std::uint64_t{r.inode});
    if (r.autobound) {
      j.boolean("autobound", *r.autobound);
    } else {
      j.null("autobound");
    }
    if (r.unconnected()) {
      j.null("community_id");
    } else {
      j.str("community_id", community_id(row.socket.pair()));
    }
    j.str("netns", row.netns.label());
    if (processes_) {
      auto owners = scan_.owners().of(r.inode);
      if (owners.empty()) {
        OwnerMissing why = scan_.owners().why_missing(r);
        j.str("owner_missing", to_string(why)).str("owner_missing_reason", explain(why));
      } else {
        j.begin_array("processes");
        for (const auto& o : owners) {
          j.begin_object().num("pid", o.pid).str("command", o.command).num("fd", o.fd).end_object();
        }
        j.end_array();
      }
    }
    j.end_object().end_line();
  }

  Context& ctx_;
  HostScan& scan_;
  bool processes_;
  bool netns_;
};

int run_sockets(Context& ctx, const HostOptions& o, bool listen_only) {
  auto filter = make_filter(ctx, o, listen_only);
  if (!filter) return kExitUsage;
  const bool all_netns = o.all_netns || ctx.all_netns;
  HostScan scan(ctx, all_netns, o.ephemeral_names);
  scan.set_owner_source(filter->owners_from);
  if (filter->owners_needed && !scan.load_owners()) return kExitRuntime;
  const bool only_listeners = o.listening || listen_only;
  RowPrinter printer(ctx, scan, o.processes, all_netns);
  printer.header();
  std::size_t shown = 0;
  auto show = [&](const HostRow& row) {
    if (!filter->matches(scan, row)) return;
    ++shown;
    printer.row(row);
  };
  // While the owner scan runs on its thread, rows wait here (copied) so that
  // the dump and the scan overlap; once it is done they go out in order. At
  // most kMaxWaiting rows (2 MiB of address space, touched only as rows come)
  // wait: then the dump waits for the scan.
  struct Waiting {
    SocketRecord record;
    LocalRole role;
    Evidence evidence;
    const Service* service;
    const NetworkNamespace* netns;
  };
  constexpr std::size_t kMaxWaiting = 16384;
  std::vector<Waiting> waiting;
  // Waits for the scan, then shows the waiting rows (none when it failed: exit 3).
  auto flush_waiting = [&] {
    if (waiting.empty()) return;
    if (scan.owners_ready()) {
      for (const auto& w : waiting) {
        const HostSocket socket{w.record, w.role, w.evidence};
        show(HostRow{socket, w.service, *w.netns});
      }
    }
    waiting.clear();
    waiting.shrink_to_fit();
  };
  bool ok = scan.run(filter->query, [&](const HostRow& row) {
    if (only_listeners && !listening_only_ok(row)) return;
    if (filter->owners_needed) {
      if (!scan.owners_done() && waiting.size() < kMaxWaiting) {
        // Room for all that may wait, at once: growing by doubling copied the
        // rows and touched about three times their memory (6,500-8,200 rows
        // wait at 20k sockets: ~470 page faults more).
        if (waiting.capacity() == 0) waiting.reserve(kMaxWaiting);
        waiting.push_back({row.socket.record, row.socket.role, row.socket.evidence,
                           row.service, &row.netns});
        return;
      }
      flush_waiting();
      if (!scan.owners_ready()) return;
    }
    show(row);
  });
  flush_waiting();
  if (!ok || (filter->owners_needed && !scan.owners_ready())) return kExitRuntime;
  return shown ? kExitOk : kExitNotFound;
}

// --watch: a key per socket; what appeared and disappeared between two views.
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
struct Seen {
  SocketRecord record;
  LocalRole role;
  Evidence evidence;
  const Service* service;
  std::size_t netns_index;
};
using WatchMap = std::unordered_map<WatchKey, Seen, WatchKeyHash>;

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

int run_watch(Context& ctx, const HostOptions& o, bool listen_only) {
  auto filter = make_filter(ctx, o, listen_only);
  if (!filter) return kExitUsage;
  if (o.count == 0) return kExitOk;
  const double interval = o.watch > 0 ? o.watch : 2.0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const bool all_netns = o.all_netns || ctx.all_netns;
  HostScan scan(ctx, all_netns, o.ephemeral_names);
  scan.set_owner_source(filter->owners_from);
  if (filter->owners_needed && !scan.load_owners()) return kExitRuntime;
  RowPrinter printer(ctx, scan, false, all_netns);
  const bool only_listeners = o.listening || listen_only;
  std::vector<NetworkNamespace> namespaces;  // stable storage for HostRow::netns of old rows
  WatchMap previous;
  bool first = true;
  for (int view = 0; o.count < 0 || view <= o.count; ++view) {
    WatchMap current;
    current.reserve(previous.size() + 64);
    bool ok = scan.run(filter->query, [&](const HostRow& row) {
      if (only_listeners && !listening_only_ok(row)) return;
      if (!filter->matches(scan, row)) return;
      auto it = std::find_if(namespaces.begin(), namespaces.end(),
                             [&](const NetworkNamespace& n) { return n.inode == row.netns.inode; });
      if (it == namespaces.end()) it = namespaces.insert(namespaces.end(), row.netns);
      const SocketRecord& r = row.socket.record;
      current.emplace(WatchKey{r.netns, r.transport, r.local, r.remote},
                      Seen{r, row.socket.role, row.socket.evidence, row.service,
                           std::size_t(it - namespaces.begin())});
    });
    if (!ok) return kExitRuntime;
    auto emit = [&](const Seen& s, std::string_view mark, std::string_view event,
                    bool new_listener = false) {
      HostSocket hs{s.record, s.role, s.evidence};
      printer.row(HostRow{hs, s.service, namespaces[s.netns_index]}, mark, event, new_listener);
    };
    if (first) {
      if (ctx.format == Format::kTable) {
        ctx.out.append(fmt::format("{} sockets now; watching every {}s (Ctrl-C ends)\n",
                                   current.size(), interval));
      }
      printer.header("  ");
      for (const auto& [k, s] : current) emit(s, "  ", "");
      first = false;
    } else {
      auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      std::size_t changes = 0;
      std::string stamp = fmt::format("-- {:%H:%M:%S}", fmt::localtime(now));
      for (const auto& [k, s] : current) {
        if (previous.count(k)) continue;
        if (ctx.format == Format::kTable && changes++ == 0) ctx.out.append(stamp + "\n");
        // Unexplained open ports are a security concern: say so.
        emit(s, "+ ", "appeared", s.role == LocalRole::kListener);
      }
      for (const auto& [k, s] : previous) {
        if (current.count(k)) continue;
        if (ctx.format == Format::kTable && changes++ == 0) ctx.out.append(stamp + "\n");
        emit(s, "- ", "disappeared");
      }
    }
    ctx.out.flush();
    previous = std::move(current);
    if (o.count >= 0 && view == o.count) break;
    // Sleep in short steps so Ctrl-C ends promptly.
    for (double slept = 0; slept < interval && !g_interrupted; slept += 0.1) {
      ::poll(nullptr, 0, int(std::min(100.0, (interval - slept) * 1000)));
    }
    if (g_interrupted) break;
  }
  return kExitOk;
}

void add_filter_options(CLI::App* sub, HostOptions& o, bool listen_cmd) {
  sub->add_flag("--tcp,-t", o.tcp, "TCP sockets");
  sub->add_flag("--udp,-u", o.udp, "UDP sockets");
  sub->add_flag("--sctp,-S", o.sctp,
                "SCTP sockets, where the kernel has sctp_diag (a warning says when not)");
  sub->add_flag("--dccp,-d", o.dccp,
                "DCCP sockets, where the kernel still has DCCP (removed in Linux 6.16)");
  if (!listen_cmd) {
    sub->add_option("--state", o.states, "only this state (repeatable): established, listen, "
                                         "time-wait, syn-sent, syn-recv, close-wait, unconn, ...")
        ->transform(keep_literal());
    sub->add_flag("--listening,-l", o.listening, "listeners only (LISTEN, UDP without a peer)");
  }
  sub->add_option("--port", o.port, "either side's port");
  sub->add_option("--local", o.local, "local endpoint, address or CIDR")->transform(keep_literal());
  sub->add_option("--remote", o.remote, "remote endpoint, address or CIDR")
      ->transform(keep_literal());
  sub->add_option("--group", o.group, "local port's group: well-known, registered, dynamic")
      ->transform(keep_literal());
  sub->add_option("--service", o.service, "the registry's name for the server side's port")
      ->transform(keep_literal());
  sub->add_option("--process", o.process, "owning process: command name or pid")
      ->transform(keep_literal());
  sub->add_flag("--processes,-p", o.processes, "show owning processes (pid, command, fd)");
  add_owners_from_option(sub, o.owners_from);
  sub->add_flag("--all-netns", o.all_netns,
                "every network namespace (/proc/*/ns/net, /run/netns), not just this one");
  sub->add_flag("--ephemeral-names", o.ephemeral_names,
                "name services also for ports in the host's ephemeral range");
  sub->add_option("--watch", o.watch, "refresh every SECONDS (default 2): print what appeared "
                                      "and disappeared, flag new listeners")
      ->expected(0, 1)
      ->default_str("2");
  sub->add_option("--count", o.count, "with --watch: stop after N refreshes");
}

}  // namespace

void add_host_commands(CLI::App& app, Context& ctx) {
  static HostOptions sockets_opts, listen_opts;
  auto* sockets = app.add_subcommand(
      "sockets", "this host's TCP and UDP sockets as socket pairs, with roles (like ss -tuan)");
  add_filter_options(sockets, sockets_opts, false);
  auto* watch_s = sockets->get_option("--watch");
  ctx.on(sockets, [&ctx, watch_s] {
    if (watch_s->count() > 0) return run_watch(ctx, sockets_opts, false);
    return run_sockets(ctx, sockets_opts, false);
  });
  auto* listen = app.add_subcommand("listen", "what this host serves: listening sockets");
  add_filter_options(listen, listen_opts, true);
  auto* watch_l = listen->get_option("--watch");
  ctx.on(listen, [&ctx, watch_l] {
    if (watch_l->count() > 0) return run_watch(ctx, listen_opts, true);
    return run_sockets(ctx, listen_opts, true);
  });
}

int run_overview(Context& ctx) {
  render_overview(ctx);
  return kExitOk;
}

}  // namespace sockscope::cli
