// The host subcommands' options turned into a kernel query plus a predicate
// per socket: --tcp/--udp/--state go to the kernel, the rest is checked here.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cli/host_view.hpp"

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

bool HostFilter::matches(HostScan& scan, const HostRow& row) const {
  const SocketRecord& r = row.socket.record;
  if (port && r.local.port != *port && r.remote.port != *port) return false;
  if (local && !local->matches(r.local)) return false;
  if (remote && !remote->matches(r.remote)) return false;
  if (group && group_of(r.local.port) != *group) return false;
  if (!service.empty()) {
    const Service* s = scan.any_service_of(row.socket);
    if (!s || !iequal(s->name, service)) return false;
  }
  if (pid || !command.empty()) {
    bool found = false;
    for (const auto& o : scan.owners().of(r.inode)) {
      if ((pid && o.pid == *pid) || (!command.empty() && o.command == command)) found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only) {
  HostFilter f;
  if (o.tcp || o.udp || o.sctp || o.dccp) {
    f.query.transports.clear();
    if (o.tcp) f.query.transports.push_back(Transport::kTcp);
    if (o.udp) f.query.transports.push_back(Transport::kUdp);
    if (o.sctp) f.query.transports.push_back(Transport::kSctp);
    if (o.dccp) f.query.transports.push_back(Transport::kDccp);
  }
  if (!o.states.empty()) {
    f.query.states = 0;
    for (const auto& s : o.states) {
      auto st = parse_socket_state(s);
      if (!st) {
        ctx.error("--state '" + s + "': " + st.error().what());
        return std::nullopt;
      }
      f.query.states |= state_bit(*st);
    }
  }
  if (o.listening || listen_only) {
    f.query.states &= state_bit(SocketState::kListen) | state_bit(SocketState::kClose);
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
  f.owners_needed = o.processes || f.pid || !f.command.empty();
  auto from = owner_source_option(ctx, o.owners_from);
  if (!from) return std::nullopt;
  f.owners_from = *from;
  return f;
}

}  // namespace sockscope::cli
