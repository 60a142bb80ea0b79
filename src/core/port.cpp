#include "sockscope/port.hpp"

#include "core/text.hpp"

namespace sockscope {

using Code = Error::Code;

std::string_view to_string(PortGroup group) {
  switch (group) {
    case PortGroup::kWellKnown: return "well-known";
    case PortGroup::kRegistered: return "registered";
    case PortGroup::kDynamic: return "dynamic";
  }
  return "?";
}

std::expected<PortGroup, Error> parse_port_group(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (lower == "well-known" || lower == "wellknown" || lower == "system") {
    return PortGroup::kWellKnown;
  }
  if (lower == "registered" || lower == "user") return PortGroup::kRegistered;
  if (lower == "dynamic" || lower == "private" || lower == "ephemeral") {
    return PortGroup::kDynamic;
  }
  return std::unexpected(Error::at(text.empty() ? Code::kEmpty : Code::kBadSyntax,
                                   "unknown port group (want well-known, registered or dynamic)", 1,
                                   text));
}

std::expected<Port, Error> parse_port(std::string_view text, std::size_t column_offset) {
  auto v = text::parse_decimal(text, 65535, column_offset + 1, "port");
  if (!v) return std::unexpected(v.error());
  return static_cast<Port>(*v);
}

std::expected<PortRange, Error> PortRange::parse(std::string_view text, std::size_t column_offset) {
  auto dash = text.find('-');
  auto first = parse_port(text.substr(0, dash), column_offset);
  if (!first) return std::unexpected(first.error());
  if (dash == std::string_view::npos) return PortRange{*first, *first};
  auto last = parse_port(text.substr(dash + 1), column_offset + dash + 1);
  if (!last) return std::unexpected(last.error());
  if (*last < *first) {
    return std::unexpected(
        Error::at(Code::kBadSyntax, "port range ends before it starts", column_offset + 1, text));
  }
  return PortRange{*first, *last};
}

std::string PortRange::to_string() const {
  if (first == last) return std::to_string(first);
  return std::to_string(first) + "-" + std::to_string(last);
}

EphemeralRange EphemeralRange::iana() { return {{49152, 65535}, "IANA dynamic (RFC 6335)"}; }
EphemeralRange EphemeralRange::windows() { return {{49152, 65535}, "Windows default"}; }
EphemeralRange EphemeralRange::linux_default() { return {{32768, 60999}, "Linux default"}; }

std::expected<PortRange, Error> EphemeralRange::parse_sysctl(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t i = 0;
  auto next_word = [&]() -> std::pair<std::string_view, std::size_t> {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    return {text.substr(start, i - start), start};
  };
  auto [low_text, low_at] = next_word();
  auto [high_text, high_at] = next_word();
  auto low = parse_port(low_text, low_at);
  if (!low) return std::unexpected(low.error());
  auto high = parse_port(high_text, high_at);
  if (!high) return std::unexpected(high.error());
  auto [extra, extra_at] = next_word();
  if (!extra.empty()) {
    return std::unexpected(
        Error::at(Code::kTrailingGarbage, "unexpected text after range", extra_at + 1, extra));
  }
  if (*high < *low) {
    return std::unexpected(Error::at(Code::kBadSyntax, "range ends before it starts", 1, text));
  }
  return PortRange{*low, *high};
}

std::expected<EphemeralRange, Error> EphemeralRange::read_host(std::string_view path) {
  auto text = text::read_file(path);
  if (!text) return std::unexpected(text.error());
  auto range = parse_sysctl(*text);
  if (!range) {
    Error e = range.error();
    e.message = std::string(path) + ": " + e.message;
    return std::unexpected(e);
  }
  return EphemeralRange{*range, std::string(path)};
}

}  // namespace sockscope
