// The options and filter words of `sockets` and `listen`, checked once, as a
// kernel query (transports, families, and ss's filter expression, which the
// netlink source runs as inet_diag bytecode) plus a predicate per socket for
// what the kernel cannot test (owners, users, groups, service names, lsof's
// selections).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/socket_filter.hpp"

namespace sockscope::cli {

// The options as CLI11 fills them.
struct HostOptions {
  bool tcp = false, udp = false, sctp = false, dccp = false, listening = false, processes = false;
  bool all_netns = false, ephemeral_names = false;
  // ss's letters: -a (already the default), -n, -H, -4, -6, -e, -i, -o, -m, -s.
  bool all = false, numeric = false, no_header = false, ipv4 = false, ipv6 = false;
  bool extended = false, info = false, timers = false, memory = false, summary = false;
  std::vector<std::string> unsupported;           // ss's letters sockscope has no answer for
  std::vector<std::string> states;                // --state, each a list
  std::vector<std::string> ports, local, remote;  // lists, repeatable
  std::string group, service, process, user;
  std::vector<std::string> words;  // ss's filter expression and lsof's selections
  std::string owners_from = "auto";
  double watch = -1;
  int count = -1;
};

// lsof's -i selection written as a filter word: [46][PROTOCOL][@HOST][:PORTS],
// e.g. ":443", "@10.0.0.1", "@[::1]:8080", "tcp:443", "udp@127.0.0.1:53".
struct Selection {
  std::optional<Transport> transport;
  std::optional<Family> family;
  std::optional<SocketFilter> filter;  // the host and ports, on either side

  bool matches(const SocketRecord& r) const;
};
// Whether `word` is written as lsof's selection rather than ss's filter language.
bool is_selection(std::string_view word);
std::expected<Selection, Error> parse_selection(std::string_view word, const Registry& names,
                                                const SocketFilterOptions& options);

struct HostFilter {
  HostScanOptions scan;  // the query (with the filter), owners, namespaces
  bool listeners_only = false;
  std::optional<PortGroup> group;
  std::string service;
  std::optional<int> pid;
  std::string command;
  std::optional<std::uint32_t> uid;
  std::vector<Selection> selections;  // any of them (lsof ORs its -i selections)

  // Whether a socket passes what the kernel did not test (owners were resolved
  // when a filter needs them).
  bool matches(const Naming& naming, const HostRow& row) const;
  // The same for a socket the scan's query did not choose (--watch's events): the
  // query's transports, families and ss expression (states included) first.
  bool matches_unqueried(const Naming& naming, const HostRow& row) const;
};

// ss's letters sockscope has no answer for (-x unix sockets, -w raw, -K kill, ...):
// the error line for an argument that holds one, alone or in a bundle ("-tw"), or
// nullopt. main() checks the arguments of `sockets` and `listen` with it before
// parsing: eleven more options would make every run's registration slower.
std::optional<std::string> unsupported_ss_letter(std::string_view arg);

// Checks the options (one error line and nullopt when one is bad). `listen_only`: the
// `listen` command.
std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only);

// --owners-from's text; nullopt after one error line (exit 2) when unknown.
std::optional<OwnerSource> owner_source_option(Context& ctx, const std::string& text);
// Registers --owners-from on a subcommand.
void add_owners_from_option(CLI::App* sub, std::string& value);

}  // namespace sockscope::cli
