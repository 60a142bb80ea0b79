// Subcommands over the core model: endpoint, pair, groups.
#include <fmt/format.h>

#include "cli/context.hpp"
#include "output/kinds/model.hpp"
#include "output/text.hpp"
#include "sockscope/community_id.hpp"
#include "sockscope/endpoint.hpp"
#include "sockscope/socket_pair.hpp"

namespace sockscope::cli {
namespace {

int run_endpoint(Context& ctx, const std::vector<std::string>& inputs) {
  const auto host = ctx.host_range();
  auto out = ctx.writer({&output::kEndpointKind}, true);
  int exit_code = kExitOk;
  for (const auto& input : inputs) {
    auto ep = Endpoint::parse(input);
    if (!ep) {
      ctx.error("endpoint " + quote_input(input) + ": " + ep.error().what());
      exit_code = kExitUsage;
      continue;
    }
    out.write(output::kEndpointKind, output::EndpointRow{input, *ep, host});
  }
  out.finish();
  return exit_code;
}

// "registered, in this host's ephemeral range" / "well-known"
std::string group_text(Port port, const std::optional<PortRange>& host) {
  std::string s(to_string(group_of(port)));
  if (host && host->contains(port)) s += ", host ephemeral";
  return s;
}

// The human form of a pair: one labelled line per fact, the evidence explained.
void explain_pair(Context& ctx, const output::PairRow& row) {
  const auto& [pair, role, service, host] = row;
  const Endpoint& client = pair.endpoint(role.client);
  const Endpoint& server = pair.endpoint(role.server);
  const output::Style& s = ctx.style;
  auto out = fmt::appender(ctx.out.buffer());
  fmt::format_to(out, "{}socket pair{}   {}\n", s.bold(), s.reset(), pair.to_string());
  fmt::format_to(out, "transport     {}\n", to_string(pair.transport));
  if (pair.transport == Transport::kIcmp) {
    // No ports: the message's type and code stand where ports would.
    const auto type = std::uint8_t(pair.first.port);
    const std::string_view name = icmp_type_name(type, pair.first.address.family());
    fmt::format_to(out, "message       ICMP type {}{}{}{}, code {}, from {}\n", type,
                   name.empty() ? "" : " (", name, name.empty() ? "" : ")", pair.second.port,
                   pair.first.address.to_string());
    fmt::format_to(out, "client        {}{}{}\n", s.cyan(), client.address.to_string(), s.reset());
    fmt::format_to(out, "server        {}{}{}\n", s.green(), server.address.to_string(), s.reset());
  } else {
    fmt::format_to(out, "client        {}{}{}  (port {}: {})\n", s.cyan(), client.to_string(),
                   s.reset(), client.port, group_text(client.port, host));
    fmt::format_to(out, "server        {}{}{}  (port {}: {})\n", s.green(), server.to_string(),
                   s.reset(), server.port, group_text(server.port, host));
  }
  if (service) {
    fmt::format_to(out, "service       {} ({}'s name for {}/{}: what usually runs there)\n",
                   output::terminal_safe(service->name),
                   service->is_local() ? output::terminal_safe(service->source) : "IANA",
                   server.port, to_string(pair.transport));
  }
  const bool guess = is_guess(role.evidence);
  fmt::format_to(out, "evidence      {}{}{}: {}\n", guess ? s.yellow() : std::string_view{},
                 to_string(role.evidence), guess ? s.reset() : std::string_view{},
                 explain(pair, role, host));
  fmt::format_to(out, "community id  {}\n", community_id(pair));
}

int run_pair(Context& ctx, const std::vector<std::string>& inputs) {
  const auto host = ctx.host_range();
  const Naming& naming = ctx.naming();
  auto out = ctx.writer({&output::kPairKind}, true);
  int exit_code = kExitOk;
  bool first = true;
  for (const auto& input : inputs) {
    auto pair = SocketPair::parse(input);
    if (!pair) {
      ctx.error("pair " + quote_input(input) + ": " + pair.error().what());
      exit_code = kExitUsage;
      continue;
    }
    const Role role = pair->role(host);
    const output::PairRow row{*pair, role, naming.service(*pair, role), host};
    if (ctx.human()) {
      if (!first) ctx.out.buffer().push_back('\n');
      explain_pair(ctx, row);
    } else {
      out.write(output::kPairKind, row);
    }
    first = false;
  }
  if (!ctx.human()) out.finish();
  return exit_code;
}

constexpr output::GroupRow kGroups[] = {
    {PortGroup::kWellKnown, "system services (IANA assigns by IETF review)"},
    {PortGroup::kRegistered, "user services (IANA registers on request)"},
    {PortGroup::kDynamic, "dynamic/private: never assigned, free for clients"},
};

int run_groups(Context& ctx) {
  const auto& host = ctx.host_ephemeral();
  auto out = ctx.writer({&output::kGroupKind, &output::kEphemeralRangeKind});
  for (const auto& g : kGroups) out.write(output::kGroupKind, g);
  out.note("");  // tables: a blank line between the two
  std::vector<EphemeralRange> ranges = {EphemeralRange::iana(), EphemeralRange::windows(),
                                        EphemeralRange::linux_default()};
  if (host) ranges.insert(ranges.begin(), *host);
  for (const auto& r : ranges) {
    out.write(output::kEphemeralRangeKind, output::EphemeralRangeRow{r, host && &r == &ranges[0]});
  }
  out.finish();
  return kExitOk;
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
  ctx.on(groups, [&ctx] { return run_groups(ctx); });
}

}  // namespace sockscope::cli
