#include "cli/context.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "output/text.hpp"

namespace sockscope::cli {

CLI::Validator keep_literal() {
  return CLI::Validator(
      [](std::string& value) {
        if (!value.empty() && value.front() == kLiteralMark) value.erase(0, 1);
        return std::string();
      },
      "", "literal");
}

int exit_code_of(const Error& e) {
  switch (e.code) {
    case Error::Code::kIo:
    case Error::Code::kPermission: return kExitRuntime;
    default: return kExitUsage;
  }
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

const Naming& Context::naming(NamingOptions options) {
  const Registry& reg = registry();
  for (const auto& n : namings_) {
    if (n->options().name_guesses == options.name_guesses && n->options().cache == options.cache) {
      return *n;
    }
  }
  return *namings_.emplace_back(std::make_unique<Naming>(reg, options));
}

output::RecordWriter Context::writer(std::vector<const output::RecordKind*> kinds,
                                     bool host_ephemeral_fields,
                                     std::vector<std::string_view> hidden) {
  output::WriterOptions options;
  if (host_ephemeral_fields) options.host_ephemeral = host_range();
  options.style = style;
  options.hidden = std::move(hidden);
  return output::RecordWriter(format, out, std::move(kinds), std::move(options));
}

void Context::error(std::string_view message) {
  out.flush();
  const std::string text = output::terminal_safe(message);
  std::fprintf(stderr, "sockscope: %s\n", text.c_str());
}

void Context::warn(std::string_view message) {
  out.flush();
  const std::string text = output::terminal_safe(message);
  std::fprintf(stderr, "sockscope: warning: %s\n", text.c_str());
}

ReportFn Context::reporter() {
  return [this](Severity severity, const std::string& message) {
    if (severity == Severity::kError) {
      error(message);
    } else {
      warn(message);
    }
  };
}

}  // namespace sockscope::cli
