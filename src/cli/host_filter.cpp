// The host subcommands' options turned into a kernel query plus a predicate per
// socket. Transports, families, states, --port/--local/--remote and ss's filter
// words become one SocketFilter, which the netlink source sends to the kernel as
// bytecode; owners, users, groups, service names and lsof's selections (several
// are ORed, which one request cannot say together with their transports) are
// checked here.
#include "cli/host_filter.hpp"

#include <fmt/format.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>

namespace sockscope::cli {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower((unsigned char)x) == std::tolower((unsigned char)y);
         });
}

// Words after which ss's language expects a value (which may look like ":443").
bool takes_value(std::string_view word) {
  static constexpr std::string_view kWords[] = {
      "sport", "dport", "src", "dst", "=",  "==", "eq", "!=",  "ne",    "neq",     "<",   "lt",
      "<=",    "le",    "leq", ">",   "gt", ">=", "ge", "geq", "state", "exclude", "excl"};
  return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
}

// A leading transport name of a selection ("tcp", "UDP"), its length or 0.
std::size_t transport_prefix(std::string_view word, Transport& t) {
  for (Transport candidate :
       {Transport::kTcp, Transport::kUdp, Transport::kSctp, Transport::kDccp}) {
    const std::string_view name = to_string(candidate);
    if (word.size() >= name.size() && iequal(word.substr(0, name.size()), name)) {
      t = candidate;
      return name.size();
    }
  }
  return 0;
}

// One list option (--port, --local, --remote), every occurrence ORed.
std::optional<std::optional<SocketFilter>> list_filter(Context& ctx, std::string_view option,
                                                       const std::vector<std::string>& lists,
                                                       bool ports, PortSide side,
                                                       const SocketFilterOptions& options) {
  if (lists.empty()) return std::optional<SocketFilter>();
  std::string joined;
  for (const auto& l : lists) joined += (joined.empty() ? "" : ",") + l;
  auto f = ports ? SocketFilter::ports(joined, side, ctx.registry(), options)
                 : SocketFilter::hosts(joined, side, ctx.registry(), options);
  if (!f) {
    ctx.error(fmt::format("{} {}: {}", option, quote_input(joined), f.error().what()));
    return std::nullopt;
  }
  return std::optional<SocketFilter>(std::move(*f));
}

// --state lists: "established,time-wait" -> `state established state time-wait`.
std::optional<std::optional<SocketFilter>> state_filter(Context& ctx,
                                                        const std::vector<std::string>& lists,
                                                        const SocketFilterOptions& options) {
  if (lists.empty()) return std::optional<SocketFilter>();
  std::vector<std::string> words;
  for (const auto& list : lists) {
    std::size_t at = 0;
    while (at <= list.size()) {
      const std::size_t end = std::min(list.find(',', at), list.size());
      const std::string item = list.substr(at, end - at);
      if (item.empty() || item.find(' ') != std::string::npos) {
        ctx.error(
            fmt::format("--state {}: expected a state or a list like "
                        "established,time-wait",
                        quote_input(list)));
        return std::nullopt;
      }
      words.insert(words.end(), {"state", item});
      at = end + 1;
    }
  }
  auto f = SocketFilter::parse(words, ctx.registry(), options);
  if (!f) {
    ctx.error(fmt::format("--state {}: {}", quote_input(words.back()), f.error().message));
    return std::nullopt;
  }
  return std::optional<SocketFilter>(std::move(*f));
}

// ss's letters that sockscope does not answer: one line saying so, naming the letter.
std::string unsupported_text(std::string_view letter) {
  if (letter == "-x")
    return "-x: unix sockets are not modelled (sockscope shows TCP, UDP, SCTP "
           "and DCCP sockets; ss -x lists unix sockets)";
  if (letter == "-w")
    return "-w: raw sockets are not modelled (sockscope shows TCP, UDP, SCTP "
           "and DCCP sockets; ss -w lists raw sockets)";
  return fmt::format("{}: ss's option {} is not supported by sockscope", letter, letter);
}

}  // namespace

bool is_selection(std::string_view word) {
  if (word.empty() || word.find_first_of(" \t()") != std::string_view::npos) return false;
  if (word[0] == ':' || word[0] == '@') return word.size() > 1;
  std::string_view rest = word;
  if (rest[0] == '4' || rest[0] == '6') rest.remove_prefix(1);
  Transport t;
  rest.remove_prefix(transport_prefix(rest, t));
  if (rest.size() == word.size()) return false;  // neither a family nor a transport
  return rest.empty() || ((rest[0] == ':' || rest[0] == '@') && rest.size() > 1);
}

