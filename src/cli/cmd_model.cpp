// Subcommands over the core model: endpoint, pair, groups.
#include <fmt/format.h>

#include "cli/context.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/endpoint.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope::cli {
namespace {

// "registered, in this host's ephemeral range" / "well-known"
std::string group_text(Port port, const std::optional<PortRange>& host) {
  std::string s(to_string(group_of(port)));
  if (host && host->contains(port)) s += ", host ephemeral";
  return s;
}

int run_endpoint(Context& ctx, const std::vector<std::string>& inputs) {
  auto host = ctx.host_range();
  int exit_code = kExitOk;
  Table table({"INPUT", "ENDPOINT", "FAMILY", "PORT", "GROUP", "EPHEMERAL"},
              {false, false, false, true, false, false});
  auto& buf = ctx.out.buffer();
  for (const auto& input : inputs) {
    auto ep = Endpoint::parse(input);
    if (!ep) {
      ctx.error("endpoint '" + input + "': " + ep.error().what());
      exit_code = kExitUsage;
      continue;
    }
    const char* family = ep->address.is_v4() ? "ipv4" : "ipv6";
    const bool eph = host && host->contains(ep->port);
    if (ctx.format == Format::kJson) {
      JsonWriter j(buf);
      j.begin_object().str("input", input).endpoint("endpoint", *ep, host).str("family", family);
      if (!ep->address.zone().empty()) j.str("zone", ep->address.zone());
      j.end_object().end_line();
    } else {
      table.add_row({input, ep->to_string(), family, std::to_string(ep->port),
                     std::string(to_string(ep->group())),
                     host ? (eph ? "yes (" + host->to_string() + ")" : "no") : "unknown"});
    }
  }
  if (ctx.format == Format::kTable && !table.empty()) table.render(buf, ctx.style);
  if (ctx.format == Format::kCsv && !table.empty()) table.render_csv(buf);
  return exit_code;
}

// The registry's name for the server's port: a hint about what usually runs
// there, never a claim about what does. nullptr when the port has none.
const Service* server_service(Context& ctx, const SocketPair& pair, const Role& role) {
  if (!has_ports(pair.transport)) return nullptr;
  return ctx.registry().primary(pair.endpoint(role.server).port, pair.transport);
}

void explain_pair_table(Context& ctx, const SocketPair& pair, const std::optional<PortRange>& host) {
  const Role role = pair.role(host);
  const Endpoint& client = pair.endpoint(role.client);
  const Endpoint& server = pair.endpoint(role.server);
  const Service* service = server_service(ctx, pair, role);
  const Style& s = ctx.style;
  auto& buf = ctx.out.buffer();
  auto out = std::back_inserter(buf);
  fmt::format_to(out, "{}socket pair{}   {}\n", s.bold(), s.reset(), pair.to_string());
  fmt::format_to(out, "transport     {}\n", to_string(pair.transport));
  fmt::format_to(out, "client        {}{}{}  (port {}: {})\n", s.cyan(), client.to_string(),
                 s.reset(), client.port, group_text(client.port, host));
  fmt::format_to(out, "server        {}{}{}  (port {}: {})\n", s.green(), server.to_string(),
                 s.reset(), server.port, group_text(server.port, host));
  if (service) {
    fmt::format_to(out, "service       {} ({}'s name for {}/{}: what usually runs there)\n",
                   service->name, service->is_local() ? service->source : "IANA", server.port,
                   to_string(pair.transport));
  }
  fmt::format_to(out, "evidence      {}{}{}: {}\n",
                 is_guess(role.evidence) ? s.yellow() : std::string_view{},
                 to_string(role.evidence), is_guess(role.evidence) ? s.reset() : std::string_view{},
                 explain(pair, role, host));
  fmt::format_to(out, "community id  {}\n", community_id(pair));
}

int run_pair(Context& ctx, const std::vector<std::string>& inputs) {
  auto host = ctx.host_range();
  int exit_code = kExitOk;
  auto& buf = ctx.out.buffer();
  Table table({"TRANSPORT", "CLIENT", "SERVER", "EVIDENCE", "COMMUNITY_ID"});
  bool first = true;
  for (const auto& input : inputs) {
    auto pair = SocketPair::parse(input);
    if (!pair) {
      ctx.error("pair '" + input + "': " + pair.error().what());
      exit_code = kExitUsage;
      continue;
    }
    const Role role = pair->role(host);
    switch (ctx.format) {
      case Format::kJson: {
        JsonWriter j(buf);
        j.begin_object()
            .str("transport", to_string(pair->transport))
            .endpoint("client", pair->endpoint(role.client), host)
            .endpoint("server", pair->endpoint(role.server), host)
            .str("role_evidence", to_string(role.evidence))
            .str("role_explanation", explain(*pair, role, host));
        if (const Service* service = server_service(ctx, *pair, role)) {
          j.str("service", service->name);
        } else {
          j.null("service");
        }
        j
            .str("community_id", community_id(*pair))
            .end_object()
            .end_line();
        break;
      }
      case Format::kCsv:
        table.add_row({std::string(to_string(pair->transport)),
                       pair->endpoint(role.client).to_string(),
                       pair->endpoint(role.server).to_string(),
                       std::string(to_string(role.evidence)), community_id(*pair)});
        break;
      case Format::kTable:
        if (!first) buf.push_back('\n');
        explain_pair_table(ctx, *pair, host);
        break;
    }
    first = false;
  }
  if (ctx.format == Format::kCsv) table.render_csv(buf);
  return exit_code;
}

struct GroupRow {
  PortGroup group;
  std::string_view description;
};
constexpr GroupRow kGroups[] = {
    {PortGroup::kWellKnown, "system services (IANA assigns by IETF review)"},
    {PortGroup::kRegistered, "user services (IANA registers on request)"},
    {PortGroup::kDynamic, "dynamic/private: never assigned, free for clients"},
};

void render_groups(Context& ctx) {
  auto& buf = ctx.out.buffer();
  const auto& host = ctx.host_ephemeral();
  if (ctx.format == Format::kJson) {
    for (const auto& g : kGroups) {
      PortRange r = PortRange::of_group(g.group);
      JsonWriter(buf).begin_object().str("kind", "group").str("group", to_string(g.group))
          .num("first", unsigned{r.first}).num("last", unsigned{r.last}).num("size", r.size())
          .str("description", g.description).end_object().end_line();
    }
    std::vector<EphemeralRange> ranges = {EphemeralRange::iana(), EphemeralRange::windows(),
                                          EphemeralRange::linux_default()};
    if (host) ranges.insert(ranges.begin(), *host);
    for (const auto& e : ranges) {
      JsonWriter(buf).begin_object().str("kind", "ephemeral_range").str("source", e.source)
          .boolean("host", host && &e == &ranges.front())
          .num("first", unsigned{e.range.first}).num("last", unsigned{e.range.last})
          .num("size", e.range.size()).end_object().end_line();
    }
    return;
  }
  Table groups({"GROUP", "PORTS", "COUNT", "DESCRIPTION"}, {false, false, true, false});
  for (const auto& g : kGroups) {
    PortRange r = PortRange::of_group(g.group);
    groups.add_row({std::string(to_string(g.group)), r.to_string(), std::to_string(r.size()),
                    std::string(g.description)});
  }
  Table ranges({"EPHEMERAL RANGE", "PORTS", "COUNT", "OVERLAPS"}, {false, false, true, false});
  auto overlap = [](PortRange r) {
    std::string s;
    for (const auto& g : kGroups) {
      PortRange gr = PortRange::of_group(g.group);
      unsigned lo = std::max(gr.first, r.first), hi = std::min(gr.last, r.last);
      if (lo > hi) continue;
      if (!s.empty()) s += ", ";
      s += fmt::format("{} {}", to_string(g.group), PortRange{Port(lo), Port(hi)}.to_string());
    }
    return s;
  };
  if (host) {
    ranges.add_row({"this host (" + host->source + ")", host->range.to_string(),
                    std::to_string(host->range.size()), overlap(host->range)});
  }
  for (const auto& e : {EphemeralRange::iana(), EphemeralRange::windows(),
                        EphemeralRange::linux_default()}) {
    ranges.add_row({e.source, e.range.to_string(), std::to_string(e.range.size()),
                    overlap(e.range)});
  }
  if (ctx.format == Format::kCsv) {
    groups.render_csv(buf);
    return;
  }
  groups.render(buf, ctx.style);
  buf.push_back('\n');
  ranges.render(buf, ctx.style);
}

}  // namespace

void add_model_commands(CLI::App& app, Context& ctx) {
  auto* endpoint = app.add_subcommand("endpoint", "parse endpoints: canonical form, group");
  static std::vector<std::string> endpoint_inputs;
  endpoint->add_option("ENDPOINT", endpoint_inputs, "e.g. 192.168.1.5:1099 or [2001:db8::1]:443")
      ->required()
      ->transform(keep_literal());
  ctx.on(endpoint, [&ctx] { return run_endpoint(ctx, endpoint_inputs); });

  auto* pair = app.add_subcommand("pair", "explain socket pairs: client, server, evidence");
  static std::vector<std::string> pair_inputs;
  pair->add_option("PAIR", pair_inputs, "e.g. \"192.168.1.5:1099, 192.168.1.7:80\"")
      ->required()
      ->transform(keep_literal());
  ctx.on(pair, [&ctx] { return run_pair(ctx, pair_inputs); });

  auto* groups = app.add_subcommand("groups", "the IANA port groups and ephemeral ranges");
  ctx.on(groups, [&ctx] {
    render_groups(ctx);
    return int(kExitOk);
  });
}

}  // namespace sockscope::cli
