// HostScan: one dump per namespace, roles attached, services named, owners lazy.
#include "cli/host_view.hpp"

#include <unistd.h>

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

bool HostScan::load_owners() {
  if (owners_ || pending_) return !owners_failed_;
  auto started = ProcessOwners::start(owner_source_);
  if (!started) {
    ctx_.error(started.error().what());
    owners_.emplace();
    owners_failed_ = true;
    return false;
  }
  pending_.emplace(std::move(*started));
  return true;
}

const ProcessOwners& HostScan::wait_for_owners() {
  if (!pending_ && !load_owners()) return *owners_;
  auto got = pending_->get();
  pending_.reset();
  if (!got) {
    ctx_.error(got.error().what());
    owners_failed_ = true;
    owners_.emplace();
    return *owners_;
  }
  owners_ = std::move(*got);
  warn_owner_fallback(ctx_, *owners_, owner_source_);
  if (owners_->denied() > 0) {
    ctx_.warn(std::to_string(owners_->denied()) +
              " processes' descriptors are not readable (not root): their sockets show "
              "owner_missing no-permission");
  }
  return *owners_;
}

void warn_owner_fallback(Context& ctx, const ProcessOwners& owners, OwnerSource from) {
  if (!owners.bpf_unused().empty() && from == OwnerSource::kAuto && ::geteuid() == 0) {
    ctx.warn("owners from /proc (slower): no BPF iterator: " + owners.bpf_unused());
  }
}

std::optional<ProcessOwners> scan_owners(Context& ctx, OwnerSource from) {
  auto scanned = ProcessOwners::scan(from);
  if (!scanned) {
    ctx.error(scanned.error().what());
    return std::nullopt;
  }
  warn_owner_fallback(ctx, *scanned, from);
  return std::move(*scanned);
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
