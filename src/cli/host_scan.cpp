// HostScan: one dump per namespace, roles attached, services named, owners lazy.
#include "cli/host_view.hpp"

namespace sockscope::cli {

bool HostScan::run(const SocketQuery& query, const std::function<void(const HostRow&)>& fn) {
  host_ = ctx_.host_range();
  if (all_netns_) {
    std::vector<Error> warnings;
    namespaces_ = list_network_namespaces(&warnings);
    for (const auto& w : warnings) ctx_.warn(w.what());
  } else {
    namespaces_ = {current_network_namespace()};
  }
  bool any = false;
  for (const auto& ns : namespaces_) {
    std::unique_ptr<SocketSource> source;
    if (ns.current) {
      std::string why;
      auto opened = open_socket_source(&why);
      if (!opened) {
        ctx_.error(opened.error().what());
        continue;
      }
      if (!why.empty()) ctx_.warn("netlink unavailable (" + why + "); reading /proc/net instead");
      source = std::move(*opened);
    } else {
      auto opened = open_socket_source_in(ns);
      if (!opened) {
        ctx_.warn("network namespace " + ns.label() + " skipped: " + opened.error().what());
        continue;
      }
      source = std::move(*opened);
    }
    source_name_ = std::string(source->name());
    auto stats = dump_with_roles(*source, query, host_, [&](const HostSocket& s) {
      fn(HostRow{s, service_of(s), ns});
    });
    if (!stats) {
      ctx_.error("network namespace " + ns.label() + ": " + stats.error().what());
      continue;
    }
    for (const auto& skipped : stats->skipped) ctx_.warn(skipped.what());
    any = true;
  }
  return any;
}

const Service* HostScan::any_service_of(const HostSocket& s) const {
  Port port = s.server_port();
  if (port == 0) return nullptr;
  const std::uint32_t key = std::uint32_t(s.record.transport) << 16 | port;
  auto [it, added] = services_.try_emplace(key, nullptr);
  if (added) it->second = ctx_.registry().primary(port, s.record.transport);
  return it->second;
}

const Service* HostScan::service_of(const HostSocket& s) const {
  Port port = s.server_port();
  if (port == 0) return nullptr;
  if (!ephemeral_names_ && host_ && host_->contains(port)) return nullptr;
  return any_service_of(s);
}

const ProcessOwners& HostScan::owners() {
  if (!owners_) {
    owners_ = ProcessOwners::scan();
    if (owners_->denied() > 0) {
      ctx_.warn(std::to_string(owners_->denied()) +
                " processes' descriptors are not readable (not root): their sockets show "
                "owner_missing no-permission");
    }
  }
  return *owners_;
}

}  // namespace sockscope::cli
