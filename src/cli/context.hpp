// What every subcommand shares: global options, output sink, style, the host's
// ephemeral range (read once, on first use) and error reporting.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/output.hpp"
#include "sockscope/port.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::cli {

class Context {
 public:
  Format format = Format::kTable;
  bool no_color = false;
  bool all_netns = false;  // --all-netns before the subcommand (the overview's, too)
  std::vector<std::string> services_files;
  Style style;
  Sink out;

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

  // "sockscope: <message>" on stderr (stdout is flushed first so order holds).
  void error(std::string_view message);
  void warn(std::string_view message);

  // Registers what runs when `sub` is the parsed subcommand; returns an exit code.
  void on(CLI::App* sub, std::function<int()> run) { handlers_.emplace_back(sub, std::move(run)); }
  const std::vector<std::pair<CLI::App*, std::function<int()>>>& handlers() const {
    return handlers_;
  }

 private:
  bool host_read_ = false;
  std::optional<EphemeralRange> host_;
  std::unique_ptr<Registry> registry_;
  std::vector<std::pair<CLI::App*, std::function<int()>>> handlers_;
};

// CLI11 reads an argument written as "[a,b]" as a list, which would mangle
// "[::1]" and "[2001:db8::1]". main() marks such arguments with kLiteralMark
// and every string option strips it again with this transform.
inline constexpr char kLiteralMark = '\x1f';
CLI::Validator keep_literal();

// Each file of subcommands registers itself here (called from main).
void add_model_commands(CLI::App& app, Context& ctx);
void add_registry_commands(CLI::App& app, Context& ctx);
void add_ephemeral_commands(CLI::App& app, Context& ctx);
void add_host_commands(CLI::App& app, Context& ctx);
void add_capture_commands(CLI::App& app, Context& ctx);

// `sockscope` with no subcommand: the host overview (cmd_host.cpp).
int run_overview(Context& ctx);

}  // namespace sockscope::cli
