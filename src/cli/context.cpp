#include "cli/context.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <sstream>

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

namespace {

// The whole text as a number (no trailing characters), else nullopt.
template <class T>
std::optional<T> number_of(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return value;
}

std::string number_text(double n) {
  std::ostringstream out;
  out << std::setprecision(10) << n;
  return out.str();
}

}  // namespace

CLI::Validator seconds_up_to(double max) {
  return CLI::Validator(
      [max](std::string& value) -> std::string {
        const auto n = number_of<double>(value);
        if (n && std::isfinite(*n) && *n > 0 && *n <= max) return {};
        return "want a number of seconds above 0 and at most " + number_text(max) + ", not " +
               value;
      },
      "SECONDS", "seconds");
}

CLI::Validator count_at_least(long long min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        const auto n = number_of<long long>(value);
        if (n && *n >= min) return {};
        return "want a whole number of at least " + std::to_string(min) + ", not " + value;
      },
      "N", "count");
}

CLI::Validator percentage() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::string text = value;
        if (!text.empty() && text.back() == '%') text.pop_back();
        const auto n = number_of<double>(text);
        if (!n || !(*n >= 0 && *n <= 100)) {
          return "want a number 0-100 (a percentage: 80 or 80%), not " + value;
        }
        value = text;
        return {};
      },
      "PCT", "percentage");
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

std::string quote_input(std::string_view input) {
  return "'" + output::shortened(input, kQuotedBytes) + "'";
}

void Context::error(std::string_view message) {
  out.flush();
  const std::string text = output::utf8_safe(message);
  std::fprintf(stderr, "sockscope: %s\n", text.c_str());
}

void Context::warn(std::string_view message) {
  out.flush();
  const std::string text = output::utf8_safe(message);
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
