// sockscope: the command-line tool. Parses global options, dispatches to the
// subcommand registered by each cmd_*.cpp file, and maps failures to exit codes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "cli/context.hpp"
#include "sockscope/version.hpp"

namespace {

using sockscope::cli::Context;

// Each file of subcommands and the names (and aliases) it registers. Building
// CLI11's option tree is most of a short run's work (every option is checked
// against its siblings), so a run registers only the area of the subcommand it
// names. The names are a hint: when the named area does not register the word
// (a stale entry), the remaining areas are registered too and CLI11 decides as
// before.
struct Area {
  void (*add)(CLI::App&, Context&);
  std::initializer_list<std::string_view> names;
};
const Area kAreas[] = {
    {sockscope::cli::add_model_commands, {"endpoint", "pair", "groups"}},
    {sockscope::cli::add_registry_commands, {"port", "service", "search"}},
    {sockscope::cli::add_ephemeral_commands, {"ephemeral"}},
    {sockscope::cli::add_host_commands, {"sockets", "listen"}},
    {sockscope::cli::add_capture_commands, {"conversations", "conv"}},
    {sockscope::cli::add_watch_commands, {"watch"}},
};

bool is_number(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789.") == std::string_view::npos;
}

// The subcommand word: the first argument that is not a global option (or the
// value of --services, --watch or --count). Empty when there is none. Sets `help`
// when help is asked for before it.
std::string_view subcommand_word(int argc, char** argv, bool& help) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all") help = true;
    if (a == "--") return {};
    if (a == "--services") {
      ++i;
      continue;
    }
    // The overview's --watch SECONDS and --count N.
    if ((a == "--watch" || a == "--count") && i + 1 < argc && is_number(argv[i + 1])) {
      ++i;
      continue;
    }
    if (a.empty() || a.front() != '-') return a;
  }
  return {};
}

// Registers the area that defines `word`, or every area (in help order) when
// the word is unknown or help is asked for without one. A run without a
// subcommand (the overview, --version) needs none.
void add_commands(CLI::App& app, Context& ctx, int argc, char** argv) {
  bool help = false;
  const std::string_view word = subcommand_word(argc, argv, help);
  if (word.empty() && !help) return;
  const Area* chosen = nullptr;
  if (!word.empty()) {
    for (const Area& area : kAreas) {
      for (std::string_view name : area.names) {
        if (name == word) chosen = &area;
      }
    }
  }
  if (chosen) {
    chosen->add(app, ctx);
    const std::string name(word);
    if (!app.get_subcommands([&](CLI::App* sub) { return sub->check_name(name); }).empty()) return;
  }
  for (const Area& area : kAreas) {
    if (&area != chosen) area.add(app, ctx);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sockscope::cli;
  Context ctx;
  CLI::App app{
      "sockscope: sockets, socket pairs, ports and services, on this host and in captures.\n"
      "With no subcommand: an overview of this host.",
      "sockscope"};
  app.set_version_flag("--version", std::string("sockscope ") + std::string(sockscope::kVersion));
  app.require_subcommand(0, 1);
  app.fallthrough();
  bool json = false, csv = false, zeek = false, zeek_json = false;
  app.add_flag("--json", json, "JSON Lines output (one object per record)");
  app.add_flag("--csv", csv, "CSV output with a header row");
  app.add_flag("--zeek", zeek,
               "Zeek's TSV log format (#fields/#types header, for zeek-cut); conversations "
               "as Zeek's conn.log");
  app.add_flag("--zeek-json", zeek_json,
               "JSON Lines with Zeek's conn.log field names (watch: joins a sensor's conn.log "
               "on community_id)");
  app.add_flag("--no-color", ctx.no_color, "never colour the output");
  app.add_flag("--all-netns", ctx.all_netns,
               "every network namespace (the overview, sockets, listen, watch), each tagged");
  app.add_option("--services", ctx.services_files,
                 "extra services(5) file for local port labels (repeatable)")
      ->type_name("FILE")
      ->transform(keep_literal());

  OverviewFlags overview;
  add_overview_options(app, overview);
  add_commands(app, ctx, argc, argv);

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
  if (int(json) + int(csv) + int(zeek) + int(zeek_json) > 1) {
    std::fprintf(stderr, "sockscope: choose one of --json, --csv, --zeek and --zeek-json\n");
    return kExitUsage;
  }
  ctx.format = json || zeek_json ? Format::kJson
               : csv             ? Format::kCsv
               : zeek            ? Format::kZeek
                                 : Format::kTable;
  ctx.zeek_names = zeek_json;
  ctx.style.enabled = ctx.format == Format::kTable && !ctx.no_color &&
                      std::getenv("NO_COLOR") == nullptr && ::isatty(STDOUT_FILENO);

  for (const auto& [sub, run] : ctx.handlers()) {
    if (!sub->parsed()) continue;
    if (zeek_json && sub->get_name() != "watch") {
      std::fprintf(stderr, "sockscope: --zeek-json is a format of watch; %s has --json and --zeek\n",
                   sub->get_name().c_str());
      return kExitUsage;
    }
    // The overview's options reach the top level from a subcommand that lacks them
    // (CLI11's fallthrough), or stand before the subcommand: either way, unused.
    for (const CLI::Option* o : overview.options) {
      if (o->count() == 0) continue;
      std::string names = o->get_name(false, true);
      std::replace(names.begin(), names.end(), ',', '/');
      std::fprintf(stderr,
                   "sockscope: %s is an option of the overview (sockscope without a "
                   "subcommand), not of %s; a subcommand's options follow its name\n",
                   names.c_str(), sub->get_name().c_str());
      return kExitUsage;
    }
    return run();
  }
  return run_overview(ctx, overview);
}
