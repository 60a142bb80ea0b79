// sockscope: the command-line tool. Parses global options, dispatches to the
// subcommand registered by each cmd_*.cpp file, and maps failures to exit codes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "cli/context.hpp"
#include "cli/generate.hpp"
#include "cli/host_filter.hpp"
#include "sockscope/version.hpp"

namespace {

using namespace sockscope::cli;

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
    {sockscope::cli::add_sockets_command, {"sockets"}},
    {sockscope::cli::add_listen_command, {"listen"}},
    {sockscope::cli::add_capture_commands, {"conversations", "conv"}},
    {sockscope::cli::add_watch_commands, {"watch"}},
    {sockscope::cli::add_serve_command, {"serve"}},
};

bool is_number(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789.") == std::string_view::npos;
}

// The subcommand word: the first argument that is not a global option (or the
// value of --services, --watch or --count). Empty when there is none. Sets `help`
// when help is asked for before it, or every command is needed (`help`, --generate).
std::string_view subcommand_word(int argc, char** argv, bool& help) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--generate") help = true;
    if (a == "--") return {};
    if (a == "--services" || a == "--generate" || a == "--format") {
      ++i;
      continue;
    }
    // The overview's --watch SECONDS and --count N.
    if ((a == "--watch" || a == "--count") && i + 1 < argc && is_number(argv[i + 1])) {
      ++i;
      continue;
    }
    if (a.empty() || a.front() != '-') {
      if (a == "help") help = true;
      return a;
    }
  }
  return {};
}

// Registers the area that defines `word`, or every area (in help order) when
// the word is unknown or help is asked for without one. A run without a
// subcommand (the overview, --version) needs none.
void add_help_command(CLI::App& app, Context& ctx);

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
  // `help` is listed by --help and taken as a word (which asks for every area);
  // other runs skip building it.
  if (help) add_help_command(app, ctx);
}

// Every command's --help ends with the global options (they go before or after
// it); the text is made only when help is printed.
void add_footers(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    sub->footer(std::function<std::string()>([&app] { return global_options_text(app); }));
  }
}

// `sockets` and `listen` with one of ss's letters sockscope has no answer for
// (-x, -w, ...): its own message (host_filter.hpp), exit 2; else 0.
int check_ss_letters(Context& ctx, int argc, char** argv) {
  bool help = false;
  const std::string_view word = subcommand_word(argc, argv, help);
  if (word != "sockets" && word != "listen") return 0;
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") break;
    if (after) {
      if (auto message = unsupported_ss_letter(argv[i])) {
        ctx.error(*message);
        return kExitUsage;
      }
    }
    after = after || std::string_view(argv[i]) == word;
  }
  return 0;
}

// `sockscope help [COMMAND]`: the same text as COMMAND --help (or --help).
void add_help_command(CLI::App& app, Context& ctx) {
  static std::string topic;
  auto* help = app.add_subcommand("help", "help on sockscope or one command: help sockets");
  help->add_option("COMMAND", topic, "a command, e.g. sockets");
  ctx.on(help, [&app, &ctx] {
    // The formatter directly: App::help() would describe the parsed `help` itself.
    if (topic.empty()) {
      std::fputs(
          app.get_formatter()->make_help(&app, "sockscope", CLI::AppFormatMode::Normal).c_str(),
          stdout);
      return int(kExitOk);
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() != "help" && sub->check_name(topic)) {
        const std::string path = "sockscope " + sub->get_name();
        std::fputs(sub->get_formatter()->make_help(sub, path, CLI::AppFormatMode::Normal).c_str(),
                   stdout);
        return int(kExitOk);
      }
    }
    ctx.error("help: no command named " + quote_input(topic) + " (sockscope help lists them)");
    return int(kExitUsage);
  });
}

// --generate man|bash|zsh: the documents made from the option table (generate.hpp).
int generate(const CLI::App& app, Context& ctx, const std::string& what) {
  const std::string version(sockscope::kVersion);
  if (what == "man") {
    std::fputs(man_page(app, version).c_str(), stdout);
  } else if (what == "bash") {
    std::fputs(bash_completion(app).c_str(), stdout);
  } else if (what == "zsh") {
    std::fputs(zsh_completion(app).c_str(), stdout);
  } else {
    ctx.error("--generate " + quote_input(what) + ": want man, bash or zsh");
    return kExitUsage;
  }
  return kExitOk;
}