std::expected<Selection, Error> parse_selection(std::string_view word, const Registry& names,
                                                const SocketFilterOptions& options) {
  Selection s;
  std::string_view rest = word;
  if (!rest.empty() && (rest[0] == '4' || rest[0] == '6')) {
    s.family = rest[0] == '4' ? Family::kV4 : Family::kV6;
    rest.remove_prefix(1);
  }
  Transport t;
  if (const std::size_t n = transport_prefix(rest, t)) {
    s.transport = t;
    rest.remove_prefix(n);
  }
  std::optional<SocketFilter> host, ports;
  if (!rest.empty() && rest[0] == '@') {
    rest.remove_prefix(1);
    // The host: "[v6]", an address or prefix without ':', or a whole unbracketed
    // IPv6 address (more than one ':'); then ":PORTS" may follow.
    std::size_t end = rest.size();
    if (rest.starts_with('[')) {
      end = std::min(rest.find(']'), rest.size() - 1) + 1;
    } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
      end = rest.find(':');
    }
    // One port goes with the host ("@[::1]:80" is that endpoint); a list is tested apart.
    const bool one_port = end < rest.size() && rest.find_first_of(",-", end) == rest.npos;
    const std::string_view host_text = one_port ? rest : rest.substr(0, end);
    auto h = SocketFilter::hosts(host_text, PortSide::kEither, names, options);
    if (!h) return std::unexpected(h.error());
    host = std::move(*h);
    rest.remove_prefix(host_text.size());
  }
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() == 1) {
      return std::unexpected(Error::at(Error::Code::kBadSyntax,
                                       "expected [46][tcp|udp|sctp|dccp][@HOST][:PORTS]",
                                       std::size_t(rest.data() - word.data()) + 1, rest));
    }
    auto p = SocketFilter::ports(rest.substr(1), PortSide::kEither, names, options);
    if (!p) return std::unexpected(p.error());
    ports = std::move(*p);
  }
  if (host && ports) {
    s.filter = SocketFilter::all_of(*host, *ports);
  } else if (host || ports) {
    s.filter = host ? std::move(host) : std::move(ports);
  }
  return s;
}

bool Selection::matches(const SocketRecord& r) const {
  if (transport && r.transport != *transport) return false;
  // An IPv4-mapped address is an IPv6 socket's (lsof and ss -6 count it so).
  if (family && r.local.address.family() != *family) return false;
  return !filter || filter->matches(r);
}

bool HostFilter::matches(const Naming& naming, const HostRow& row) const {
  const SocketRecord& r = row.socket.record;
  if (listeners_only && row.socket.role != LocalRole::kListener) return false;
  if (uid && r.uid != *uid) return false;
  if (group && group_of(r.local.port) != *group) return false;
  if (!service.empty() && !naming.answers_to(r.transport, row.socket.server_port(), service)) {
    return false;
  }
  if (!selections.empty() && std::none_of(selections.begin(), selections.end(),
                                          [&](const Selection& s) { return s.matches(r); })) {
    return false;
  }
  if (pid || !command.empty()) {
    bool found = false;
    for (const auto& o : row.owners) {
      if ((pid && o.pid == *pid) || (!command.empty() && o.command == command)) found = true;
    }
    if (!found) return false;
  }
  return true;
}

bool HostFilter::matches_unqueried(const Naming& naming, const HostRow& row) const {
  const SocketRecord& r = row.socket.record;
  const SocketQuery& q = scan.query;
  if (std::find(q.transports.begin(), q.transports.end(), r.transport) == q.transports.end()) {
    return false;
  }
  if (!(q.states & state_bit(r.state))) return false;
  if (!(r.local.address.is_v4() ? q.ipv4 : q.ipv6)) return false;
  if (q.filter && !q.filter->matches(r)) return false;
  return matches(naming, row);
}

