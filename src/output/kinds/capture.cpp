#include "output/kinds/capture.hpp"

#include <fmt/format.h>

namespace sockscope::output {
namespace {

const ConversationRow& row(const void* r) { return as<ConversationRow>(r); }
const Conversation& conv(const void* r) { return row(r).conversation; }

bool stateful(const Conversation& c) {
  return c.pair.transport == Transport::kTcp || c.pair.transport == Transport::kUdp;
}

// --report-every: a row of a conversation that goes on (the counts so far; it comes
// again when it ends). Left out of outputs without --report-every.
constexpr Field kOpenField = {
    .name = "open",
    .type = Type::kBool,
    .meaning = "--report-every: reported while still open (counts so far)",
    .get = [](const void* r, Value& v) { v.boolean(as<ConversationRow>(r).conversation.open); },
    .presence = Presence::kSparse};

constexpr Field kConversationFields[] = {
    {.name = "transport",
     .meaning = "tcp, udp, sctp, dccp or icmp",
     .get = [](const void* r, Value& v) { v.string(to_string(conv(r).pair.transport)); }},
    {.name = "transport_shown",
     .header = "TRANSPORT",
     .meaning = "the transport and VLAN",
     .get =
         [](const void* r, Value& v) {
           const Conversation& c = conv(r);
           std::string text(to_string(c.pair.transport));
           if (c.vlan) text += fmt::format(" vlan {}", c.vlan);
           if (c.tunnel.kind != TunnelKind::kNone)
             text += fmt::format(" in {}", to_string(c.tunnel.kind));
           v.owned(std::move(text));
         },
     .presence = Presence::kDisplay},
    {.name = "client",
     .type = Type::kEndpoint,
     .header = "CLIENT",
     .meaning = "the client's socket (ICMP: the port is the first packet's type)",
     .get = [](const void* r, Value& v) { v.endpoint(conv(r).pair.first); }},
    {.name = "server",
     .type = Type::kEndpoint,
     .header = "SERVER",
     .meaning = "the server's socket (ICMP: the port is the code)",
     .get = [](const void* r, Value& v) { v.endpoint(conv(r).pair.second); }},
    {.name = "role_evidence",
     .header = "EVIDENCE",
     .meaning = "handshake, first-packet, well-known-port, registered-vs-ephemeral, "
                "lower-port-guess",
     .get = [](const void* r, Value& v) { v.string(to_string(conv(r).evidence)); }},
    {.name = "service",
     .header = "SERVICE",
     .meaning = "the registry's name for the server port (a hint), or null",
     .get = [](const void* r, Value& v) { v.string_or_null(row(r).service); },
     .presence = Presence::kNullable},
    {.name = "vlan",
     .type = Type::kCount,
     .meaning = "outer VLAN id << 12 | inner id; 0 (left out of JSON) when untagged",
     .get = [](const void* r, Value& v) { v.count(conv(r).vlan); },
     .presence = Presence::kSparse},
    {.name = "first",
     .type = Type::kTime,
     .unit = Unit::kSeconds,
     .meaning = "first packet, seconds since the Unix epoch (microseconds)",
     .get = [](const void* r, Value& v) { v.count(conv(r).first_ns); }},
    {.name = "last",
     .type = Type::kTime,
     .unit = Unit::kSeconds,
     .meaning = "last packet",
     .get = [](const void* r, Value& v) { v.count(conv(r).last_ns); }},
    {.name = "duration",
     .type = Type::kDuration,
     .unit = Unit::kSeconds,
     .header = "DURATION",
     .meaning = "last - first",
     .get = [](const void* r, Value& v) { v.count(conv(r).duration_ns()); }},
    {.name = "state_shown",
     .header = "STATE",
     .meaning = "conn_state for TCP and UDP",
     .get = [](const void* r,
               Value& v) { v.string(stateful(conv(r)) ? to_string(conv(r).conn_state) : "-"); },
     .presence = Presence::kDisplay},
    {.name = "packets",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .header = "PACKETS",
     .meaning = "packets both ways",
     .get = [](const void* r, Value& v) { v.count(conv(r).packets()); },
     .presence = Presence::kDisplay},
    {.name = "bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "BYTES",
     .meaning = "IP bytes both ways",
     .get = [](const void* r, Value& v) { v.count(conv(r).ip_bytes()); },
     .presence = Presence::kDisplay},
    {.name = "client_packets",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "packets the client sent",
     .get = [](const void* r, Value& v) { v.count(conv(r).client.packets); }},
    {.name = "client_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "C->S BYTES",
     .meaning = "IP bytes the client sent (headers included, from the IP length fields)",
     .get = [](const void* r, Value& v) { v.count(conv(r).client.ip_bytes); }},
    {.name = "client_payload_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "bytes after the transport header the client sent",
     .get = [](const void* r, Value& v) { v.count(conv(r).client.payload_bytes); }},
    {.name = "server_packets",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "packets the server sent",
     .get = [](const void* r, Value& v) { v.count(conv(r).server.packets); }},
    {.name = "server_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "S->C BYTES",
     .meaning = "IP bytes the server sent",
     .get = [](const void* r, Value& v) { v.count(conv(r).server.ip_bytes); }},
    {.name = "server_payload_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "bytes after the transport header the server sent",
     .get = [](const void* r, Value& v) { v.count(conv(r).server.payload_bytes); }},
    {.name = "conn_state",
     .meaning = "Zeek's conn_state: S0, S1, SF, REJ, ..., OTH",
     .get = [](const void* r, Value& v) { v.string(to_string(conv(r).conn_state)); }},
    {.name = "history",
     .meaning = "Zeek's history letters, upper case for the client",
     .get = [](const void* r, Value& v) { v.string(conv(r).history); }},
    {.name = "community_id",
     .meaning = "Community ID v1 of the pair",
     .get = [](const void* r, Value& v) { v.string(row(r).community_id()); }},
    {.name = "evicted_early",
     .type = Type::kBool,
     .meaning = "emitted before its end because the table was full (--max-conversations)",
     .get = [](const void* r, Value& v) { v.boolean(conv(r).evicted_early); },
     .presence = Presence::kSparse},
    {.name = "history_truncated",
     .type = Type::kBool,
     .meaning = "the history had more than the 16 letters kept",
     .get = [](const void* r, Value& v) { v.boolean(conv(r).history_truncated); },
     .presence = Presence::kSparse},
    {.name = "missed_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "TCP sequence space acknowledged but never captured (content gaps, as Zeek's)",
     .get = [](const void* r, Value& v) { v.count(conv(r).missed_bytes); },
     .presence = Presence::kSparse},
    {.name = "tunnel",
     .meaning = "the tunnel it came in: vxlan, geneve, gre, teredo, ...",
     .get =
         [](const void* r, Value& v) {
           const Tunnel& t = conv(r).tunnel;
           if (t.kind == TunnelKind::kNone) return v.null();
           v.string(to_string(t.kind));
         },
     .presence = Presence::kOptional},
    {.name = "tunnel_parent",
     .meaning = "the tunnel's outer packet, e.g. \"vxlan udp 192.0.2.1:54321 -> 192.0.2.2:4789\"",
     .get =
         [](const void* r, Value& v) {
           const Tunnel& t = conv(r).tunnel;
           if (t.kind == TunnelKind::kNone) return v.null();
           v.owned(t.to_string());
         },
     .presence = Presence::kOptional},
    {.name = "icmp_error",
     .meaning = "an ICMP error that quoted it, e.g. port-unreachable (not counted as a reply)",
     .get =
         [](const void* r, Value& v) {
           const auto& e = conv(r).icmp_error;
           if (!e) return v.null();
           v.string(e->name());
         },
     .presence = Presence::kOptional},
    kOpenField,
};

constexpr std::string_view kConversationTable[] = {
    "transport_shown", "client",       "server",       "service",  "state_shown",  "packets",
    "bytes",           "client_bytes", "server_bytes", "duration", "role_evidence"};

// Zeek's conn.log, field for field. duration and the byte sizes are unset ("-")
// for a conversation of zero duration, as in Zeek; orig_bytes/resp_bytes are payload.
constexpr Field kZeekFields[] = {
    {.name = "ts",
     .type = Type::kTime,
     .meaning = "first packet",
     .get = [](const void* r, Value& v) { v.count(conv(r).first_ns); }},
    {.name = "uid",
     .meaning = "a connection uid: C + 17 base62 characters",
     .get = [](const void* r, Value& v) { v.owned(zeek_uid(conv(r), row(r).community_id())); }},
    {.name = "id.orig_h",
     .type = Type::kAddress,
     .meaning = "the originator's address",
     .get = [](const void* r, Value& v) { v.owned(conv(r).pair.first.address.to_string()); }},
    {.name = "id.orig_p",
     .type = Type::kPort,
     .meaning = "the originator's port",
     .get = [](const void* r, Value& v) { v.count(conv(r).pair.first.port); }},
    {.name = "id.resp_h",
     .type = Type::kAddress,
     .meaning = "the responder's address",
     .get = [](const void* r, Value& v) { v.owned(conv(r).pair.second.address.to_string()); }},
    {.name = "id.resp_p",
     .type = Type::kPort,
     .meaning = "the responder's port",
     .get = [](const void* r, Value& v) { v.count(conv(r).pair.second.port); }},
    {.name = "proto",
     .meaning = "tcp, udp, icmp, ...",
     .get = [](const void* r, Value& v) { v.string(to_string(conv(r).pair.transport)); },
     .zeek_type = "enum"},
    {.name = "service",
     .meaning = "unset: Zeek's service is a protocol confirmed by content, which sockscope "
                "does not inspect (the registry's name is port_service)",
     .get = [](const void*, Value& v) { v.null(); },
     .presence = Presence::kNullable},
    {.name = "duration",
     .type = Type::kDuration,
     .meaning = "unset for zero duration",
     .get =
         [](const void* r, Value& v) {
           if (conv(r).duration_ns() == 0) return v.null();
           v.count(conv(r).duration_ns());
         },
     .presence = Presence::kNullable},
    {.name = "orig_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "payload bytes the originator sent",
     .get =
         [](const void* r, Value& v) {
           if (conv(r).duration_ns() == 0) return v.null();
           v.count(conv(r).client.payload_bytes);
         },
     .presence = Presence::kNullable},
    {.name = "resp_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "payload bytes the responder sent",
     .get =
         [](const void* r, Value& v) {
           if (conv(r).duration_ns() == 0) return v.null();
           v.count(conv(r).server.payload_bytes);
         },
     .presence = Presence::kNullable},
    {.name = "conn_state",
     .meaning = "Zeek's conn_state",
     .get = [](const void* r, Value& v) { v.string(to_string(conv(r).conn_state)); }},
    {.name = "local_orig",
     .type = Type::kBool,
     .meaning = "unset: sockscope has no local nets",
     .get = [](const void*, Value& v) { v.null(); },
     .presence = Presence::kNullable},
    {.name = "local_resp",
     .type = Type::kBool,
     .meaning = "unset",
     .get = [](const void*, Value& v) { v.null(); },
     .presence = Presence::kNullable},
    {.name = "missed_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "bytes missed in content gaps, from TCP sequence gaps as Zeek counts them",
     .get = [](const void* r, Value& v) { v.count(conv(r).missed_bytes); }},
    {.name = "history",
     .meaning = "Zeek's history letters",
     .get = [](const void* r, Value& v) { v.string_or_null(conv(r).history); },
     .presence = Presence::kNullable},
    {.name = "orig_pkts",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "packets",
     .get = [](const void* r, Value& v) { v.count(conv(r).client.packets); }},
    {.name = "orig_ip_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "IP bytes",
     .get = [](const void* r, Value& v) { v.count(conv(r).client.ip_bytes); }},
    {.name = "resp_pkts",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "packets",
     .get = [](const void* r, Value& v) { v.count(conv(r).server.packets); }},
    {.name = "resp_ip_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "IP bytes",
     .get = [](const void* r, Value& v) { v.count(conv(r).server.ip_bytes); }},
    {.name = "tunnel_parents",
     .meaning = "the tunnel's outer packet (Zeek gives the outer uid)",
     .get =
         [](const void* r, Value& v) {
           const Tunnel& t = conv(r).tunnel;
           if (t.kind == TunnelKind::kNone) return v.null();
           v.owned(t.to_string());
         },
     .presence = Presence::kNullable,
     .zeek_type = "set[string]"},
    {.name = "community_id",
     .meaning = "Community ID v1",
     .get = [](const void* r, Value& v) { v.string(row(r).community_id()); }},
    {.name = "port_service",
     .meaning = "the registry's name for the responder port (a hint)",
     .get = [](const void* r, Value& v) { v.string_or_null(row(r).service); },
     .presence = Presence::kNullable},
    kOpenField,
};

const ConversationGroup& grp(const void* r) { return as<ConversationGroup>(r); }

constexpr Field kConversationsField = {
    .name = "conversations",
    .type = Type::kCount,
    .unit = Unit::kConversations,
    .header = "CONVERSATIONS",
    .meaning = "conversations in the group",
    .get = [](const void* r, Value& v) { v.count(grp(r).conversations); }};
constexpr Field kPacketsField = {.name = "packets",
                                 .type = Type::kCount,
                                 .unit = Unit::kPackets,
                                 .header = "PACKETS",
                                 .meaning = "packets both ways",
                                 .get = [](const void* r, Value& v) { v.count(grp(r).packets); }};
constexpr Field kBytesField = {.name = "bytes",
                               .type = Type::kCount,
                               .unit = Unit::kBytes,
                               .header = "BYTES",
                               .meaning = "IP bytes both ways",
                               .get = [](const void* r, Value& v) { v.count(grp(r).bytes); }};

constexpr Field kClientHostsField = {.name = "client_hosts",
                                     .type = Type::kCount,
                                     .unit = Unit::kHosts,
                                     .header = "CLIENT HOSTS",
                                     .meaning = "distinct client addresses",
                                     .get = [](const void* r, Value& v) { v.count(grp(r).peers); }};

constexpr Field kTransportField = {
    .name = "transport",
    .header = "TRANSPORT",
    .meaning = "the transport (a client host's: all it used, \"tcp,udp\")",
    .get = [](const void* r, Value& v) { v.string(grp(r).transport); }};

constexpr Field kByServiceFields[] = {
    kTransportField,
    {.name = "service",
     .header = "SERVICE",
     .meaning = "the server port's service name, \"port N\" without one, \"-\" for ICMP",
     .get = [](const void* r, Value& v) { v.string(grp(r).service); }},
    kConversationsField,
    kPacketsField,
    kBytesField,
    kClientHostsField,
};

constexpr Field kByServerFields[] = {
    kTransportField,
    {.name = "server",
     .type = Type::kEndpoint,
     .header = "SERVER",
     .meaning = "the server socket",
     .get = [](const void* r, Value& v) { v.endpoint(grp(r).server); }},
    {.name = "service",
     .header = "SERVICE",
     .meaning = "its service name, or null",
     .get = [](const void* r, Value& v) { v.string_or_null(grp(r).service); },
     .presence = Presence::kNullable},
    kConversationsField,
    kPacketsField,
    kBytesField,
    kClientHostsField,
};

constexpr Field kByClientFields[] = {
    kTransportField,
    {.name = "client",
     .type = Type::kAddress,
     .header = "CLIENT",
     .meaning = "the client host",
     .get = [](const void* r, Value& v) { v.owned(grp(r).client.to_string()); }},
    kConversationsField,
    kPacketsField,
    kBytesField,
    {.name = "servers",
     .type = Type::kCount,
     .header = "SERVERS",
     .meaning = "distinct server sockets it talked to",
     .get = [](const void* r, Value& v) { v.count(grp(r).peers); }},
    {.name = "client_ports",
     .type = Type::kCount,
     .unit = Unit::kPorts,
     .header = "CLIENT PORTS",
     .meaning = "distinct ports it used",
     .get = [](const void* r, Value& v) { v.count(grp(r).client_ports); }},
};

}  // namespace

std::string zeek_uid(const Conversation& c, std::string_view community_id) {
  return zeek_uid(c.first_ns, c.vlan, community_id);
}

std::string zeek_uid(std::uint64_t first, std::uint64_t salt, std::string_view community_id) {
  std::uint64_t h = 1469598103934665603ull ^ first;
  for (char ch : community_id) h = (h ^ std::uint8_t(ch)) * 1099511628211ull;
  h ^= salt * 0x9e3779b97f4a7c15ull;
  static constexpr char kDigits[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string text(18, 'C');
  for (int i = 0; i < 17; ++i) {
    text[std::size_t(i) + 1] = kDigits[h % 62];
    h = h / 62 + (h % 7) * 0x2545F4914F6CDD1Dull * std::uint64_t(i + 1);
  }
  return text;
}

const RecordKind kConversationKind{"conversation", kConversationFields,
                                   "one conversation: one occurrence of a socket pair "
                                   "(`conversations`)",
                                   kConversationTable};
const RecordKind kZeekConnKind{"conn", kZeekFields,
                               "a conversation as a line of Zeek's conn.log (`--zeek`)"};
const RecordKind kByServiceKind{"by_service", kByServiceFields,
                                "conversations per transport and service (`--by service`)"};
const RecordKind kByServerKind{"by_server", kByServerFields,
                               "conversations per server socket (`--by server`)"};
const RecordKind kByClientKind{"by_client", kByClientFields,
                               "conversations per client host (`--by client`)"};

const RecordKind& group_kind(GroupBy by) {
  switch (by) {
    case GroupBy::kService: return kByServiceKind;
    case GroupBy::kServer: return kByServerKind;
    case GroupBy::kClient: return kByClientKind;
  }
  return kByServiceKind;
}

}  // namespace sockscope::output
