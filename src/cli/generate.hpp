// The CLI's documentation generated from its own option table (the CLI11 App
// tree every command registers): the man page and the bash and zsh completion
// scripts list exactly the options the parser takes, so they cannot drift.
// `sockscope --generate man|bash|zsh` prints them; the build installs them.
// Thread safety: pure functions of the App.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace sockscope::cli {

// roff for man(1), section 1.
std::string man_page(const CLI::App& app, std::string_view version);
// A bash completion script (complete -F _sockscope sockscope).
std::string bash_completion(const CLI::App& app);
// A zsh completion function (#compdef sockscope).
std::string zsh_completion(const CLI::App& app);

// The global options in one block, for the footer of every command's --help:
// they go before or after the command's own.
std::string global_options_text(const CLI::App& app);

}  // namespace sockscope::cli
