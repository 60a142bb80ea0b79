// `sockscope conversations` (alias `conv`): capture files or a live interface,
// demultiplexed into conversations by socket pair.
//
// Records go out as they end for --json/--csv/--zeek (streaming, bounded memory, on a
// thread of their own: output/conversation_stream.hpp) unless --sort is given; the
// table and the --by aggregations collect, then sort. The summary (packets,
// conversations by transport, undecodable packets by reason, early evictions) ends
// the table on stdout and goes to stderr for the machine formats.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>

#include "cli/context.hpp"
#include "cli/ipfix_flags.hpp"
#include "output/conversation_rows.hpp"
#include "output/conversation_stream.hpp"
#include "output/kinds/capture.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/capture_input.hpp"
#include "sockscope/conversations.hpp"

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
  bool sample = false;
  double timeout = 60;
  double close_delay = 5;
  std::size_t max_conversations = 0;
  bool verify_checksums = false;
  double report_every = 0;  // seconds; 0 = only ended conversations
  IpfixFlags ipfix;
};

// "; tunnels opened: vxlan 12, gre 3 (inside not counted: truncated-tunnel 1)", or "".
std::string tunnels_text(const CaptureStats& stats) {
  std::string kinds, inner;
  for (std::size_t k = 1; k < kTunnelKindCount; ++k) {
    if (stats.tunnelled[k]) {
      kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", to_string(TunnelKind(k)),
                           stats.tunnelled[k]);
    }
  }
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    if (stats.inner_dropped[i]) {
      inner += fmt::format("{}{} {}", inner.empty() ? "" : ", ", to_string(DropReason(i)),
                           stats.inner_dropped[i]);
    }
  }
  std::string s;
  if (!kinds.empty()) s += "; tunnels opened: " + kinds;
  if (!inner.empty()) s += " (inside not counted: " + inner + ")";
  if (stats.bad_checksums) s += fmt::format("; {} bad checksums", stats.bad_checksums);
  return s;
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
  s += tunnels_text(stats);
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

CaptureInput* g_input = nullptr;
volatile std::sig_atomic_t g_stopped = 0;  // Ctrl-C: an interrupted read is no error
extern "C" void stop_live(int) {
  g_stopped = 1;
  if (g_input) g_input->stop();
}

// The options that only live capture and pipes take; exit code or 0.
int check_live_options(Context& ctx, const Options& o) {
  if (o.report_every > 0 && (ctx.human() || !o.by.empty() || o.sort_given)) {
    ctx.error(
        "--report-every writes open conversations into a --json, --csv or --zeek "
        "stream (not with the table, --by or --sort)");
    return kExitUsage;
  }
  if (o.report_every > 0 && o.interface.empty() && o.files != std::vector<std::string>{"-"}) {
    ctx.error(
        "--report-every is for a live capture (--interface) or a pipe ('-'): a file "
        "is read in one go");
    return kExitUsage;
  }
  if (o.interface.empty() && (o.count || o.seconds > 0)) {
    ctx.error(std::string(o.count ? "--count" : "--duration") +
              " is for live capture: give --interface IF (a file is read to its end)");
    return kExitUsage;
  }
  return 0;
}

