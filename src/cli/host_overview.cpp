// `sockscope` without arguments: what this host serves (listeners by service
// and port group, with the connections they accepted) and whom it talks to
// (client connections grouped by the remote service, counted by state).
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "cli/host_view.hpp"

namespace sockscope::cli {
namespace {

using StateCounts = std::map<SocketState, std::size_t>;

struct Served {
  const Service* service = nullptr;
  std::set<std::string> addresses;
  StateCounts connections;
  bool listening = false;
};

struct Remote {
  const Service* service = nullptr;
  std::set<IpAddress> hosts;
  StateCounts states;
  std::size_t total = 0;
};

std::string counts_text(const StateCounts& c) {
  std::string s;
  for (const auto& [state, n] : c) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", n, to_string(state));
  }
  return s.empty() ? "-" : s;
}

void json_counts(JsonWriter& j, std::string_view key, const StateCounts& c) {
  j.begin_object(key);
  for (const auto& [state, n] : c) j.num(to_string(state), std::uint64_t{n});
  j.end_object();
}

std::string port_text(Port port, Transport t) {
  return fmt::format("{}/{}", port, to_string(t));
}

}  // namespace

void render_overview(Context& ctx) {
  HostScan scan(ctx, ctx.all_netns, false);
  std::set<std::uint64_t> namespaces;
  std::map<std::pair<Transport, Port>, Served> served;
  std::map<std::pair<Transport, Port>, Remote> remote;
  std::size_t total = 0, listeners = 0, server_side = 0, client_side = 0, unknown = 0;
  bool ok = scan.run(SocketQuery{}, [&](const HostRow& row) {
    const HostSocket& s = row.socket;
    const SocketRecord& r = s.record;
    ++total;
    namespaces.insert(row.netns.inode);
    switch (s.role) {
      case LocalRole::kListener: {
        ++listeners;
        Served& v = served[{r.transport, r.local.port}];
        v.service = row.service;
        v.listening = true;
        // With --all-netns a listener of another namespace says which one.
        v.addresses.insert(row.netns.current ? r.local.address.to_string()
                                             : r.local.address.to_string() + " in " +
                                                   row.netns.label());
        break;
      }
      case LocalRole::kServer: {
        // A lower-port guess is no evidence of serving: count it apart.
        if (is_guess(s.evidence)) {
          ++unknown;
          break;
        }
        ++server_side;
        Served& v = served[{r.transport, r.local.port}];
        v.service = row.service;
        ++v.connections[r.state];
        break;
      }
      case LocalRole::kClient: {
        if (is_guess(s.evidence)) {
          ++unknown;
          break;
        }
        ++client_side;
        Remote& v = remote[{r.transport, r.remote.port}];
        v.service = row.service;
        v.hosts.insert(r.remote.address);
        ++v.states[r.state];
        ++v.total;
        break;
      }
      case LocalRole::kUnknown: ++unknown; break;
    }
  });
  if (!ok) return;
  auto& buf = ctx.out.buffer();
  auto out = std::back_inserter(buf);
  const auto host = ctx.host_range();
  std::vector<std::pair<std::pair<Transport, Port>, const Remote*>> by_count;
  for (const auto& [k, v] : remote) by_count.push_back({k, &v});
  std::stable_sort(by_count.begin(), by_count.end(),
                   [](const auto& a, const auto& b) { return a.second->total > b.second->total; });

  if (ctx.format == Format::kJson) {
    for (const auto& [k, v] : served) {
      JsonWriter j(buf);
      j.begin_object().str("kind", v.listening ? "listener" : "served").str("transport", to_string(k.first))
          .num("port", unsigned{k.second}).str("group", to_string(group_of(k.second)));
      if (v.service) j.str("service", v.service->name); else j.null("service");
      j.begin_array("addresses");
      for (const auto& a : v.addresses) j.str({}, a);
      j.end_array();
      json_counts(j, "connections", v.connections);
      j.end_object().end_line();
    }
    for (const auto& [k, v] : by_count) {
      JsonWriter j(buf);
      j.begin_object().str("kind", "remote_service").str("transport", to_string(k.first))
          .num("port", unsigned{k.second}).str("group", to_string(group_of(k.second)));
      if (v->service) j.str("service", v->service->name); else j.null("service");
      j.num("remote_hosts", std::uint64_t{v->hosts.size()}).num("connections", std::uint64_t{v->total});
      json_counts(j, "states", v->states);
      j.end_object().end_line();
    }
    JsonWriter(buf).begin_object().str("kind", "summary").num("sockets", std::uint64_t{total})
        .num("listeners", std::uint64_t{listeners}).num("server_side", std::uint64_t{server_side})
        .num("client_side", std::uint64_t{client_side}).num("unknown", std::uint64_t{unknown})
        .num("network_namespaces", std::uint64_t{ctx.all_netns ? namespaces.size() : 1})
        .str("source", scan.source_name()).end_object().end_line();
    return;
  }
  const Style& st = ctx.style;
  const std::string where =
      ctx.all_netns ? fmt::format("This host, {} network namespace{}", namespaces.size(),
                                  namespaces.size() == 1 ? "" : "s")
                    : std::string("This host");
  fmt::format_to(out, "{}{}{}: {} sockets: {} listening, {} accepted/served, {} client, {} "
                 "unclassified (no listener, no kernel bit, ports too alike to tell; source {}{})\n\n",
                 st.bold(), where, st.reset(), total, listeners, server_side, client_side, unknown,
                 scan.source_name(),
                 host ? ", ephemeral range " + host->to_string() : std::string());
  Table serves({"SERVES", "PORT", "GROUP", "LISTENING ON", "CONNECTIONS"},
               {false, true, false, false, false});
  // Listeners always; served ports without a listener and remote services only
  // the busiest kLimit, so the overview fits a screen on busy hosts.
  constexpr std::size_t kLimit = 15;
  std::size_t unlisted_served = 0;
  std::vector<std::pair<std::pair<Transport, Port>, const Served*>> served_rows;
  for (const auto& [k, v] : served) served_rows.push_back({k, &v});
  auto total_of = [](const Served* v) {
    std::size_t n = 0;
    for (const auto& [state, c] : v->connections) n += c;
    return n;
  };
  std::stable_sort(served_rows.begin(), served_rows.end(), [&](const auto& a, const auto& b) {
    if (a.second->listening != b.second->listening) return a.second->listening;
    return !a.second->listening && total_of(a.second) > total_of(b.second);
  });
  std::size_t shown_without_listener = 0;
  for (const auto& [k, vp] : served_rows) {
    const Served& v = *vp;
    if (!v.listening && ctx.format == Format::kTable && ++shown_without_listener > kLimit) {
      ++unlisted_served;
      continue;
    }
    std::string addrs;
    for (const auto& a : v.addresses) addrs += (addrs.empty() ? "" : ", ") + a;
    serves.add_row({v.service ? std::string(v.service->name) : "-", port_text(k.second, k.first),
                    std::string(to_string(group_of(k.second))),
                    v.listening ? addrs : "(no listener now)", counts_text(v.connections)});
  }
  Table talks({"TALKS TO", "PORT", "GROUP", "HOSTS", "CONNECTIONS"},
              {false, true, false, true, false});
  std::size_t unlisted_remote = 0;
  for (const auto& [k, v] : by_count) {
    if (ctx.format == Format::kTable && talks.size() >= kLimit) {
      ++unlisted_remote;
      continue;
    }
    talks.add_row({v->service ? std::string(v->service->name) : "-", port_text(k.second, k.first),
                   std::string(to_string(group_of(k.second))), std::to_string(v->hosts.size()),
                   counts_text(v->states)});
  }
  if (ctx.format == Format::kCsv) {
    serves.render_csv(buf);
    buf.push_back('\n');
    talks.render_csv(buf);
    return;
  }
  if (!serves.empty()) serves.render(buf, st);
  else fmt::format_to(out, "No listening sockets.\n");
  if (unlisted_served) {
    fmt::format_to(out, "{}... and {} more ports with accepted connections but no listener{}\n",
                   st.dim(), unlisted_served, st.reset());
  }
  buf.push_back('\n');
  if (!talks.empty()) talks.render(buf, st);
  else fmt::format_to(out, "No client connections.\n");
  if (unlisted_remote) {
    fmt::format_to(out, "{}... and {} more remote ports (sockscope --json lists all){}\n",
                   st.dim(), unlisted_remote, st.reset());
  }
  fmt::format_to(out, "\n{}Details: sockscope sockets [-p], sockscope listen; JSON: --json{}\n",
                 st.dim(), st.reset());
}

}  // namespace sockscope::cli
