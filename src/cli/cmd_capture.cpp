// `sockscope conversations` (alias `conv`): capture files or a live interface,
// demultiplexed into conversations by socket pair.
//
// Records go out as they end for --json/--csv/--zeek (streaming, bounded memory, on a
// thread of their own: capture_stream.hpp) unless --sort is given; the table and the
// --by aggregations collect, then sort (capture_rows.hpp). The summary (packets,
// conversations by transport, undecodable packets by reason, early evictions) ends
// the table on stdout and goes to stderr for the machine formats.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "cli/capture_rows.hpp"
#include "cli/capture_stream.hpp"
#include "cli/context.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_live.hpp"
#include "sockscope/capture_reader.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::cli {
namespace {

struct Options {
  std::vector<std::string> files;
  std::string interface;
  std::string filter;
  std::uint64_t count = 0;
  double seconds = 0;
  std::string sort = "bytes";
  bool sort_given = false;  // machine formats are sorted only when asked
  std::string by;
  bool zeek = false;
  bool sample = false;
  double timeout = 60;
  double close_delay = 5;
  std::size_t max_conversations = 0;
};

// --by service|server|client: one row per group.
struct Group {
  std::string transport, key, service;
  std::uint64_t conversations = 0, packets = 0, bytes = 0;
  std::set<std::string> peers;  // distinct client hosts (server, service) or servers
  std::set<Port> client_ports;  // --by client: distinct source ports
};

int render_groups(Context& ctx, const Conversations& v, const std::string& by,
                  const std::string& sort) {
  std::map<std::pair<std::string, std::string>, Group> groups;
  for (const auto& c : v) {
    std::string key;
    const std::string transport(to_string(c.pair.transport));
    const std::string service(service_of(ctx.registry(), c));
    if (by == "service") {
      key = service.empty() ? fmt::format("port {}", c.pair.second.port) : service;
      if (!has_ports(c.pair.transport)) key = "-";
    } else if (by == "server") {
      key = c.pair.second.to_string();
    } else {
      key = c.pair.first.address.to_string();
    }
    // A client host's conversations over every transport form one group.
    Group& g = groups[{by == "client" ? std::string() : transport, key}];
    if (g.transport.find(transport) == std::string::npos) {
      g.transport += (g.transport.empty() ? "" : ",") + transport;
    }
    g.key = key;
    g.service = service;
    ++g.conversations;
    g.packets += c.packets();
    g.bytes += c.ip_bytes();
    if (by == "client") {
      g.peers.insert(c.pair.second.to_string());
      g.client_ports.insert(c.pair.first.port);
    } else {
      g.peers.insert(c.pair.first.address.to_string());
    }
  }
  std::vector<Group> rows;
  for (auto& [k, g] : groups) rows.push_back(std::move(g));
  std::stable_sort(rows.begin(), rows.end(), [&](const Group& a, const Group& b) {
    if (sort == "packets") return a.packets > b.packets;
    if (sort == "conversations") return a.conversations > b.conversations;
    return a.bytes > b.bytes;
  });
  const std::string key_name = by == "service" ? "service" : by == "server" ? "server" : "client";
  const std::string peer_name = by == "client" ? "servers" : "client_hosts";
  if (ctx.format == Format::kJson) {
    for (const auto& g : rows) {
      JsonWriter j(ctx.out.buffer());
      j.begin_object().str("transport", g.transport).str(key_name, g.key);
      if (by == "server") {
        if (g.service.empty()) {
          j.null("service");
        } else {
          j.str("service", g.service);
        }
      }
      j.num("conversations", g.conversations).num("packets", g.packets).num("bytes", g.bytes);
      j.num(peer_name, std::uint64_t(g.peers.size()));
      if (by == "client") j.num("client_ports", std::uint64_t(g.client_ports.size()));
      j.end_object().end_line();
    }
    return kExitOk;
  }
  std::vector<std::string> headers = {"TRANSPORT", key_name == "service"  ? "SERVICE"
                                                   : key_name == "server" ? "SERVER"
                                                                          : "CLIENT"};
  if (by == "server") headers.push_back("SERVICE");
  for (const char* h : {"CONVERSATIONS", "PACKETS", "BYTES"}) headers.push_back(h);
  headers.push_back(by == "client" ? "SERVERS" : "CLIENT HOSTS");
  if (by == "client") headers.push_back("CLIENT PORTS");
  std::vector<bool> right(headers.size(), true);
  right[0] = right[1] = false;
  if (by == "server") right[2] = false;
  Table table(headers, right);
  for (const auto& g : rows) {
    std::vector<std::string> cells = {g.transport, g.key};
    if (by == "server") cells.push_back(g.service.empty() ? "-" : g.service);
    cells.push_back(std::to_string(g.conversations));
    cells.push_back(std::to_string(g.packets));
    cells.push_back(ctx.format == Format::kCsv ? std::to_string(g.bytes)
                                               : std::string(bytes_text(g.bytes)));
    cells.push_back(std::to_string(g.peers.size()));
    if (by == "client") cells.push_back(std::to_string(g.client_ports.size()));
    table.add_row(std::move(cells));
  }
  if (ctx.format == Format::kCsv) {
    table.render_csv(ctx.out.buffer());
  } else {
    table.render(ctx.out.buffer(), ctx.style);
  }
  return kExitOk;
}

std::string summary_text(const CaptureStats& stats, const ConversationTable& table) {
  std::string s = fmt::format("{} packets, {} conversations", stats.packets, table.emitted());
  std::string parts;
  for (Transport t : kAllTransports) {
    if (const auto n = table.emitted_by_transport(t)) {
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", to_string(t), n);
    }
  }
  if (!parts.empty()) s += " (" + parts + ")";
  if (const auto dropped = stats.dropped_total()) {
    std::string reasons;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
      if (stats.dropped[i]) {
        reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", to_string(DropReason(i)),
                               stats.dropped[i]);
      }
    }
    s += fmt::format("; {} not counted ({})", dropped, reasons);
  }
  if (const auto cut = table.histories_truncated()) {
    s += fmt::format("; {} histories longer than 16 letters, shown cut (history_truncated)", cut);
  }
  if (const auto early = table.evicted_early()) {
    s += fmt::format("; {} emitted early because the table was full (--max-conversations)", early);
  }
  return s;
}