// Checks the options; fills `order`, `by` and the table's options. Exit code or 0.
int check_options(Context& ctx, Options& o, ConversationOrder& order, std::optional<GroupBy>& by,
                  ConversationOptions& options) {
  if (o.sample) {
    if (!o.files.empty()) {
      ctx.error("give --sample or capture files, not both (" + quote_input(o.files.front()) + ")");
      return kExitUsage;
    }
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
  if (const int bad = check_live_options(ctx, o)) return bad;
  if (const int bad = check_ipfix(ctx, o.ipfix)) return bad;
  if (!o.by.empty()) {
    auto b = parse_group_by(o.by);
    if (!b) {
      ctx.error("--by " + quote_input(o.by) + ": want service, server or client");
      return kExitUsage;
    }
    by = *b;
  }
  auto sort = parse_conversation_order(o.sort);
  if (!sort || (*sort == ConversationOrder::kConversations && !by)) {
    ctx.error("--sort " + quote_input(o.sort) + ": want bytes, packets, duration or first" +
              (by ? " (or conversations with --by)" : ""));
    return kExitUsage;
  }
  order = *sort;
  if (!(o.timeout > 0)) {
    ctx.error("--timeout must be a positive number of seconds");
    return kExitUsage;
  }
  if (!(o.close_delay > 0)) {
    ctx.error("--close-delay must be a positive number of seconds");
    return kExitUsage;
  }
  options.idle_timeout_ns = std::uint64_t(o.timeout * 1e9);
  options.tcp_close_delay_ns = std::uint64_t(o.close_delay * 1e9);
  options.verify_checksums = o.verify_checksums;
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
  return 0;
}

// Where ended conversations go: the formatting thread (files), straight out and
// flushed row by row while a live capture or a pipe is read (a reader such as jq
// sees each conversation as it ends), or collected for sorting.
struct RowSink {
  RowSink(Context& c, const Naming& n, IpfixExporter* exporter)
      : ctx(c), naming(n), ipfix(exporter) {}
  Context& ctx;
  const Naming& naming;
  output::ConversationEncoder encode = nullptr;
  std::optional<output::RowStream> stream;
  ConversationStore collected;
  bool direct = false;
  IpfixFeed ipfix{nullptr};  // --ipfix: ended conversations also go there

  void operator()(const Conversation& c) {
    if (ipfix && !c.open) ipfix.add(c);
    if (direct) {
      encode(ctx.out.buffer(), c, output::service_name(naming, c));
      ctx.out.flush();
    } else if (stream) {
      stream->push(c);
    } else {
      collected.push_back(c);
    }
  }
  // From now on straight out (what the thread holds is written first).
  void go_direct() {
    if (!encode || direct) return;
    if (stream) stream->finish();
    stream.reset();
    direct = true;
  }
};

// A live capture or a pipe: packet by packet, rows out as they end; live capture
// ends silent conversations by the clock, and --report-every writes the open ones.
void read_streaming(const Options& o, CaptureInput& in, ConversationTable& table,
                    CaptureStats& stats, RowSink& rows) {
  rows.go_direct();
  const auto every = std::uint64_t(o.report_every * 1e9);
  std::uint64_t next_report = 0, next_export = 0;
  in.read_streaming(table, stats, [&](std::uint64_t now) {
    if (in.live()) table.expire(now);
    if (rows.ipfix && now >= next_export) {  // a quiet link's records go out within a second
      rows.ipfix.flush();
      next_export = now + 1'000'000'000;
    }
    if (!every) return;
    if (next_report && now >= next_report) {
      table.for_each_open([&](const Conversation& c) { rows(c); });
    }
    if (!next_report || now >= next_report) next_report = now + every;
  });
}

// What reading the inputs left to say: the exit code when nothing could be read
// (`fatal`), else the code for inputs that could not be opened while others were
// read (`partial`, with their names), else 0.
struct ReadOutcome {
  int fatal = 0;
  int partial = 0;
  std::vector<std::string> unread;
};

// Packets from the interface or every file into `table`. Failures are reported as
// they happen.
ReadOutcome read_inputs(Context& ctx, const Options& o, ConversationTable& table,
                        CaptureStats& stats, RowSink& rows) {
  int failures = 0, exit_on_failure = kExitRuntime;
  ReadOutcome outcome;
  auto read_one = [&](std::expected<std::unique_ptr<CaptureInput>, Error> input,
                      const std::string& name) {
    if (!input) {
      ctx.error(input.error().what());
      ++failures;
      const int code = exit_code_of(input.error());
      if (code == kExitUsage) exit_on_failure = kExitUsage;
      outcome.partial =
          std::max(outcome.partial, code == kExitUsage ? int(kExitUsage) : int(kExitRuntime));
      outcome.unread.push_back(name);
      return input.error().code == Error::Code::kBadSyntax;  // a bad filter ends the run
    }
    CaptureInput& in = **input;
    Progress progress(in.name(), in.size());
    if (in.streams()) {
      // Ctrl-C ends the reading; the conversations still open are written after.
      g_input = &in;
      std::signal(SIGINT, stop_live);
      std::signal(SIGTERM, stop_live);
      // A pipe blocks between packets: a timer flushes the export meanwhile.
      const bool timer = rows.ipfix && !in.live();
      if (timer) rows.ipfix.start_timer();
      read_streaming(o, in, table, stats, rows);
      if (timer) rows.ipfix.stop_timer();
      g_input = nullptr;
      std::signal(SIGINT, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);
    } else {
      in.read(table, stats, [&](std::uint64_t done) { progress.update(done); });
    }
    if (in.error() && !g_stopped) {
      ctx.error(in.error()->what() + (in.live() ? "" : " (results so far are kept)"));
      ++failures;
    }
    if (auto drops = in.kernel_drops(); drops && *drops) {
      ctx.warn(fmt::format("the kernel dropped {} packets", *drops));
    }
    return false;
  };
  if (!o.interface.empty()) {
    const LiveOptions live{.interface = o.interface,
                           .filter = o.filter,
                           .max_packets = o.count,
                           .max_seconds = o.seconds};
    if (read_one(CaptureInput::open_interface(live), o.interface)) return {kExitUsage};
  }
  // A pipe is read packet by packet when rows or IPFIX records are to come out as
  // conversations end (the export flushed every second), not at the pipe's end.
  const bool stream = rows.encode != nullptr || bool(rows.ipfix);
  for (const auto& file : o.files) {
    if (read_one(CaptureInput::open_file(file, o.filter, stream), file)) {
      return {kExitUsage};
    }
  }
  table.finish();
  // Nothing could be read: the errors said why.
  if (failures && stats.packets == 0 &&
      outcome.unread.size() == o.files.size() + !o.interface.empty()) {
    outcome.fatal = exit_on_failure;
  }
  return outcome;
}

output::ConversationEncoder encoder_for(Format format, bool open_column) {
  switch (format) {
    case Format::kJson: return output::conversation_json;
    case Format::kCsv:
      return open_column ? output::conversation_csv_open : output::conversation_csv;
    default: return open_column ? output::conversation_zeek_open : output::conversation_zeek;
  }
}

int run_conversations(Context& ctx, Options& o) {
  ConversationOrder order = ConversationOrder::kBytes;
  std::optional<GroupBy> by;
  ConversationOptions options;
  if (const int bad = check_options(ctx, o, order, by, options)) return bad;
  // Rows are formatted on other threads: a naming without a cache.
  const Naming& naming = ctx.naming({.cache = false});
  const bool streaming = !by && !ctx.human() && !o.sort_given;
  const output::RecordKind& kind =
      ctx.format == Format::kZeek ? output::kZeekConnKind : output::kConversationKind;
  const bool open_column = o.report_every > 0;
  auto out = ctx.writer(
      {by ? &output::group_kind(*by) : &kind}, false,
      open_column ? std::vector<std::string_view>{} : std::vector<std::string_view>{"open"});
  if (!by) out.begin();  // the header before rows formatted elsewhere
  ctx.out.flush();
  bool export_failed = false;
  const auto exporter = open_ipfix(ctx, o.ipfix, export_failed);
  RowSink rows{ctx, naming, exporter.get()};
  if (streaming) {
    rows.encode = encoder_for(ctx.format, open_column);
    rows.stream.emplace(naming, rows.encode);
  }
  ConversationTable table(options, [&](const Conversation& c) { rows(c); });
  CaptureStats stats;
  const ReadOutcome read = read_inputs(ctx, o, table, stats, rows);
  if (rows.stream) rows.stream->finish();
  if (read.fatal) return read.fatal;
  const ConversationStore& collected = rows.collected;
  if (by) {
    for (const auto& g : group_conversations(collected, *by, naming, order)) {
      out.write(output::group_kind(*by), g);
    }
  } else if (!streaming && !ctx.human()) {
    const auto encode = encoder_for(ctx.format, open_column);
    for (const Conversation* c : sorted(collected, order)) {
      encode(ctx.out.buffer(), *c, output::service_name(naming, *c));
      ctx.out.maybe_flush();
    }
  } else if (!streaming) {
    output::render_conversation_table(ctx.out, naming, collected, order, ctx.style);
  }
  out.finish();
  const std::string summary =
      summary_text(stats, table) + finish_ipfix(ctx, o.ipfix, exporter.get(), export_failed);
  if (ctx.human()) {
    fmt::format_to(fmt::appender(ctx.out.buffer()), "{}{}{}\n", ctx.style.dim(), summary,
                   ctx.style.reset());
    ctx.out.flush();
  } else {
    std::fprintf(stderr, "sockscope: %s\n", summary.c_str());
  }
  if (read.partial) {
    // The others were read and reported; the run still failed for these.
    std::string names;
    for (const auto& n : read.unread) names += (names.empty() ? "" : ", ") + quote_input(n);
    ctx.error("not read: " + names);
    return read.partial;
  }
  if (export_failed) return kExitRuntime;
  return table.emitted() == 0 ? kExitNotFound : kExitOk;
}

}  // namespace

