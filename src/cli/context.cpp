#include "cli/context.hpp"

#include <cstdio>

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

void Context::error(std::string_view message) {
  out.flush();
  std::fprintf(stderr, "sockscope: %.*s\n", int(message.size()), message.data());
}

void Context::warn(std::string_view message) {
  out.flush();
  std::fprintf(stderr, "sockscope: warning: %.*s\n", int(message.size()), message.data());
}

}  // namespace sockscope::cli
