// services(5) text -> lines of labels, with a warning for every line skipped.
// Standard library only: this is the part of the registry that reads untrusted
// files, and the fuzz target drives it directly.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "sockscope/registry.hpp"

namespace sockscope::registry {

// One usable line: `name port[-last]/transport[/transport...] [aliases...] [# comment]`.
// Views point into the parsed text.
struct ServicesLine {
  std::size_t line = 0;  // 1-based
  std::string_view name;
  PortRange ports;
  std::vector<Transport> transports;  // tcp, udp, sctp, dccp; at least one
  std::vector<std::string_view> aliases;
  std::string_view comment;  // trimmed text after '#', "" when none
};

struct ServicesParse {
  std::vector<ServicesLine> lines;
  std::vector<ServicesWarning> warnings;  // in line order
};

// Never fails: lines that cannot be used become warnings naming line and column.
// A line is also kept (with a non-malformed warning) when only some of its
// transports are unknown, e.g. `foo 9/tcp/ddp`.
ServicesParse parse_services(std::string_view text, std::string_view source);
// The same, streamed: on_line sees each usable line in order (its views point
// into `text`; the line object is reused, so copy what must outlive the call).
// Returns the warnings. Nothing is allocated per line once the vectors of the
// line have grown to the longest line's size.
std::vector<ServicesWarning> parse_services(
    std::string_view text, std::string_view source,
    const std::function<void(const ServicesLine&)>& on_line);

}  // namespace sockscope::registry
