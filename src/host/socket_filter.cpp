// SocketFilter: parsing entry points, the list helpers, and ss's two-sided
// match. Standard library only (fuzzed); host_filter_options() lives in
// socket_filter_host.cpp.
#include "sockscope/socket_filter.hpp"

#include <string>

#include "host/socket_filter_ast.hpp"
#include "host/socket_filter_terms.hpp"

namespace sockscope {

using filter_detail::Kind;
using filter_detail::Terms;

SocketFilter::SocketFilter() : impl_(std::make_shared<const Impl>()) {}
SocketFilter::SocketFilter(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

std::expected<SocketFilter, Error> SocketFilter::parse(std::string_view text, const Registry& names,
                                                       const SocketFilterOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->ephemeral = options.ephemeral;
  if (auto done = filter_detail::parse_into(text, names, options, *impl); !done) {
    return std::unexpected(done.error());
  }
  return SocketFilter(std::move(impl));
}

std::expected<SocketFilter, Error> SocketFilter::parse(std::span<const std::string> words,
                                                       const Registry& names,
                                                       const SocketFilterOptions& options) {
  std::string text;
  for (const auto& w : words) {
    if (!text.empty()) text += ' ';
    text += w;
  }
  return parse(text, names, options);
}

namespace {

// Items of a list separated by ',' or blanks, each with its 1-based column.
std::vector<filter_detail::Token> list_items(std::string_view list) {
  std::vector<filter_detail::Token> out;
  std::size_t i = 0;
  while (i < list.size()) {
    const std::size_t start = i;
    while (i < list.size() && list[i] != ',' && list[i] != ' ' && list[i] != '\t') ++i;
    if (i > start) out.push_back({list.substr(start, i - start), start + 1});
    ++i;
  }
  return out;
}

// One node per item (`one(terms, local, item)`), for one side or either; all
// joined by `or`.
template <typename One>
std::expected<std::shared_ptr<filter_detail::Filter>, Error> any_item(
    std::string_view list, PortSide side, const Registry& names, const SocketFilterOptions& options,
    One one, std::shared_ptr<filter_detail::Filter> impl) {
  impl->ephemeral = options.ephemeral;
  Terms terms(names, options, *impl);
  const auto items = list_items(list);
  if (items.empty()) return std::unexpected(Error::at(Error::Code::kEmpty, "empty list", 1));
  for (const auto& item : items) {
    auto n = one(terms, side != PortSide::kRemote, item);
    if (n && side == PortSide::kEither) {
      auto remote = one(terms, false, item);
      if (!remote) return std::unexpected(remote.error());
      n = terms.join(Kind::kOr, *n, *remote);
    }
    if (!n) return std::unexpected(n.error());
    impl->root = impl->root < 0 ? *n : terms.join(Kind::kOr, impl->root, *n);
  }
  return impl;
}

std::expected<int, Error> port_item(Terms& terms, bool local, const filter_detail::Token& item) {
  using filter_detail::Compare;
  std::string_view text = item.text;
  std::size_t column = item.column;
  if (text.starts_with(':')) {
    text.remove_prefix(1);
    ++column;
  }
  const auto dash = text.find('-', 1);
  if (dash == std::string_view::npos) return terms.port(local, Compare::kEq, text, column);
  auto lo = terms.port(local, Compare::kGe, text.substr(0, dash), column);
  if (!lo) return lo;
  auto hi = terms.port(local, Compare::kLe, text.substr(dash + 1), column + dash + 1);
  if (!hi) return hi;
  return terms.join(Kind::kAnd, *lo, *hi);
}

std::expected<int, Error> host_item(Terms& terms, bool local, const filter_detail::Token& item) {
  return terms.host(local, item.text, item.column);
}

}  // namespace

std::expected<SocketFilter, Error> SocketFilter::ports(std::string_view list, PortSide side,
                                                       const Registry& names,
                                                       const SocketFilterOptions& options) {
  auto impl = std::make_shared<Impl>();
  if (auto done = any_item(list, side, names, options, port_item, impl); !done) {
    return std::unexpected(done.error());
  }
  return SocketFilter(std::move(impl));
}

std::expected<SocketFilter, Error> SocketFilter::hosts(std::string_view list, PortSide side,
                                                       const Registry& names,
                                                       const SocketFilterOptions& options) {
  auto impl = std::make_shared<Impl>();
  if (auto done = any_item(list, side, names, options, host_item, impl); !done) {
    return std::unexpected(done.error());
  }
  return SocketFilter(std::move(impl));
}

SocketFilter SocketFilter::all_of(const SocketFilter& a, const SocketFilter& b) {
  const Impl& x = *a.impl_;
  const Impl& y = *b.impl_;
  auto out = std::make_shared<Impl>(x);
  out->states = x.states & y.states;
  out->states_given = x.states_given || y.states_given;
  out->ipv4 = x.ipv4 && y.ipv4;
  out->ipv6 = x.ipv6 && y.ipv6;
  out->user_space_differs = x.user_space_differs || y.user_space_differs;
  if (y.root < 0) return SocketFilter(std::move(out));
  const int offset = int(out->nodes.size());
  for (filter_detail::Node n : y.nodes) {
    for (int& c : n.children) c += offset;
    out->nodes.push_back(std::move(n));
  }
  const int other = y.root + offset;
  if (out->root < 0) {
    out->root = other;
  } else {
    filter_detail::Node both;  // (not designated: g++ 12 warns falsely on those here)
    both.kind = Kind::kAnd;
    both.children = {out->root, other};
    out->nodes.push_back(std::move(both));
    out->root = int(out->nodes.size()) - 1;
  }
  return SocketFilter(std::move(out));
}

StateMask SocketFilter::states() const { return impl_->states; }
bool SocketFilter::states_given() const { return impl_->states_given; }
bool SocketFilter::ipv4() const { return impl_->ipv4; }
bool SocketFilter::ipv6() const { return impl_->ipv6; }
bool SocketFilter::needs_user_space_check() const { return impl_->user_space_differs; }

bool SocketFilter::matches(const SocketRecord& r, FilterSide side) const {
  return impl_->root < 0 || filter_detail::evaluate(*impl_, impl_->root, r, side);
}

bool SocketFilter::matches(const SocketRecord& r) const {
  if (!(impl_->states & state_bit(r.state))) return false;
  if (!(r.local.address.is_v4() ? impl_->ipv4 : impl_->ipv6)) return false;
  return matches(r, FilterSide::kKernel) && matches(r, FilterSide::kUserSpace);
}

std::optional<std::vector<std::uint8_t>> SocketFilter::bytecode(std::size_t max_bytes) const {
  if (impl_->root < 0) return std::vector<std::uint8_t>{};
  return filter_detail::compile(*impl_, max_bytes);
}

std::string SocketFilter::to_string() const {
  static constexpr std::pair<SocketState, std::string_view> kNames[] = {
      {SocketState::kEstablished, "established"},
      {SocketState::kSynSent, "syn-sent"},
      {SocketState::kSynRecv, "syn-recv"},
      {SocketState::kFinWait1, "fin-wait-1"},
      {SocketState::kFinWait2, "fin-wait-2"},
      {SocketState::kTimeWait, "time-wait"},
      {SocketState::kClose, "closed"},
      {SocketState::kCloseWait, "close-wait"},
      {SocketState::kLastAck, "last-ack"},
      {SocketState::kListen, "listening"},
      {SocketState::kClosing, "closing"},
  };
  std::string out;
  auto word = [&](std::string_view w) {
    if (!out.empty()) out += ' ';
    out += w;
  };
  if (impl_->states_given) {
    if ((impl_->states & kAllStates) == kAllStates)
      word("state all");
    else if ((impl_->states & kAllStates) == 0)
      word("exclude all");
    for (const auto& [state, name] : kNames) {
      if ((impl_->states & kAllStates) != kAllStates && (impl_->states & state_bit(state))) {
        word("state");
        word(name);
      }
    }
  }
  if (impl_->root >= 0) {
    std::string family = impl_->ipv4 == impl_->ipv6 ? "" : impl_->ipv4 ? "inet:" : "inet6:";
    word(filter_detail::print(*impl_, impl_->root, family));
  }
  return out;
}

}  // namespace sockscope
