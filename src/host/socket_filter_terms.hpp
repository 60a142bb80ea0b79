// Building blocks of the filter parser: tokens, and the terms (ports, hosts,
// and/or/not nodes) added to a filter's node vector. The list helpers
// (SocketFilter::ports/hosts) use the same terms. Internal; standard library only.
#pragma once

#include <expected>
#include <string_view>
#include <vector>

#include "host/socket_filter_ast.hpp"

namespace sockscope::filter_detail {

// A word of the filter and its 1-based column in the joined text.
struct Token {
  std::string_view text;
  std::size_t column = 1;
};

// Splits at blanks; a word's leading '(' and trailing ')' become tokens of their own.
std::vector<Token> tokenize(std::string_view text);

// Parses `text` (states, then the expression) into `out`.
std::expected<void, Error> parse_into(std::string_view text, const Registry& names,
                                      const SocketFilterOptions& options, Filter& out);

class Terms {
 public:
  Terms(const Registry& names, const SocketFilterOptions& options, Filter& out)
      : names_(names), options_(options), out_(out) {}

  // `sport`/`dport` OP VALUE, VALUE as written (":443", "https", "*", "inet::80").
  std::expected<int, Error> port(bool local, Compare c, std::string_view value, std::size_t column);
  // `src`/`dst` HOST.
  std::expected<int, Error> host(bool local, std::string_view value, std::size_t column);
  // A port or a service name alone (no ':'), for port lists.
  std::expected<Port, Error> port_number(std::string_view value, std::size_t column);
  int autobound();
  // `sport = :*` (true) or `sport != :*` (false).
  int constant(bool value, bool local);
  int negate(int n);
  // a AND b / a OR b, flattened when a child already is that operator.
  int join(Kind op, int a, int b);
  int depth(int n) const { return depth_[std::size_t(n)]; }

 private:
  int add(Node node, int depth);
  std::expected<void, Error> family_prefix(std::string_view& value, std::size_t& column);
  std::expected<HostCond, Error> address(std::string_view text, std::size_t column);
  std::expected<std::optional<Port>, Error> host_port(std::string_view text, std::size_t column);

  const Registry& names_;
  const SocketFilterOptions& options_;
  Filter& out_;
  std::vector<int> depth_;  // per node
};

}  // namespace sockscope::filter_detail
