// IPFIX destinations: udp://HOST:PORT, tcp://HOST:PORT, file:PATH.
#include <string>

#include "sockscope/ipfix.hpp"

namespace sockscope {
namespace {

constexpr std::string_view kWant = "want udp://HOST:PORT, tcp://HOST:PORT or file:PATH";

Error bad(std::string_view text, std::string what, std::size_t column = 1) {
  return Error::at(Error::Code::kBadSyntax, "IPFIX destination: " + what, column, text);
}

}  // namespace

std::string IpfixDestination::to_string() const {
  switch (kind) {
    case Kind::kFile: return "file:" + path;
    case Kind::kTcp: return "tcp://" + collector.to_string();
    default: return "udp://" + collector.to_string();
  }
}

std::expected<IpfixDestination, Error> parse_ipfix_destination(std::string_view text) {
  IpfixDestination d;
  if (text.starts_with("file:")) {
    d.kind = IpfixDestination::Kind::kFile;
    d.path = std::string(text.substr(5));
    if (d.path.empty()) return std::unexpected(bad(text, "file: needs a path"));
    return d;
  }
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::unexpected(bad(text, std::string(kWant)));
  const std::string_view scheme = text.substr(0, scheme_end);
  if (scheme == "udp") {
    d.kind = IpfixDestination::Kind::kUdp;
  } else if (scheme == "tcp") {
    d.kind = IpfixDestination::Kind::kTcp;
  } else {
    return std::unexpected(
        bad(text, "unknown scheme '" + std::string(scheme) + "' (" + std::string(kWant) + ")"));
  }
  std::string rest(text.substr(scheme_end + 3));
  if (rest.starts_with("localhost:")) rest = "127.0.0.1" + rest.substr(9);
  auto endpoint = Endpoint::parse(rest, scheme_end + 3);
  if (!endpoint) {
    Error e = endpoint.error();
    e.message = "IPFIX destination: " + e.message + " (" + std::string(kWant) + ")";
    return std::unexpected(e);
  }
  if (endpoint->port == 0) {
    return std::unexpected(bad(text, "port 0 (the collector's port is needed)", text.size()));
  }
  d.collector = *endpoint;
  return d;
}

}  // namespace sockscope