// A progress bar on stderr for big files when stderr is a terminal.
class Progress {
 public:
  Progress(std::string name, std::uint64_t size)
      : name_(std::move(name)),
        size_(size),
        enabled_(size > (8u << 20) && ::isatty(STDERR_FILENO)),
        start_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\x1b[K");
  }
  void update(std::uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(100) && done < size_) return;
    last_ = now;
    shown_ = true;
    const double fraction = size_ ? std::min(1.0, double(done) / double(size_)) : 0;
    const int width = 30, filled = int(fraction * width);
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %.0f MB/s", name_.c_str(), filled,
                 "==============================", width - filled, "", int(fraction * 100),
                 secs > 0 ? double(done) / secs / 1e6 : 0.0);
    std::fflush(stderr);
  }

 private:
  std::string name_;
  std::uint64_t size_;
  bool enabled_, shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

std::optional<std::string> find_sample() {
  if (const char* env = std::getenv("SOCKSCOPE_SAMPLE")) return std::string(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const auto dir = exe.parent_path();
  for (const auto& candidate : {dir / "../../data/sample.pcapng", dir / "../data/sample.pcapng",
                                dir / "../share/sockscope/sample.pcapng"}) {
    if (std::filesystem::exists(candidate, ec)) return candidate.lexically_normal().string();
  }
  return std::nullopt;
}

PcapSource* g_live = nullptr;
extern "C" void stop_live(int) {
  if (g_live) g_live->stop();
}

int run_conversations(Context& ctx, Options& o) {
  if (o.sample) {
    auto sample = find_sample();
    if (!sample) {
      ctx.error("the sample capture (data/sample.pcapng) is not installed next to this binary");
      return kExitRuntime;
    }
    o.files = {*sample};
  }
  if (o.files.empty() && o.interface.empty()) {
    std::fprintf(stderr,
                 "sockscope conversations: which packets? Give capture files (pcap or pcapng, "
                 "'-' for stdin)\nor a live interface:\n"
                 "  sockscope conversations trace.pcapng\n"
                 "  sockscope conversations --interface eth0 --filter 'tcp port 443' --count "
                 "1000\n"
                 "For a first look, a small sample capture ships with sockscope:\n"
                 "  sockscope conversations --sample\n");
    return kExitUsage;
  }
  if (!o.files.empty() && !o.interface.empty()) {
    ctx.error("give capture files or --interface, not both");
    return kExitUsage;
  }
  if (!o.by.empty() && o.by != "service" && o.by != "server" && o.by != "client") {
    ctx.error("--by '" + o.by + "': want service, server or client");
    return kExitUsage;
  }
  static const std::set<std::string> kSorts = {"bytes", "packets", "duration", "first",
                                               "conversations"};
  if (!kSorts.count(o.sort) || (o.sort == "conversations" && o.by.empty())) {
    ctx.error("--sort '" + o.sort + "': want bytes, packets, duration or first" +
              (o.by.empty() ? "" : " (or conversations with --by)"));
    return kExitUsage;
  }
  if (o.zeek && (ctx.format != Format::kTable || !o.by.empty())) {
    ctx.error("--zeek is an output format of its own: leave out --json, --csv and --by");
    return kExitUsage;
  }
  if (!(o.timeout > 0)) {
    ctx.error("--timeout must be a positive number of seconds");
    return kExitUsage;
  }
  if (!(o.close_delay > 0)) {
    ctx.error("--close-delay must be a positive number of seconds");
    return kExitUsage;
  }

  ConversationOptions options;
  options.idle_timeout_ns = std::uint64_t(o.timeout * 1e9);
  options.tcp_close_delay_ns = std::uint64_t(o.close_delay * 1e9);
  if (o.max_conversations) {
    options.max_conversations = o.max_conversations;
  } else {
    // A quarter of physical memory at ConversationTable::bytes_per_conversation() each.
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) {
      options.max_conversations =
          std::size_t(pages) * std::size_t(page) / 4 / ConversationTable::bytes_per_conversation();
    }
  }

  const bool machine = ctx.format == Format::kJson || ctx.format == Format::kCsv || o.zeek;
  const bool streaming = o.by.empty() && machine && !o.sort_given;
  const RowStream::Row row = o.zeek                         ? zeek_row
                             : ctx.format == Format::kJson ? json_row
                                                           : csv_row;
  const Registry& registry = ctx.registry();  // loaded here, before any thread reads it
  if (o.zeek) zeek_header(ctx.out.buffer());
  if (o.by.empty() && ctx.format == Format::kCsv) ctx.out.append(kCsvHeader);
  ctx.out.flush();
  Conversations collected;
  std::optional<RowStream> stream;
  if (streaming) stream.emplace(registry, row);
  ConversationTable table(options, [&](const Conversation& c) {
    if (stream) {
      stream->push(c);
    } else {
      collected.push_back(c);
    }
  });

  CaptureStats stats;
  int failures = 0;
  int exit_on_failure = kExitRuntime;
  if (!o.interface.empty()) {
    LiveOptions live{.interface = o.interface,
                     .filter = o.filter,
                     .max_packets = o.count,
                     .max_seconds = o.seconds};
    auto source = PcapSource::open_live(live);
    if (!source) {
      ctx.error(source.error().what());
      return source.error().code == Error::Code::kBadSyntax ? kExitUsage : kExitRuntime;
    }
    g_live = source->get();
    std::signal(SIGINT, stop_live);
    std::signal(SIGTERM, stop_live);
    read_pcap(**source, table, stats);
    g_live = nullptr;
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if ((*source)->error()) {
      ctx.error((*source)->error()->what());
      ++failures;
    }
    if (auto drops = (*source)->kernel_drops(); drops && *drops) {
      ctx.warn(fmt::format("the kernel dropped {} packets", *drops));
    }
  }
  for (const auto& file : o.files) {
    // Our reader first (fast); libpcap for filters and for formats ours declines.
    if (o.filter.empty()) {
      auto reader = CaptureReader::open(file);
      if (reader) {
        Progress progress((*reader)->name(), (*reader)->size());
        read_capture(**reader, table, stats, [&](std::uint64_t done) { progress.update(done); });
        if ((*reader)->error()) {
          ctx.error((*reader)->error()->what() + " (results so far are kept)");
          ++failures;
        }
        continue;
      }
      if (reader.error().code != Error::Code::kUnsupported) {
        ctx.error(reader.error().what());
        ++failures;
        if (reader.error().code == Error::Code::kEmpty ||
            reader.error().code == Error::Code::kTruncated) {
          exit_on_failure = kExitUsage;
        }
        continue;
      }
    }
    auto source = PcapSource::open_file(file, o.filter);
    if (!source) {
      ctx.error(source.error().what());
      ++failures;
      if (source.error().code == Error::Code::kBadSyntax) return kExitUsage;
      exit_on_failure = kExitUsage;
      continue;
    }
    read_pcap(**source, table, stats);
    if ((*source)->error()) {
      ctx.error((*source)->error()->what() + " (results so far are kept)");
      ++failures;
    }
  }
  table.finish();
  if (failures && stats.packets == 0) {  // nothing could be read: the errors said why
    ctx.out.flush();
    return exit_on_failure;
  }

  if (stream) stream->finish();
  if (!o.by.empty()) {
    render_groups(ctx, collected, o.by, o.sort);
  } else if (!streaming && machine) {
    for (const Conversation* c : sorted_conversations(collected, o.sort)) {
      row(ctx.out.buffer(), *c, service_of(registry, *c));
      ctx.out.maybe_flush();
    }
  } else if (!streaming) {
    render_table(ctx.out, registry, collected, o.sort, ctx.style.bold(), ctx.style.reset());
  }
  if (o.zeek) zeek_footer(ctx.out.buffer());
  const std::string summary = summary_text(stats, table);
  if (ctx.format == Format::kTable && !o.zeek) {
    fmt::format_to(fmt::appender(ctx.out.buffer()), "{}{}{}\n", ctx.style.dim(), summary,
                   ctx.style.reset());
    ctx.out.flush();
  } else {
    ctx.out.flush();
    std::fprintf(stderr, "sockscope: %s\n", summary.c_str());
  }
  return table.emitted() == 0 ? kExitNotFound : kExitOk;
}

}  // namespace

