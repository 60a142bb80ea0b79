// sockscope: the command-line tool. Parses global options, dispatches to the
// subcommand registered by each cmd_*.cpp file, and maps failures to exit codes.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/context.hpp"

int main(int argc, char** argv) {
  using namespace sockscope::cli;
  Context ctx;
  CLI::App app{
      "sockscope: sockets, socket pairs, ports and services, on this host and in captures.\n"
      "With no subcommand: an overview of this host."};
  app.set_version_flag("--version", "sockscope 0.1.0");
  app.require_subcommand(0, 1);
  app.fallthrough();
  bool json = false, csv = false;
  app.add_flag("--json", json, "JSON Lines output (one object per record)");
  app.add_flag("--csv", csv, "CSV output with a header row");
  app.add_flag("--no-color", ctx.no_color, "never colour the output");
  app.add_option("--services", ctx.services_files,
                 "extra services(5) file for local port labels (repeatable)")
      ->type_name("FILE")
      ->transform(keep_literal());

  add_model_commands(app, ctx);
  add_registry_commands(app, ctx);
  add_ephemeral_commands(app, ctx);
  add_host_commands(app, ctx);
  add_capture_commands(app, ctx);

  // Arguments are taken literally: see kLiteralMark.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string a = argv[i];
    if (a.size() >= 2 && a.front() == '[' && a.back() == ']') a.insert(a.begin(), kLiteralMark);
    args.push_back(std::move(a));
  }
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "sockscope: %s (see sockscope --help)\n", e.what());
    return kExitUsage;
  }
  if (json && csv) {
    std::fprintf(stderr, "sockscope: choose one of --json and --csv\n");
    return kExitUsage;
  }
  ctx.format = json ? Format::kJson : csv ? Format::kCsv : Format::kTable;
  ctx.style.enabled = ctx.format == Format::kTable && !ctx.no_color &&
                      std::getenv("NO_COLOR") == nullptr && ::isatty(STDOUT_FILENO);

  for (const auto& [sub, run] : ctx.handlers()) {
    if (sub->parsed()) return run();
  }
  return run_overview(ctx);
}
