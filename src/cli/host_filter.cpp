// The host subcommands' options turned into a kernel query plus a predicate
// per socket: --tcp/--udp/--state go to the kernel, the rest is checked here.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cli/host_filter.hpp"

namespace sockscope::cli {
namespace {

std::optional<AddressMatch> parse_address_match(Context& ctx, std::string_view opt,
                                                const std::string& text) {
  if (auto ep = Endpoint::parse(text)) return AddressMatch{*ep, std::nullopt};
  auto prefix = IpPrefix::parse(text);
  if (!prefix) {
    ctx.error(fmt::format("{} '{}': neither an endpoint nor an address/CIDR: {}", opt, text,
                          prefix.error().what()));
    return std::nullopt;
  }
  return AddressMatch{std::nullopt, *prefix};
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower((unsigned char)x) == std::tolower((unsigned char)y);
         });
}

}  // namespace

bool HostFilter::matches(const Naming& naming, const HostRow& row) const {
  const SocketRecord& r = row.socket.record;
  if (listeners_only && row.socket.role != LocalRole::kListener) return false;
  if (port && r.local.port != *port && r.remote.port != *port) return false;
  if (local && !local->matches(r.local)) return false;
  if (remote && !remote->matches(r.remote)) return false;
  if (group && group_of(r.local.port) != *group) return false;
  if (!service.empty()) {
    const Service* s = naming.registered(r.transport, row.socket.server_port());
    if (!s || !iequal(s->name, service)) return false;
  }
  if (pid || !command.empty()) {
    bool found = false;
    for (const auto& o : row.owners) {
      if ((pid && o.pid == *pid) || (!command.empty() && o.command == command)) found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only) {
  HostFilter f;
  SocketQuery& query = f.scan.query;
  if (o.tcp || o.udp || o.sctp || o.dccp) {
    query.transports.clear();
    if (o.tcp) query.transports.push_back(Transport::kTcp);
    if (o.udp) query.transports.push_back(Transport::kUdp);
    if (o.sctp) query.transports.push_back(Transport::kSctp);
    if (o.dccp) query.transports.push_back(Transport::kDccp);
  }
  if (!o.states.empty()) {
    query.states = 0;
    for (const auto& s : o.states) {
      auto st = parse_socket_state(s);
      if (!st) {
        ctx.error("--state '" + s + "': " + st.error().what());
        return std::nullopt;
      }
      query.states |= state_bit(*st);
    }
  }
  if (o.listening || listen_only) {
    query.states &= state_bit(SocketState::kListen) | state_bit(SocketState::kClose);
    f.listeners_only = true;
  }
  if (o.port >= 0) {
    if (o.port > 65535) {
      ctx.error(fmt::format("--port {}: out of range 0-65535", o.port));
      return std::nullopt;
    }
    f.port = Port(o.port);
  }
  if (!o.local.empty() && !(f.local = parse_address_match(ctx, "--local", o.local))) {
    return std::nullopt;
  }
  if (!o.remote.empty() && !(f.remote = parse_address_match(ctx, "--remote", o.remote))) {
    return std::nullopt;
  }
  if (!o.group.empty()) {
    auto g = parse_port_group(o.group);
    if (!g) {
      ctx.error("--group '" + o.group + "': " + g.error().what());
      return std::nullopt;
    }
    f.group = *g;
  }
  f.service = o.service;
  if (!o.process.empty()) {
    if (o.process.find_first_not_of("0123456789") == std::string::npos && o.process.size() < 10) {
      f.pid = std::stoi(o.process);
    } else {
      f.command = o.process;
    }
  }
  f.scan.owners = o.processes || f.pid || !f.command.empty();
  auto from = owner_source_option(ctx, o.owners_from);
  if (!from) return std::nullopt;
  f.scan.owner_source = *from;
  f.scan.all_namespaces = o.all_netns || ctx.all_netns;
  f.scan.host_ephemeral = ctx.host_range();
  return f;
}

std::optional<OwnerSource> owner_source_option(Context& ctx, const std::string& text) {
  auto from = parse_owner_source(text);
  if (!from) ctx.error("--owners-from '" + text + "': expected auto, bpf or proc");
  return from;
}

void add_owners_from_option(CLI::App* sub, std::string& value) {
  sub->add_option("--owners-from", value,
                  "where owners come from: auto (a BPF iterator when root and the kernel "
                  "allow it, else /proc), bpf (fail without it), proc (/proc/PID/fd)")
      ->type_name("SOURCE")
      ->default_str("auto")
      ->transform(keep_literal());
}

}  // namespace sockscope::cli