void add_capture_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand(
      "conversations",
      "Conversations in capture files or on an interface: one per socket pair occurrence, "
      "with client/server roles, per-direction packets and bytes, Zeek's conn_state and "
      "history, Community ID");
  sub->alias("conv");
  sub->add_option("files", o->files, "pcap or pcapng files ('-' = standard input)")
      ->type_name("FILE")
      ->transform(keep_literal());
  sub->add_option("-i,--interface", o->interface, "capture live on this interface (libpcap)")
      ->type_name("IF")
      ->transform(keep_literal());
  sub->add_option("-f,--filter", o->filter, "BPF filter, as tcpdump takes it")
      ->type_name("EXPR")
      ->transform(keep_literal());
  sub->add_option("-c,--count", o->count, "live: stop after this many packets")->type_name("N");
  sub->add_option("--duration", o->seconds, "live: stop after this many seconds")
      ->type_name("SECONDS");
  sub->add_option("--sort", o->sort,
                  "order: bytes (default), packets, duration, first; with --by also "
                  "conversations. --json/--csv/--zeek stream rows as conversations end unless "
                  "--sort is given")
      ->type_name("KEY")
      ->transform(keep_literal())
      ->each([o](const std::string&) { o->sort_given = true; });
  sub->add_option("--by", o->by,
                  "aggregate: service, server (connections per server socket), client (ports "
                  "per client host)")
      ->type_name("WHAT")
      ->transform(keep_literal());
  sub->add_flag("--zeek", o->zeek, "Zeek conn.log (TSV with Zeek's header, for zeek-cut)");
  sub->add_option("--timeout", o->timeout,
                  "seconds of silence that end a UDP/ICMP/SCTP conversation (default 60)")
      ->type_name("SECONDS");
  sub->add_option("--close-delay", o->close_delay,
                  "seconds after a TCP close or reset before a packet on the same pair starts "
                  "a new conversation (default 5, as Zeek's tcp_close_delay)")
      ->type_name("SECONDS");
  sub->add_option("--max-conversations", o->max_conversations,
                  "live conversations held at most; the oldest idle ones are emitted early "
                  "(default: a quarter of memory)")
      ->type_name("N");
  sub->add_flag("--sample", o->sample, "read the small sample capture shipped with sockscope");
  ctx.on(sub, [&ctx, o] { return run_conversations(ctx, *o); });
}

}  // namespace sockscope::cli
