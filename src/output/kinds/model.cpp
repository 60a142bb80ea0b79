#include "output/kinds/model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sockscope/community_id.hpp"

namespace sockscope::output {
namespace {

std::string_view family_of(const Endpoint& ep) { return ep.address.is_v4() ? "ipv4" : "ipv6"; }

// The overlap of a range with the port groups: "registered 32768-49151, dynamic 49152-60999".
std::string overlaps(PortRange r) {
  std::string s;
  for (PortGroup g : {PortGroup::kWellKnown, PortGroup::kRegistered, PortGroup::kDynamic}) {
    const PortRange gr = PortRange::of_group(g);
    const unsigned lo = std::max(gr.first, r.first), hi = std::min(gr.last, r.last);
    if (lo > hi) continue;
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", to_string(g), PortRange{Port(lo), Port(hi)}.to_string());
  }
  return s;
}

constexpr Field kEndpointFields[] = {
    {.name = "input",
     .header = "INPUT",
     .meaning = "the text as given",
     .get = [](const void* r, Value& v) { v.string(as<EndpointRow>(r).input); }},
    {.name = "endpoint",
     .type = Type::kEndpoint,
     .header = "ENDPOINT",
     .meaning = "the endpoint in canonical form",
     .get = [](const void* r, Value& v) { v.endpoint(as<EndpointRow>(r).endpoint); }},
    {.name = "family",
     .header = "FAMILY",
     .meaning = "ipv4 or ipv6",
     .get = [](const void* r, Value& v) { v.string(family_of(as<EndpointRow>(r).endpoint)); }},
    {.name = "port",
     .type = Type::kPort,
     .header = "PORT",
     .meaning = "the port",
     .get = [](const void* r, Value& v) { v.count(as<EndpointRow>(r).endpoint.port); },
     .presence = Presence::kDisplay},
    {.name = "group",
     .header = "GROUP",
     .meaning = "the port's IANA group",
     .get = [](const void* r,
               Value& v) { v.string(to_string(as<EndpointRow>(r).endpoint.group())); },
     .presence = Presence::kDisplay},
    {.name = "ephemeral_range",
     .header = "EPHEMERAL",
     .meaning = "whether the port is in this host's ephemeral range, and the range",
     .get =
         [](const void* r, Value& v) {
           const auto& row = as<EndpointRow>(r);
           if (!row.host) {
             v.string("unknown");
           } else if (row.host->contains(row.endpoint.port)) {
             v.owned("yes (" + row.host->to_string() + ")");
           } else {
             v.string("no");
           }
         },
     .presence = Presence::kDisplay},
    {.name = "zone",
     .meaning = "the IPv6 zone (interface), when given",
     .get = [](const void* r,
               Value& v) { v.string_or_null(as<EndpointRow>(r).endpoint.address.zone()); },
     .presence = Presence::kOptional},
};

constexpr Field kPairFields[] = {
    {.name = "transport",
     .header = "TRANSPORT",
     .meaning = "tcp, udp, sctp, dccp or icmp",
     .get = [](const void* r, Value& v) { v.string(to_string(as<PairRow>(r).pair.transport)); }},
    {.name = "client",
     .type = Type::kEndpoint,
     .header = "CLIENT",
     .meaning = "the client's socket",
     .get =
         [](const void* r, Value& v) {
           const auto& p = as<PairRow>(r);
           v.endpoint(p.pair.endpoint(p.role.client));
         }},
    {.name = "server",
     .type = Type::kEndpoint,
     .header = "SERVER",
     .meaning = "the server's socket",
     .get =
         [](const void* r, Value& v) {
           const auto& p = as<PairRow>(r);
           v.endpoint(p.pair.endpoint(p.role.server));
         }},
    {.name = "role_evidence",
     .header = "EVIDENCE",
     .meaning = "why that side is the server: well-known-port, registered-vs-ephemeral, "
                "lower-port-guess, ...",
     .get = [](const void* r, Value& v) { v.string(to_string(as<PairRow>(r).role.evidence)); }},
    {.name = "role_explanation",
     .meaning = "the evidence in one human line",
     .get =
         [](const void* r, Value& v) {
           const auto& p = as<PairRow>(r);
           v.owned(explain(p.pair, p.role, p.host));
         }},
    {.name = "service",
     .header = "SERVICE",
     .meaning = "the registry's name for the server port (a hint), or null",
     .get =
         [](const void* r, Value& v) {
           const Service* s = as<PairRow>(r).service;
           if (s) {
             v.string(s->name);
           } else {
             v.null();
           }
         },
     .presence = Presence::kNullable},
    {.name = "community_id",
     .header = "COMMUNITY ID",
     .meaning = "Community ID v1 of the pair (seed 0), as Zeek and Suricata compute it",
     .get = [](const void* r, Value& v) { v.owned(community_id(as<PairRow>(r).pair)); }},
};

constexpr Field kGroupFields[] = {
    {.name = "kind",
     .meaning = "\"group\"",
     .get = [](const void*, Value& v) { v.string("group"); }},
    {.name = "group",
     .header = "GROUP",
     .meaning = "well-known, registered or dynamic",
     .get = [](const void* r, Value& v) { v.string(to_string(as<GroupRow>(r).group)); }},
    {.name = "ports",
     .header = "PORTS",
     .meaning = "first-last",
     .get = [](const void* r,
               Value& v) { v.owned(PortRange::of_group(as<GroupRow>(r).group).to_string()); },
     .presence = Presence::kDisplay},
    {.name = "first",
     .type = Type::kPort,
     .meaning = "first port",
     .get = [](const void* r,
               Value& v) { v.count(PortRange::of_group(as<GroupRow>(r).group).first); }},
    {.name = "last",
     .type = Type::kPort,
     .meaning = "last port",
     .get = [](const void* r,
               Value& v) { v.count(PortRange::of_group(as<GroupRow>(r).group).last); }},
    {.name = "size",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "COUNT",
     .meaning = "ports in the group",
     .get = [](const void* r,
               Value& v) { v.count(PortRange::of_group(as<GroupRow>(r).group).size()); }},
    {.name = "description",
     .header = "DESCRIPTION",
     .meaning = "what IANA uses the group for",
     .get = [](const void* r, Value& v) { v.string(as<GroupRow>(r).description); }},
};

constexpr Field kRangeFields[] = {
    {.name = "kind",
     .meaning = "\"ephemeral_range\"",
     .get = [](const void*, Value& v) { v.string("ephemeral_range"); }},
    {.name = "source",
     .meaning = "where the range comes from: a /proc path, IANA, an OS",
     .get = [](const void* r, Value& v) { v.string(as<EphemeralRangeRow>(r).range.source); }},
    {.name = "range_name",
     .header = "EPHEMERAL RANGE",
     .meaning = "the source, this host's marked",
     .get =
         [](const void* r, Value& v) {
           const auto& row = as<EphemeralRangeRow>(r);
           if (row.host) {
             v.owned("this host (" + row.range.source + ")");
           } else {
             v.string(row.range.source);
           }
         },
     .presence = Presence::kDisplay},
    {.name = "host",
     .type = Type::kBool,
     .meaning = "whether this is the host's range in force",
     .get = [](const void* r, Value& v) { v.boolean(as<EphemeralRangeRow>(r).host); }},
    {.name = "ports",
     .header = "PORTS",
     .meaning = "first-last",
     .get = [](const void* r,
               Value& v) { v.owned(as<EphemeralRangeRow>(r).range.range.to_string()); },
     .presence = Presence::kDisplay},
    {.name = "first",
     .type = Type::kPort,
     .meaning = "first port",
     .get = [](const void* r, Value& v) { v.count(as<EphemeralRangeRow>(r).range.range.first); }},
    {.name = "last",
     .type = Type::kPort,
     .meaning = "last port",
     .get = [](const void* r, Value& v) { v.count(as<EphemeralRangeRow>(r).range.range.last); }},
    {.name = "size",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "COUNT",
     .meaning = "ports in the range",
     .get = [](const void* r, Value& v) { v.count(as<EphemeralRangeRow>(r).range.range.size()); }},
    {.name = "overlaps",
     .header = "OVERLAPS",
     .meaning = "the port groups the range overlaps",
     .get = [](const void* r,
               Value& v) { v.owned(overlaps(as<EphemeralRangeRow>(r).range.range)); },
     .presence = Presence::kDisplay},
};

constexpr std::string_view kEndpointTable[] = {"input", "endpoint", "family",
                                               "port",  "group",    "ephemeral_range"};

}  // namespace

const RecordKind kEndpointKind{"endpoint", kEndpointFields, "one parsed endpoint (`endpoint`)",
                               kEndpointTable};
const RecordKind kPairKind{"pair", kPairFields, "one socket pair explained (`pair`)"};
const RecordKind kGroupKind{"group", kGroupFields, "an IANA port group (`groups`)"};
const RecordKind kEphemeralRangeKind{"ephemeral_range", kRangeFields,
                                     "an ephemeral port range (`groups`)"};

}  // namespace sockscope::output