// Timeouts and durations beyond a year are typing mistakes (and overflow nanoseconds).
constexpr double kYear = 365.0 * 24 * 3600;

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
  sub->add_option("-c,--count", o->count, "live: stop after this many packets")
      ->type_name("N")
      ->check(count_at_least(1));
  sub->add_option("--duration", o->seconds,
                  "live: stop after this many seconds, whether packets come or not")
      ->type_name("SECONDS")
      ->check(seconds_up_to(kYear));
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
  sub->add_option("--timeout", o->timeout,
                  "seconds of silence that end a UDP/ICMP/SCTP conversation (default 60)")
      ->type_name("SECONDS")
      ->check(seconds_up_to(kYear));
  sub->add_option("--close-delay", o->close_delay,
                  "seconds after a TCP close or reset before a packet on the same pair starts "
                  "a new conversation (default 5, as Zeek's tcp_close_delay)")
      ->type_name("SECONDS")
      ->check(seconds_up_to(kYear));
  sub->add_flag("--verify-checksums", o->verify_checksums,
                "check IP, TCP, UDP and ICMP checksums (Zeek's C/c history letters; a bad IPv4 "
                "header drops the packet); off by default, as in Zeek");
  sub->add_option("--max-conversations", o->max_conversations,
                  "live conversations held at most; the oldest idle ones are emitted early "
                  "(default: a quarter of memory)")
      ->type_name("N")
      ->check(count_at_least(1));
  sub->add_option("--report-every", o->report_every,
                  "live capture or a pipe ('-') with --json/--csv/--zeek: also write the "
                  "conversations still open every SECONDS (marked open: the counts so far)")
      ->type_name("SECONDS")
      ->check(seconds_up_to(kYear));
  add_ipfix_options(sub, o->ipfix);
  sub->add_flag("--sample", o->sample, "read the small sample capture shipped with sockscope");
  ctx.on(sub, [&ctx, o] { return run_conversations(ctx, *o); });
}

}  // namespace sockscope::cli
