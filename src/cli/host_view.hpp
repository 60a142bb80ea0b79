// What the host subcommands share: the dump over one or all network
// namespaces with roles, the service shown for a socket, and lazy owners.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "sockscope/host.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/process_owners.hpp"

namespace sockscope::cli {

// One socket as the views see it.
struct HostRow {
  const HostSocket& socket;
  const Service* service;           // shown name (nullptr: none, or hidden as ephemeral)
  const NetworkNamespace& netns;
};

class HostScan {
 public:
  HostScan(Context& ctx, bool all_netns, bool ephemeral_names)
      : ctx_(ctx), all_netns_(all_netns), ephemeral_names_(ephemeral_names) {}

  // Dumps every namespace asked for; returns false (after one error line) when
  // nothing could be read. Namespaces that cannot be entered are warned about.
  bool run(const SocketQuery& query, const std::function<void(const HostRow&)>& fn);

  // The registry's name for the socket's server port; ports in the host's
  // ephemeral range are named only when asked (--ephemeral-names).
  const Service* service_of(const HostSocket& s) const;
  // The registry's name regardless of the ephemeral range (for --service).
  const Service* any_service_of(const HostSocket& s) const;

  // Where owners come from (--owners-from); before the first owners() call.
  void set_owner_source(OwnerSource from) { owner_source_ = from; }
  // Starts the owner scan on a background thread (it overlaps the dump);
  // false (after one error line) when the source asked for cannot answer
  // (--owners-from bpf without the rights or kernel support).
  bool load_owners();
  // Waits for the scan (started on first use if needed). An empty set when it
  // failed: see owners_ready().
  const ProcessOwners& owners() { return owners_ ? *owners_ : wait_for_owners(); }
  // Waits; false (after one error line) when the scan failed late (reading the
  // BPF iterator with --owners-from bpf): the command then ends with exit 3.
  bool owners_ready() {
    owners();
    return !owners_failed_;
  }
  // Whether the scan has finished (does not wait; false when none was started).
  bool owners_done() const { return owners_ || (pending_ && pending_->ready()); }
  bool several_namespaces() const { return namespaces_.size() > 1; }
  std::string source_name() const { return source_name_; }

 private:
  Context& ctx_;
  bool all_netns_;
  bool ephemeral_names_;
  std::optional<PortRange> host_;
  std::vector<NetworkNamespace> namespaces_;
  std::optional<ProcessOwners> owners_;
  std::optional<PendingOwners> pending_;
  bool owners_failed_ = false;
  // owners() the first time (once per socket after that: kept inline).
  const ProcessOwners& wait_for_owners();
  OwnerSource owner_source_ = OwnerSource::kAuto;
  std::string source_name_;
  // Registry answers by transport and port: a busy host has thousands of sockets on
  // a few server ports, and repeated lookups would also make the registry build
  // its label indexes (~100 KB) for what is a handful of distinct ports.
  mutable std::unordered_map<std::uint32_t, const Service*> services_;
};

// The options of `sockets` and `listen` as CLI11 fills them.
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

// The options, checked once; then a predicate per socket.
struct HostFilter {
  SocketQuery query;
  std::optional<Port> port;
  std::optional<AddressMatch> local, remote;
  std::optional<PortGroup> group;
  std::string service;
  std::optional<int> pid;
  std::string command;
  bool owners_needed = false;
  OwnerSource owners_from = OwnerSource::kAuto;

  // Whether a socket passes every filter (owners are scanned on first need).
  bool matches(HostScan& scan, const HostRow& row) const;
};

// Checks the options (one error line and nullopt when one is bad).
std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only);

// The owner scan of --owners-from FROM (auto, bpf, proc): nullopt after one
// error line when that source cannot answer; a warning when auto fell back to
// /proc as root (as another user, /proc is the expected source).
std::optional<ProcessOwners> scan_owners(Context& ctx, OwnerSource from);
void warn_owner_fallback(Context& ctx, const ProcessOwners& owners, OwnerSource from);
// --owners-from's text; nullopt after one error line (exit 2) when unknown.
std::optional<OwnerSource> owner_source_option(Context& ctx, const std::string& text);
// Registers --owners-from on a subcommand.
void add_owners_from_option(CLI::App* sub, std::string& value);

// `sockscope` with no arguments (host_overview.cpp).
void render_overview(Context& ctx);

}  // namespace sockscope::cli
