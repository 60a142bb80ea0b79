// The options of `sockets` and `listen`, checked once, as a kernel query (transports
// and states go to the kernel) plus a predicate per socket for the rest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "sockscope/host_scan.hpp"

namespace sockscope::cli {

// The options as CLI11 fills them.
struct HostOptions {
  bool tcp = false, udp = false, sctp = false, dccp = false, listening = false, processes = false;
  bool all_netns = false, ephemeral_names = false;
  std::vector<std::string> states;
  int port = -1;
  std::string local, remote, group, service, process;
  std::string owners_from = "auto";
  double watch = -1;
  int count = -1;
};

// --local/--remote: an endpoint, an address or a CIDR prefix.
struct AddressMatch {
  std::optional<Endpoint> endpoint;
  std::optional<IpPrefix> prefix;

  bool matches(const Endpoint& ep) const {
    const IpAddress a = ep.address.unmapped();
    if (endpoint) return ep.port == endpoint->port && a == endpoint->address.unmapped();
    return prefix->contains(a);
  }
};

struct HostFilter {
  HostScanOptions scan;  // the query, owners, namespaces
  bool listeners_only = false;
  std::optional<Port> port;
  std::optional<AddressMatch> local, remote;
  std::optional<PortGroup> group;
  std::string service;
  std::optional<int> pid;
  std::string command;

  // Whether a socket passes every filter (owners were resolved when a filter needs them).
  bool matches(const Naming& naming, const HostRow& row) const;
};

// Checks the options (one error line and nullopt when one is bad). `listen_only`: the
// `listen` command.
std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only);

// --owners-from's text; nullopt after one error line (exit 2) when unknown.
std::optional<OwnerSource> owner_source_option(Context& ctx, const std::string& text);
// Registers --owners-from on a subcommand.
void add_owners_from_option(CLI::App* sub, std::string& value);

}  // namespace sockscope::cli