namespace {

// The positional words: ss's expression, with lsof's selections taken out
// (a word that looks like one but stands where ss expects a value stays ss's).
struct Words {
  std::vector<std::string> expression;
  std::vector<std::string> selections;
};
Words split_words(const std::vector<std::string>& words) {
  Words out;
  std::string_view previous;
  for (const auto& w : words) {
    if (is_selection(w) && !takes_value(previous)) {
      out.selections.push_back(w);
    } else {
      out.expression.push_back(w);
    }
    const std::size_t blank = w.find_last_of(" \t");
    previous =
        blank == std::string::npos ? std::string_view(w) : std::string_view(w).substr(blank + 1);
  }
  return out;
}

// Every filter the options and words give, joined; nullopt after an error line.
std::optional<std::optional<SocketFilter>> combined_filter(Context& ctx, const HostOptions& o,
                                                           const Words& words,
                                                           const SocketFilterOptions& options) {
  std::optional<SocketFilter> all;
  auto join = [&](std::optional<std::optional<SocketFilter>> f) {
    if (!f) return false;
    if (*f) all = all ? SocketFilter::all_of(*all, **f) : std::move(**f);
    return true;
  };
  if (!words.expression.empty()) {
    auto f = SocketFilter::parse(words.expression, ctx.registry(), options);
    if (!f) {
      std::string text;
      for (const auto& w : words.expression) text += (text.empty() ? "" : " ") + w;
      ctx.error(fmt::format("filter {}: {}", quote_input(text), f.error().what()));
      return std::nullopt;
    }
    join(std::optional<SocketFilter>(std::move(*f)));
  }
  if (!join(state_filter(ctx, o.states, options)) ||
      !join(list_filter(ctx, "--port", o.ports, true, PortSide::kEither, options)) ||
      !join(list_filter(ctx, "--local", o.local, false, PortSide::kLocal, options)) ||
      !join(list_filter(ctx, "--remote", o.remote, false, PortSide::kRemote, options))) {
    return std::nullopt;
  }
  return all;
}

std::optional<std::uint32_t> user_option(Context& ctx, const std::string& text) {
  if (!text.empty() && text.size() < 11 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    const unsigned long n = std::stoul(text);
    if (n <= UINT32_MAX) return std::uint32_t(n);
  }
  if (const passwd* pw = ::getpwnam(text.c_str())) return pw->pw_uid;
  ctx.error(fmt::format("--user {}: no such user (give a name or a uid)", quote_input(text)));
  return std::nullopt;
}

bool query_from_options(Context& ctx, const HostOptions& o, bool listen_only, HostFilter& f) {
  SocketQuery& query = f.scan.query;
  if (o.tcp || o.udp || o.sctp || o.dccp) {
    query.transports.clear();
    if (o.tcp) query.transports.push_back(Transport::kTcp);
    if (o.udp) query.transports.push_back(Transport::kUdp);
    if (o.sctp) query.transports.push_back(Transport::kSctp);
    if (o.dccp) query.transports.push_back(Transport::kDccp);
  }
  if (o.ipv4 != o.ipv6) {
    query.ipv4 = o.ipv4;
    query.ipv6 = o.ipv6;
  }
  query.tcp_info = o.info;
  query.memory = o.memory;
  if (o.listening || listen_only) {
    query.states &= state_bit(SocketState::kListen) | state_bit(SocketState::kClose);
    f.listeners_only = true;
  }
  if (o.words.empty() && o.states.empty() && o.ports.empty() && o.local.empty() &&
      o.remote.empty()) {
    return true;  // no filter: the plain dump
  }
  const SocketFilterOptions options = host_filter_options(query.transports);
  const Words words = split_words(o.words);
  auto filter = combined_filter(ctx, o, words, options);
  if (!filter) return false;
  if (*filter) query.filter = std::make_shared<const SocketFilter>(std::move(**filter));
  for (const auto& w : words.selections) {
    auto s = parse_selection(w, ctx.registry(), options);
    if (!s) {
      ctx.error(fmt::format("selection {}: {}", quote_input(w), s.error().what()));
      return false;
    }
    f.selections.push_back(std::move(*s));
  }
  return true;
}

}  // namespace

std::optional<std::string> unsupported_ss_letter(std::string_view arg) {
  constexpr std::string_view kLetters = "xwrZzKEbMTO";
  if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-') return std::nullopt;
  for (char c : arg.substr(1)) {
    if (kLetters.find(c) != std::string_view::npos) return unsupported_text(std::string("-") + c);
  }
  return std::nullopt;
}

std::optional<HostFilter> make_filter(Context& ctx, const HostOptions& o, bool listen_only) {
  HostFilter f;
  if (!query_from_options(ctx, o, listen_only, f)) return std::nullopt;
  if (!o.group.empty()) {
    auto g = parse_port_group(o.group);
    if (!g) {
      ctx.error("--group " + quote_input(o.group) + ": " + g.error().what());
      return std::nullopt;
    }
    f.group = *g;
  }
  f.service = o.service;
  if (!o.user.empty() && !(f.uid = user_option(ctx, o.user))) return std::nullopt;
  if (!o.process.empty()) {
    if (o.process.find_first_not_of("0123456789") == std::string::npos && o.process.size() < 10) {
      f.pid = std::stoi(o.process);
    } else {
      f.command = o.process;
    }
  }
  f.scan.owners = o.processes || f.pid || !f.command.empty();
  auto from = owner_source_option(ctx, o.owners_from);
  if (!from) return std::nullopt;
  f.scan.owner_source = *from;
  f.scan.all_namespaces = o.all_netns || ctx.all_netns;
  f.scan.host_ephemeral = ctx.host_range();
  return f;
}

std::optional<OwnerSource> owner_source_option(Context& ctx, const std::string& text) {
  auto from = parse_owner_source(text);
  if (!from) ctx.error("--owners-from " + quote_input(text) + ": expected auto, bpf or proc");
  return from;
}

void add_owners_from_option(CLI::App* sub, std::string& value) {
  sub->add_option("--owners-from", value,
                  "where owners come from: auto (a BPF iterator when root and the kernel "
                  "allow it, else /proc), bpf (fail without it), proc (/proc/PID/fd)")
      ->type_name("SOURCE")
      ->default_str("auto")
      ->transform(keep_literal());
}

}  // namespace sockscope::cli
