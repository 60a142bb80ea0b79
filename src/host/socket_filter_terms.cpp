// The filter's terms: ports (numbers, service names, `*`), hosts (ss's HOST
// syntax: [v6]:port, addr/len:port, *:port, inet:/inet6: prefixes, zones) and
// the and/or/not nodes. Standard library only (fuzzed).
#include "host/socket_filter_terms.hpp"

#include <algorithm>
#include <string>

#include "core/text.hpp"

namespace sockscope::filter_detail {
namespace {

using Code = Error::Code;

std::unexpected<Error> fail(Code code, std::string message, std::size_t column,
                            std::string_view fragment) {
  return std::unexpected(Error::at(code, std::move(message), column, fragment));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int Terms::add(Node node, int depth) {
  out_.nodes.push_back(std::move(node));
  depth_.resize(out_.nodes.size(), 1);
  depth_.back() = depth;
  return int(out_.nodes.size()) - 1;
}

int Terms::autobound() {
  out_.user_space_differs = true;
  return add(Node{.kind = Kind::kAuto}, 1);
}

int Terms::constant(bool value, bool local) {
  return add(Node{.kind = value ? Kind::kTrue : Kind::kFalse, .local = local}, 1);
}

int Terms::negate(int n) {
  Node node;  // (not a designated initializer: g++ 12 warns falsely on those here)
  node.kind = Kind::kNot;
  node.children.push_back(n);
  return add(std::move(node), depth(n) + 1);
}

int Terms::join(Kind op, int a, int b) {
  Node node{.kind = op};
  int d = 1;
  for (int child : {a, b}) {
    const Node& c = out_.nodes[std::size_t(child)];
    if (c.kind == op) {
      node.children.insert(node.children.end(), c.children.begin(), c.children.end());
      for (int g : c.children) d = std::max(d, depth(g) + 1);
    } else {
      node.children.push_back(child);
      d = std::max(d, depth(child) + 1);
    }
  }
  return add(std::move(node), d);
}

// ss: "inet:" or "inet6:" limits the whole dump to that family (the last one wins).
std::expected<void, Error> Terms::family_prefix(std::string_view& value, std::size_t& column) {
  for (std::string_view other : {"unix:", "link:", "netlink:", "vsock:"}) {
    if (value.starts_with(other)) {
      return fail(Code::kUnsupported, "only inet: and inet6: addresses are supported by sockscope",
                  column, value.substr(0, other.size()));
    }
  }
  std::string_view prefix = value.starts_with("inet6:")  ? "inet6:"
                            : value.starts_with("inet:") ? "inet:"
                                                         : "";
  if (prefix.empty()) return {};
  out_.ipv4 = prefix == "inet:";
  out_.ipv6 = !out_.ipv4;
  value.remove_prefix(prefix.size());
  column += prefix.size();
  return {};
}

std::expected<Port, Error> Terms::port_number(std::string_view value, std::size_t column) {
  if (value.empty()) return fail(Code::kMissingPort, "missing port", column, value);
  if (value[0] >= '0' && value[0] <= '9') return parse_port(value, column - 1);
  // A service name: the same port on every transport asked for, as ss demands.
  const Service* found = nullptr;
  for (Transport t : options_.transports) {
    const Service* s = names_.find(value, t);
    if (!s) continue;
    if (found && found->ports.first != s->ports.first) {
      return fail(Code::kBadSyntax,
                  "ambiguous port: " + std::to_string(found->ports.first) + "/" +
                      std::string(to_string(found->transport)) + " but " +
                      std::to_string(s->ports.first) + "/" + std::string(to_string(s->transport)),
                  column, value);
    }
    if (!found) found = s;
  }
  if (!found) {
    return fail(Code::kBadSyntax, "neither a port number nor a known service name", column, value);
  }
  return found->ports.first;
}

std::expected<int, Error> Terms::port(bool local, Compare c, std::string_view value,
                                      std::size_t column) {
  const std::string_view written = value;
  const std::size_t written_column = column;
  if (auto f = family_prefix(value, column); !f) return std::unexpected(f.error());
  if (value.starts_with(':')) {
    value.remove_prefix(1);
    ++column;
  }
  if (value == "*") {
    if (c == Compare::kEq) return constant(true, local);
    if (c == Compare::kNe) return constant(false, local);
    return fail(Code::kBadSyntax, "'*' (any port) compares with = or != only", written_column,
                written);
  }
  auto p = port_number(value, column);
  if (!p) return std::unexpected(p.error());
  return add(Node{.kind = Kind::kPort, .local = local, .compare = c, .port = *p}, 1);
}

std::expected<std::optional<Port>, Error> Terms::host_port(std::string_view text,
                                                           std::size_t column) {
  if (text == "*") return std::optional<Port>();
  auto p = port_number(text, column);
  if (!p) return std::unexpected(p.error());
  return std::optional<Port>(*p);
}

// "addr", "addr/len"; an IPv6 zone names the interface the socket must be bound to.
std::expected<HostCond, Error> Terms::address(std::string_view text, std::size_t column) {
  HostCond h;
  const auto slash = text.find('/');
  auto a = IpAddress::parse(text.substr(0, slash), column - 1);
  if (!a) return std::unexpected(a.error());
  h.prefix_len = a->is_v4() ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto len = text::parse_decimal(text.substr(slash + 1), h.prefix_len, column + slash + 1,
                                   "prefix length");
    if (!len) return std::unexpected(len.error());
    h.prefix_len = *len;
    h.prefix_written = true;
  }
  if (!a->zone().empty()) {
    h.zone = std::string(a->zone());
    std::optional<std::uint32_t> index;
    if (all_digits(h.zone) && h.zone.size() < 10) {
      index = std::uint32_t(std::stoul(h.zone));
    } else if (options_.interface_index) {
      index = options_.interface_index(h.zone);
    }
    if (!index || *index == 0) {
      return fail(Code::kBadAddress, "unknown interface in the zone", column, h.zone);
    }
    h.ifindex = *index;
  }
  h.address = a->without_zone();
  return h;
}

std::expected<int, Error> Terms::host(bool local, std::string_view value, std::size_t column) {
  if (auto f = family_prefix(value, column); !f) return std::unexpected(f.error());
  if (value.empty()) return fail(Code::kEmpty, "missing address", column, value);
  auto finish = [&](HostCond h) {
    if (h.address) out_.user_space_differs = true;
    return add(Node{.kind = Kind::kHost, .local = local, .host = std::move(h)}, 1);
  };
  // "[...]" or "*", then nothing or ":port".
  auto bracketed = [&](std::expected<HostCond, Error> h,
                       std::size_t at) -> std::expected<int, Error> {
    if (!h) return std::unexpected(h.error());
    std::string_view rest = value.substr(at);
    if (!rest.empty()) {
      if (rest[0] != ':' || rest.size() == 1) {
        return fail(Code::kBadSyntax, "expected ':' and a port", column + at, rest);
      }
      auto p = host_port(rest.substr(1), column + at + 1);
      if (!p) return std::unexpected(p.error());
      h->port = *p;
    }
    return finish(std::move(*h));
  };
  if (value[0] == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos)
      return fail(Code::kBadSyntax, "missing ']'", column, value);
    return bracketed(address(value.substr(1, close - 1), column + 1), close + 1);
  }
  if (value[0] == '*') return bracketed(HostCond{}, 1);
  // ss's split: the last ':' (after the '/', if any) starts the port. Where the
  // part before it is no address, the whole may still be an IPv6 address.
  const auto slash = value.find('/');
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    auto h = address(value, column);
    if (!h) return std::unexpected(h.error());
    return finish(std::move(*h));
  }
  auto left = address(value.substr(0, colon), column);
  auto right = host_port(value.substr(colon + 1), column + colon + 1);
  if (left && right) {
    left->port = *right;
    return finish(std::move(*left));
  }
  auto whole = address(value, column);
  if (whole) return finish(std::move(*whole));
  // The likelier mistake: a bad port after a good address, else the address.
  if (left) return std::unexpected(right.error());
  return std::unexpected(value.find(':') == colon ? left.error() : whole.error());
}

}  // namespace sockscope::filter_detail