// The global output flags, one of which picks the format.
struct FormatFlags {
  bool json = false, csv = false, zeek = false, zeek_json = false;
  std::string format;  // --format prometheus
};

void add_global_options(CLI::App& app, Context& ctx, FormatFlags& f) {
  app.set_version_flag("-V,--version",
                       std::string("sockscope ") + std::string(sockscope::kVersion));
  app.require_subcommand(0, 1);
  app.fallthrough();
  app.add_flag("--json", f.json, "JSON Lines output (one object per record)");
  app.add_flag("--csv", f.csv, "CSV output with a header row");
  app.add_flag("--zeek", f.zeek,
               "Zeek's TSV log format (#fields/#types header, for zeek-cut); conversations "
               "as Zeek's conn.log");
  app.add_flag("--zeek-json", f.zeek_json,
               "JSON Lines with Zeek's conn.log field names (watch: joins a sensor's conn.log "
               "on community_id)");
  app.add_option("--format", f.format,
                 "prometheus: the metrics of `serve` once, for node_exporter's textfile "
                 "collector (ephemeral, listen and the overview)")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"prometheus"}));
  app.add_flag("--no-color", ctx.no_color, "never colour the output");
  app.add_flag(
      "--all-netns", ctx.all_netns,
      "every network namespace (the overview, sockets, listen, ephemeral, watch), each tagged");
  app.add_option("--services", ctx.services_files,
                 "extra services(5) file for local port labels (repeatable)")
      ->type_name("FILE")
      ->transform(keep_literal());
}

// The format the flags chose, into ctx; false (after an error line) for two at once.
bool select_format(Context& ctx, const FormatFlags& f) {
  ctx.prometheus = f.format == "prometheus";
  if (int(f.json) + int(f.csv) + int(f.zeek) + int(f.zeek_json) + int(ctx.prometheus) > 1) {
    std::fprintf(stderr,
                 "sockscope: choose one of --json, --csv, --zeek, --zeek-json and --format\n");
    return false;
  }
  ctx.format = f.json || f.zeek_json ? Format::kJson
               : f.csv               ? Format::kCsv
               : f.zeek              ? Format::kZeek
                                     : Format::kTable;
  ctx.zeek_names = f.zeek_json;
  ctx.style.enabled = ctx.format == Format::kTable && !ctx.no_color &&
                      std::getenv("NO_COLOR") == nullptr && ::isatty(STDOUT_FILENO);
  return true;
}

// CLI11's parse with its help, version and usage errors as exit codes; -1 to go on.
int parse_arguments(CLI::App& app, int argc, char** argv) {
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
  return -1;
}

// The command that was parsed, after the checks that span commands.
int run_command(Context& ctx, const OverviewFlags& overview, bool zeek_json) {
  for (const auto& [sub, run] : ctx.handlers()) {
    if (!sub->parsed()) continue;
    if (zeek_json && sub->get_name() != "watch") {
      std::fprintf(stderr,
                   "sockscope: --zeek-json is a format of watch; %s has --json and --zeek\n",
                   sub->get_name().c_str());
      return kExitUsage;
    }
    const std::string& name = sub->get_name();
    if (ctx.prometheus && name != "ephemeral" && name != "listen") {
      std::fprintf(stderr,
                   "sockscope: --format prometheus is a format of ephemeral, listen and the "
                   "overview, not of %s\n",
                   name.c_str());
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

}  // namespace

int main(int argc, char** argv) {
  using namespace sockscope::cli;
  Context ctx;
  CLI::App app{
      "sockscope: sockets, socket pairs, ports and services, on this host and in captures.\n"
      "With no subcommand: an overview of this host.",
      "sockscope"};
  FormatFlags formats;
  add_global_options(app, ctx, formats);
  OverviewFlags overview;
  add_overview_options(app, overview);
  add_commands(app, ctx, argc, argv);
  add_footers(app);
  // `sockscope --generate man|bash|zsh` (the build's step; not an option of the
  // table it documents): every area is registered for it (subcommand_word).
  if (argc == 3 && std::string_view(argv[1]) == "--generate") return generate(app, ctx, argv[2]);
  if (const int bad = check_ss_letters(ctx, argc, argv)) return bad;
  if (const int done = parse_arguments(app, argc, argv); done >= 0) return done;
  if (!select_format(ctx, formats)) return kExitUsage;
  return run_command(ctx, overview, formats.zeek_json);
}
