// services(5) parser; see services_parser.hpp. Follows glibc's reading of the
// format (fields separated by blanks, '#' starts a comment anywhere, the first
// field the name, the second port/protocol, the rest aliases) but is strict
// where glibc silently guesses: a bad port or an unknown protocol is reported.
#include "registry/services_parser.hpp"

#include <functional>
#include <string>

namespace sockscope::registry {
namespace {

constexpr bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

struct Field {
  std::string_view text;
  std::size_t column = 0;  // 1-based
};

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out + "'";
}

std::string at(std::size_t column, std::string_view fragment) {
  return " at column " + std::to_string(column) + ": " + quote(fragment);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// What became of one line: kept or not, and why a warning is due.
struct Outcome {
  bool keep = true;
  bool malformed = false;
  std::string problem;  // empty: nothing to report
};

Outcome skip(std::string problem) { return {false, true, std::move(problem)}; }

// Parses one non-blank line (without its newline).
constexpr bool is_control(unsigned char c) { return (c < 0x20 && !is_blank(char(c))) || c == 0x7f; }

Outcome parse_line(std::string_view text, ServicesLine& out) {
  // One pass without an early exit (the common, clean line), then the position.
  bool control = false;
  for (char ch : text) control |= is_control(static_cast<unsigned char>(ch));
  if (control) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (is_control(c)) {
        return skip("control character (byte " + std::to_string(c) + ") at column " +
                    std::to_string(i + 1));
      }
    }
  }
  const std::size_t hash = text.find('#');
  std::string_view body = text.substr(0, hash);
  if (hash != std::string_view::npos) out.comment = trim(text.substr(hash + 1));

  // Fields: the name, port/transport, then aliases (kept as they come).
  Field name, spec;
  std::size_t count = 0;
  for (std::size_t i = 0; i < body.size();) {
    if (is_blank(body[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < body.size() && !is_blank(body[j])) ++j;
    const Field field{body.substr(i, j - i), i + 1};
    if (count == 0) {
      name = field;
    } else if (count == 1) {
      spec = field;
    } else {
      out.aliases.push_back(field.text);
    }
    ++count;
    i = j;
  }
  if (count == 0) return skip("no name before '#'");
  out.name = name.text;
  if (count < 2) {
    return skip("missing port/transport after the name" + at(name.column, name.text));
  }
  const std::size_t slash = spec.text.find('/');
  if (slash == std::string_view::npos) {
    return skip("expected port/transport (e.g. 22/tcp)" + at(spec.column, spec.text));
  }
  auto ports = PortRange::parse(spec.text.substr(0, slash), spec.column - 1);
  if (!ports) return skip(ports.error().what());
  out.ports = *ports;
  std::string_view protos = spec.text.substr(slash + 1);
  std::size_t column = spec.column + slash + 1;
  std::string unknown;
  while (true) {
    const std::size_t next = protos.find('/');
    const std::string_view proto = protos.substr(0, next);
    if (proto.empty()) return skip("empty transport" + at(column, spec.text));
    auto t = parse_transport(proto, column - 1);
    if (t && has_ports(*t)) {
      bool seen = false;
      for (Transport x : out.transports) seen = seen || x == *t;
      if (!seen) out.transports.push_back(*t);
    } else {
      if (!unknown.empty()) unknown += ", ";
      unknown += quote(proto);
    }
    if (next == std::string_view::npos) break;
    protos.remove_prefix(next + 1);
    column += next + 1;
  }
  if (unknown.empty()) return {};
  // Well-formed, but (partly) for a transport without a sockscope::Transport.
  return {!out.transports.empty(), false,
          "transport " + unknown + " is not one sockscope models (tcp, udp, sctp, dccp)"};
}

}  // namespace

std::vector<ServicesWarning> parse_services(
    std::string_view text, std::string_view source,
    const std::function<void(const ServicesLine&)>& on_line) {
  std::vector<ServicesWarning> warnings;
  ServicesLine parsed;  // reused: its vectors keep their capacity from line to line
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;

    parsed.line = number;
    parsed.name = {};
    parsed.ports = {};
    parsed.transports.clear();
    parsed.aliases.clear();
    parsed.comment = {};
    Outcome outcome = parse_line(line, parsed);
    if (!outcome.problem.empty()) {
      warnings.push_back(ServicesWarning{std::string(source), number, std::move(outcome.problem),
                                         outcome.malformed});
    }
    if (outcome.keep) on_line(parsed);
  }
  return warnings;
}

ServicesParse parse_services(std::string_view text, std::string_view source) {
  ServicesParse result;
  result.warnings =
      parse_services(text, source, [&](const ServicesLine& line) { result.lines.push_back(line); });
  return result;
}

}  // namespace sockscope::registry
