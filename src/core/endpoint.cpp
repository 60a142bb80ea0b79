#include "sockscope/endpoint.hpp"

#include <cstring>

#include "core/text.hpp"

namespace sockscope {
namespace {
using Code = Error::Code;
}

std::expected<Endpoint, Error> Endpoint::parse(std::string_view text, std::size_t column_offset) {
  const std::size_t base = column_offset + 1;  // column of text[0]
  if (text.empty()) {
    return std::unexpected(Error::at(Code::kEmpty, "empty endpoint", column_offset ? base : 0));
  }
  Endpoint ep;
  std::size_t port_at;  // index of the first port character
  if (text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected(
          Error::at(Code::kBadSyntax, "missing ']' after IPv6 address", base, text));
    }
    std::string_view inner = text.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) {
      return std::unexpected(
          Error::at(Code::kBadAddress, "brackets are only for IPv6 addresses", base + 1, inner));
    }
    auto address = IpAddress::parse(inner, column_offset + 1);
    if (!address) return std::unexpected(address.error());
    ep.address = *address;
    if (close + 1 == text.size()) {
      return std::unexpected(Error::at(Code::kMissingPort, "missing port after ']'",
                                       base + close + 1, text.substr(close)));
    }
    if (text[close + 1] != ':') {
      return std::unexpected(Error::at(Code::kTrailingGarbage, "expected ':port' after ']'",
                                       base + close + 1, text.substr(close + 1)));
    }
    port_at = close + 2;
  } else {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      auto address = IpAddress::parse(text, column_offset);
      if (!address) return std::unexpected(address.error());
      return std::unexpected(
          Error::at(Code::kMissingPort, "missing ':port' after address", base + text.size(), text));
    }
    if (text.find(':', colon + 1) != std::string_view::npos) {
      // More than one ':' without brackets: an IPv6 address, maybe with a port.
      auto last = text.rfind(':');
      std::string_view head = text.substr(0, last);
      if (IpAddress::parse(head) && !head.empty() && head.back() != ':') {
        std::string hint = "IPv6 address with a port needs brackets, e.g. [" + std::string(head) +
                           "]:" + std::string(text.substr(last + 1));
        return std::unexpected(Error::at(Code::kNeedBrackets, hint, base, text));
      }
      if (IpAddress::parse(text)) {
        return std::unexpected(Error::at(Code::kMissingPort,
                                         "missing port: write an IPv6 endpoint as [address]:port",
                                         base, text));
      }
      return std::unexpected(Error::at(Code::kNeedBrackets,
                                       "IPv6 endpoint needs brackets: [address]:port", base, text));
    }
    auto address = IpAddress::parse_v4(text.substr(0, colon), column_offset);
    if (!address) return std::unexpected(address.error());
    ep.address = *address;
    port_at = colon + 1;
  }
  std::string_view port_text = text.substr(port_at);
  if (port_text.empty()) {
    return std::unexpected(
        Error::at(Code::kMissingPort, "missing port after ':'", base + port_at, ""));
  }
  auto port = parse_port(port_text, column_offset + port_at);
  if (!port) return std::unexpected(port.error());
  ep.port = *port;
  return ep;
}

std::size_t Endpoint::format(char* out) const {
  char* p = out;
  if (address.is_v6()) *p++ = '[';
  p += address.format(p);
  if (address.is_v6()) *p++ = ']';
  *p++ = ':';
  p = text::write_u32(p, port);
  return std::size_t(p - out);
}

std::string Endpoint::to_string() const {
  char buf[kMaxTextSize];
  return std::string(buf, format(buf));
}

}  // namespace sockscope
