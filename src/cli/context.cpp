#include "cli/context.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace sockscope::cli {

CLI::Validator keep_literal() {
  return CLI::Validator(
      [](std::string& value) {
        if (!value.empty() && value.front() == kLiteralMark) value.erase(0, 1);
        return std::string();
      },
      "", "literal");
}

const std::optional<EphemeralRange>& Context::host_ephemeral() {
  if (!host_read_) {
    host_read_ = true;
    auto r = EphemeralRange::read_host();
    if (r) {
      host_ = *r;
    } else {
      warn("cannot read this host's ephemeral range (" + r.error().what() + ")");
    }
  }
  return host_;
}

const Registry& Context::registry() {
  if (registry_) return *registry_;
  registry_ = std::make_unique<Registry>();
  for (const auto& path : services_files) {
    auto warnings = registry_->load_services_file(path);
    if (!warnings) {
      error(warnings.error().what());
      std::exit(kExitRuntime);
    }
    for (const auto& w : *warnings) warn(w.what());
  }
  // The host's own labels, when it has the file; lines for transports sockscope
  // does not model (netbase lists ddp) are expected there and not warned about.
  constexpr const char* kEtcServices = "/etc/services";
  std::error_code ec;
  if (std::filesystem::exists(kEtcServices, ec)) {
    auto warnings = registry_->load_services_file(kEtcServices);
    if (!warnings) {
      warn(warnings.error().what());
    } else {
      for (const auto& w : *warnings) {
        if (w.malformed) warn(w.what());
      }
    }
  }
  return *registry_;
}

void Context::error(std::string_view message) {
  out.flush();
  std::fprintf(stderr, "sockscope: %.*s\n", int(message.size()), message.data());
}

void Context::warn(std::string_view message) {
  out.flush();
  std::fprintf(stderr, "sockscope: warning: %.*s\n", int(message.size()), message.data());
}

}  // namespace sockscope::cli
