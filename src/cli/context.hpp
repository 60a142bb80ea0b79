// What every subcommand shares: global options, the output sink and format, the
// host's ephemeral range (read once, on first use), the registry and the naming
// rule, and error reporting. A command parses its options, asks the library, and
// hands records to a writer (output/writer.hpp); nothing else.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "output/sink.hpp"
#include "output/writer.hpp"
#include "sockscope/error.hpp"
#include "sockscope/naming.hpp"
#include "sockscope/port.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::cli {

using output::Format;

// Exit codes shared by all subcommands.
enum Exit : int {
  kExitOk = 0,
  kExitNotFound = 1,
  kExitUsage = 2,
  kExitRuntime = 3,
  kExitThreshold = 4,
};

class Context {
 public:
  Format format = Format::kTable;
  bool no_color = false;
  bool all_netns = false;   // --all-netns before the subcommand (the overview's, too)
  bool zeek_names = false;  // --zeek-json: JSON Lines with Zeek's field names (watch)
  bool prometheus = false;  // --format prometheus (ephemeral, listen, the overview)
  std::vector<std::string> services_files;
  output::Style style;
  output::Sink out;

  bool human() const { return format == Format::kTable; }

  // The host's ip_local_port_range, or nullopt (with one warning on stderr)
  // when it cannot be read.
  const std::optional<EphemeralRange>& host_ephemeral();
  std::optional<PortRange> host_range() {
    const auto& r = host_ephemeral();
    return r ? std::optional<PortRange>(r->range) : std::nullopt;
  }

  // IANA's registry plus local labels: the --services files (in the order given),
  // then /etc/services. Built on first use; skipped lines are warned about
  // (file:line: problem). An unreadable --services file ends the program (exit 3).
  const Registry& registry();
  // The naming rule over registry(). `shared`: safe for several threads (no cache).
  const Naming& naming(NamingOptions options = {});

  // A writer of `kinds` in the chosen format; endpoints say whether their port is in
  // this host's ephemeral range when `host_ephemeral_fields`.
  output::RecordWriter writer(std::vector<const output::RecordKind*> kinds,
                              bool host_ephemeral_fields = false,
                              std::vector<std::string_view> hidden = {});

  // "sockscope: <message>" on stderr, one line of valid UTF-8: control
  // characters and invalid bytes escaped (stdout is flushed first so the order holds).
  void error(std::string_view message);
  void warn(std::string_view message);
  // Reports a library's warning or error as error() or warn() do.
  ReportFn reporter();

  // Registers what runs when `sub` is the parsed subcommand; returns an exit code.
  void on(CLI::App* sub, std::function<int()> run) { handlers_.emplace_back(sub, std::move(run)); }
  const std::vector<std::pair<CLI::App*, std::function<int()>>>& handlers() const {
    return handlers_;
  }

 private:
  bool host_read_ = false;
  std::optional<EphemeralRange> host_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::unique_ptr<Naming>> namings_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> handlers_;
};

// CLI11 reads an argument written as "[a,b]" as a list, which would mangle
// "[::1]" and "[2001:db8::1]". main() marks such arguments with kLiteralMark
// and every string option strips it again with this transform.
inline constexpr char kLiteralMark = '\x1f';
CLI::Validator keep_literal();

// Option values checked when parsed (exit 2 with the option named, never used
// silently): a number of seconds > 0 and at most `max` (finite: not inf, not
// nan); an integer count of at least `min`; a percentage 0-100, "80" or "80%"
// (the '%' is taken off).
CLI::Validator seconds_up_to(double max);
CLI::Validator count_at_least(long long min);
CLI::Validator percentage();

// An input echoed in an error line: in quotes, cut after kQuotedBytes with "..."
// (a 5,000-character argument stays one readable line).
inline constexpr std::size_t kQuotedBytes = 64;
std::string quote_input(std::string_view input);

// The exit code for a library error: bad input (syntax, not a capture) is a usage
// error, the rest a runtime failure.
int exit_code_of(const Error& e);

// Each file of subcommands registers itself here (called from main).
void add_model_commands(CLI::App& app, Context& ctx);
void add_registry_commands(CLI::App& app, Context& ctx);
void add_ephemeral_commands(CLI::App& app, Context& ctx);
void add_sockets_command(CLI::App& app, Context& ctx);
void add_listen_command(CLI::App& app, Context& ctx);
void add_capture_commands(CLI::App& app, Context& ctx);
void add_watch_commands(CLI::App& app, Context& ctx);
void add_serve_command(CLI::App& app, Context& ctx);

// --format prometheus: the host's families (output/metrics.hpp, `parts`) on stdout.
int write_prometheus(Context& ctx, unsigned parts, bool owners);

// The overview's options (`sockscope` with no subcommand), on the top-level app.
struct OverviewFlags {
  bool processes = false;  // -p: accepted; owners are shown by default
  bool no_processes = false;
  double watch = -1;                  // --watch [SECONDS]
  int count = -1;                     // --count N
  std::vector<CLI::Option*> options;  // all of the above: misplaced when a subcommand runs
  CLI::Option* watch_option = nullptr;

  bool watching() const { return watch_option && watch_option->count() > 0; }
};
void add_overview_options(CLI::App& app, OverviewFlags& flags);
// `sockscope` with no subcommand: the host overview (cmd_overview.cpp).
int run_overview(Context& ctx, const OverviewFlags& flags);

}  // namespace sockscope::cli
