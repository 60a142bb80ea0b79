#include "output/kinds/connlog.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

#include "output/kinds/capture.hpp"
#include "output/kinds/host.hpp"
#include "sockscope/community_id.hpp"

namespace sockscope::output {

const std::string& ConnectionEventRow::community_id() const {
  if (!cid_done_ && !event.record.unconnected()) {
    cid_ = sockscope::community_id(
        SocketPair{event.record.transport, event.record.local, event.record.remote});
  }
  cid_done_ = true;
  return cid_;
}

namespace {

const ConnectionEvent& ev(const void* r) { return as<ConnectionEventRow>(r).event; }
bool ends(const ConnectionEvent& e) {
  return e.kind == ConnectionEventKind::kClose || e.kind == ConnectionEventKind::kUnlisten;
}
const ConnectionCounters* counters(const void* r) {
  const auto& c = ev(r).counters;
  return c ? &*c : nullptr;
}
// A counter of a close, null when the close has none (UDP, lost, not a close).
template <class Fn>
void counter(const void* r, Value& v, Fn&& fn) {
  if (const ConnectionCounters* c = counters(r)) return v.count(fn(*c));
  v.null();
}
bool local_is_client(const ConnectionEvent& e) { return e.role == LocalRole::kClient; }

constexpr Field kOwnerFields[] = {
    {.name = "pid",
     .type = Type::kInteger,
     .meaning = "process id",
     .get = [](const void* r, Value& v) { v.integer(as<ConnectionOwner>(r).pid); }},
    {.name = "command",
     .meaning = "the command (/proc/PID/comm, or the tracer's)",
     .get = [](const void* r, Value& v) { v.string(as<ConnectionOwner>(r).command); }},
    {.name = "cmdline",
     .meaning = "its arguments joined by spaces; null when it was gone",
     .get = [](const void* r, Value& v) { v.string_or_null(as<ConnectionOwner>(r).cmdline); },
     .presence = Presence::kNullable},
    {.name = "uid",
     .type = Type::kCount,
     .meaning = "its real uid",
     .get = [](const void* r, Value& v) { v.count(as<ConnectionOwner>(r).uid); }},
};

void owner_text(const void* r, std::string& out) {
  const auto& o = as<ConnectionOwner>(r);
  append_owner(out, o.command, o.pid);
}

void owners_value(const void* r, Value& v) {
  const auto& owners = ev(r).owners;
  if (owners.empty()) return v.null();
  v.records(kConnectionOwnerKind, owners);
}

void missing_value(const void* r, Value& v) {
  const ConnectionEvent& e = ev(r);
  if (!e.owners.empty() || e.owner_missing == OwnerMissing::kNone) return v.null();
  v.string(to_string(e.owner_missing));
}

constexpr Field kEventFields[] = {
    {.name = "mark",
     .header = " ",
     .meaning = "+ open or listen, - close or unlisten",
     .get = [](const void* r, Value& v) { v.string(ends(ev(r)) ? "-" : "+"); },
     .presence = Presence::kDisplay},
    {.name = "event",
     .meaning = "open, close, listen or unlisten",
     .get = [](const void* r, Value& v) { v.string(to_string(ev(r).kind)); }},
    {.name = "time",
     .type = Type::kTime,
     .unit = Unit::kSeconds,
     .meaning = "when sockscope learned it, seconds since the Unix epoch",
     .get = [](const void* r, Value& v) { v.count(std::uint64_t(ev(r).time_ns)); }},
    {.name = "time_shown",
     .header = "TIME",
     .meaning = "local time of day",
     .get =
         [](const void* r, Value& v) {
           const std::time_t t = std::time_t(ev(r).time_ns / 1'000'000'000);
           v.owned(fmt::format("{:%H:%M:%S}.{:03}", fmt::localtime(t),
                               ev(r).time_ns / 1'000'000 % 1000));
         },
     .presence = Presence::kDisplay},
    {.name = "transport",
     .header = "NETID",
     .meaning = "tcp or udp",
     .get = [](const void* r, Value& v) { v.string(to_string(ev(r).record.transport)); }},
    {.name = "local",
     .type = Type::kEndpoint,
     .header = "LOCAL",
     .meaning = "this host's socket",
     .get = [](const void* r, Value& v) { v.endpoint(ev(r).record.local); }},
    {.name = "remote",
     .type = Type::kEndpoint,
     .header = "PEER",
     .meaning = "the peer's socket (0.0.0.0:0 / [::]:0 for listeners)",
     .get = [](const void* r, Value& v) { v.endpoint(ev(r).record.remote); }},
    {.name = "role",
     .header = "ROLE",
     .meaning = "the local side: listener, server, client, unknown",
     .get = [](const void* r, Value& v) { v.string(to_string(ev(r).role)); }},
    {.name = "role_evidence",
     .meaning = "as for sockets: listener, accepted, autobound, ...",
     .get = [](const void* r, Value& v) { v.string(to_string(ev(r).evidence)); }},
    {.name = "service",
     .header = "SERVICE",
     .meaning = "the registry's name for the server side's port (a hint), or null",
     .get =
         [](const void* r, Value& v) {
           if (!ev(r).service) return v.null();
           v.string(ev(r).service->name);
         },
     .presence = Presence::kNullable},
    {.name = "cookie",
     .type = Type::kCount,
     .meaning = "the kernel's socket cookie (SO_COOKIE)",
     .get = [](const void* r, Value& v) { v.count(ev(r).record.cookie); }},
    {.name = "netns",
     .meaning = "the network namespace: its `ip netns` name, else net:[INODE]",
     .get =
         [](const void* r, Value& v) {
           const NetworkNamespace* ns = ev(r).netns;
           if (!ns) return v.null();
           if (ns->name.empty()) return v.owned(ns->label());
           v.string(ns->name);
         }},
    {.name = "processes",
     .type = Type::kRecords,
     .meaning = "who holds it [{pid, command, cmdline, uid}]; absent when unknown",
     .get = owners_value,
     .presence = Presence::kOptional},
    {.name = "owner_missing",
     .meaning = "why no process: closed-before-scan, no-permission, other-netns, no-process, ...",
     .get = missing_value,
     .presence = Presence::kOptional},
    {.name = "owner_evidence",
     .meaning = "how the owner is known: scan, connect, listener",
     .get =
         [](const void* r, Value& v) {
           if (ev(r).owners.empty()) return v.null();
           v.string(to_string(ev(r).owner_evidence));
         },
     .presence = Presence::kOptional},
    {.name = "owners_shown",
     .header = "PROCESS",
     .meaning = "owners, or (why none)",
     .get =
         [](const void* r, Value& v) {
           const ConnectionEvent& e = ev(r);
           if (e.owners.empty()) {
             if (e.owner_missing == OwnerMissing::kNone) return v.null();
             return v.joined({"(", to_string(e.owner_missing), ")"});
           }
           std::string text;
           for (const ConnectionOwner& o : e.owners) {
             if (!text.empty()) text += ',';
             owner_text(&o, text);
           }
           v.owned(std::move(text));
         },
     .presence = Presence::kDisplay},
    {.name = "community_id",
     .meaning = "Community ID v1 of the pair; null without a peer",
     .get = [](const void* r,
               Value& v) { v.string_or_null(as<ConnectionEventRow>(r).community_id()); },
     .presence = Presence::kNullable},
    {.name = "duration",
     .type = Type::kDuration,
     .unit = Unit::kSeconds,
     .header = "DURATION",
     .meaning = "close: since its open event; absent when it opened before the log or unseen",
     .get =
         [](const void* r, Value& v) {
           if (!ev(r).duration_ns) return v.null();
           v.count(std::uint64_t(*ev(r).duration_ns));
         },
     .presence = Presence::kOptional},
    {.name = "sent_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "SENT",
     .meaning = "close of TCP: payload this socket sent and the peer acknowledged",
     .get = [](const void* r, Value& v) { counter(r, v, [](auto& c) { return c.sent_bytes; }); },
     .presence = Presence::kOptional},
    {.name = "received_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "RECEIVED",
     .meaning = "close of TCP: payload this socket received in order",
     .get = [](const void* r,
               Value& v) { counter(r, v, [](auto& c) { return c.received_bytes; }); },
     .presence = Presence::kOptional},
    {.name = "sent_segments",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "close of TCP: segments sent (tcpi_segs_out, handshake and ACKs included)",
     .get = [](const void* r, Value& v) { counter(r, v, [](auto& c) { return c.sent_segments; }); },
     .presence = Presence::kOptional},
    {.name = "received_segments",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "close of TCP: segments received (tcpi_segs_in)",
     .get = [](const void* r,
               Value& v) { counter(r, v, [](auto& c) { return c.received_segments; }); },
     .presence = Presence::kOptional},
    {.name = "retransmits",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "close of TCP: segments retransmitted (tcpi_total_retrans)",
     .get = [](const void* r, Value& v) { counter(r, v, [](auto& c) { return c.retransmits; }); },
     .presence = Presence::kOptional},
    {.name = "state",
     .meaning = "close: the last state seen before the end (ss's names)",
     .get =
         [](const void* r, Value& v) {
           if (!ends(ev(r))) return v.null();
           // Never seen in another state: the kernel's CLOSE at the destroy.
           if (ev(r).record.state == SocketState::kClose) return v.string("CLOSE");
           v.string(to_string(ev(r).record.state));
         },
     .presence = Presence::kOptional},
    {.name = "lost",
     .type = Type::kBool,
     .meaning = "close proven by a re-dump after the kernel dropped messages: no counters",
     .get = [](const void* r, Value& v) { v.boolean(ev(r).lost); },
     .presence = Presence::kSparse},
    {.name = "counters_cleared",
     .type = Type::kBool,
     .meaning = "close of an aborted connection (SO_LINGER 0) whose counters (and peer, when "
                "it was never seen) the kernel cleared before the end, without the tracer to "
                "take them",
     .get = [](const void* r, Value& v) { v.boolean(ev(r).counters_cleared); },
     .presence = Presence::kSparse},
    {.name = "change",
     .header = "CHANGE",
     .meaning = "what happened, NEW LISTENER flagged",
     .get =
         [](const void* r, Value& v) {
           const ConnectionEvent& e = ev(r);
           if (e.kind == ConnectionEventKind::kListen) return v.string("NEW LISTENER");
           if (e.lost) return v.string("close (lost: no counters)");
           if (e.counters_cleared) return v.string("close (aborted: counters cleared)");
           v.string(to_string(e.kind));
         },
     .presence = Presence::kDisplay},
};

constexpr std::string_view kEventTable[] = {
    "mark",    "time_shown",   "transport", "local",      "remote",         "role",
    "service", "owners_shown", "duration",  "sent_bytes", "received_bytes", "change"};

// Zeek's conn.log: the originator is the client side of the pair.
const Endpoint& orig(const ConnectionEvent& e) {
  return local_is_client(e) || e.role == LocalRole::kUnknown ? e.record.local : e.record.remote;
}
const Endpoint& resp(const ConnectionEvent& e) {
  return local_is_client(e) || e.role == LocalRole::kUnknown ? e.record.remote : e.record.local;
}
bool orig_is_local(const ConnectionEvent& e) { return &orig(e) == &e.record.local; }
const ConnectionOwner* first_owner(const void* r) {
  return ev(r).owners.empty() ? nullptr : &ev(r).owners.front();
}
// A counter of the originator's or responder's side, from this socket's view.
template <bool kOrig, class Fn>
void side_counter(const void* r, Value& v, Fn&& fn) {
  const ConnectionCounters* c = counters(r);
  if (!c) return v.null();
  const bool mine = orig_is_local(ev(r)) == kOrig;
  v.count(fn(*c, mine));
}

constexpr Field kZeekFields[] = {
    {.name = "ts",
     .type = Type::kTime,
     .meaning = "the connection's open (close time when unknown)",
     .get =
         [](const void* r, Value& v) {
           v.count(std::uint64_t(ev(r).time_ns - ev(r).duration_ns.value_or(0)));
         }},
    {.name = "uid",
     .meaning = "a connection uid: C + 17 base62 characters (from the cookie)",
     .get =
         [](const void* r, Value& v) {
           v.owned(zeek_uid(ev(r).record.cookie, ev(r).record.netns,
                            as<ConnectionEventRow>(r).community_id()));
         }},
    {.name = "id.orig_h",
     .type = Type::kAddress,
     .meaning = "the originator's (client's) address",
     .get = [](const void* r, Value& v) { v.owned(orig(ev(r)).address.to_string()); }},
    {.name = "id.orig_p",
     .type = Type::kPort,
     .meaning = "the originator's port",
     .get = [](const void* r, Value& v) { v.count(orig(ev(r)).port); }},
    {.name = "id.resp_h",
     .type = Type::kAddress,
     .meaning = "the responder's address",
     .get = [](const void* r, Value& v) { v.owned(resp(ev(r)).address.to_string()); }},
    {.name = "id.resp_p",
     .type = Type::kPort,
     .meaning = "the responder's port",
     .get = [](const void* r, Value& v) { v.count(resp(ev(r)).port); }},
    {.name = "proto",
     .meaning = "tcp or udp",
     .get = [](const void* r, Value& v) { v.string(to_string(ev(r).record.transport)); },
     .zeek_type = "enum"},
    {.name = "service",
     .meaning = "the registry's name for the responder port",
     .get =
         [](const void* r, Value& v) {
           if (!ev(r).service) return v.null();
           v.string(ev(r).service->name);
         },
     .presence = Presence::kNullable},
    {.name = "duration",
     .type = Type::kDuration,
     .meaning = "unset when the open was not seen",
     .get =
         [](const void* r, Value& v) {
           if (!ev(r).duration_ns) return v.null();
           v.count(std::uint64_t(*ev(r).duration_ns));
         },
     .presence = Presence::kNullable},
    {.name = "orig_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "payload the originator sent (this socket's tcp_info)",
     .get =
         [](const void* r, Value& v) {
           side_counter<true>(
               r, v, [](auto& c, bool mine) { return mine ? c.sent_bytes : c.received_bytes; });
         },
     .presence = Presence::kNullable},
    {.name = "resp_bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .meaning = "payload the responder sent",
     .get =
         [](const void* r, Value& v) {
           side_counter<false>(
               r, v, [](auto& c, bool mine) { return mine ? c.sent_bytes : c.received_bytes; });
         },
     .presence = Presence::kNullable},
    {.name = "local_orig",
     .type = Type::kBool,
     .meaning = "T: the originator is this host",
     .get = [](const void* r, Value& v) { v.boolean(orig_is_local(ev(r))); }},
    {.name = "local_resp",
     .type = Type::kBool,
     .meaning = "T: the responder is this host",
     .get = [](const void* r, Value& v) { v.boolean(!orig_is_local(ev(r))); }},
    {.name = "orig_pkts",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "segments the originator sent",
     .get =
         [](const void* r, Value& v) {
           side_counter<true>(r, v, [](auto& c, bool mine) {
             return mine ? c.sent_segments : c.received_segments;
           });
         },
     .presence = Presence::kNullable},
    {.name = "resp_pkts",
     .type = Type::kCount,
     .unit = Unit::kPackets,
     .meaning = "segments the responder sent",
     .get =
         [](const void* r, Value& v) {
           side_counter<false>(r, v, [](auto& c, bool mine) {
             return mine ? c.sent_segments : c.received_segments;
           });
         },
     .presence = Presence::kNullable},
    {.name = "community_id",
     .meaning = "Community ID v1: joins a network sensor's conn.log",
     .get = [](const void* r,
               Value& v) { v.string_or_null(as<ConnectionEventRow>(r).community_id()); },
     .presence = Presence::kNullable},
    {.name = "pid",
     .type = Type::kInteger,
     .meaning = "sockscope: the owner's pid (the first)",
     .get =
         [](const void* r, Value& v) {
           if (const ConnectionOwner* o = first_owner(r)) return v.integer(o->pid);
           v.null();
         },
     .presence = Presence::kNullable},
    {.name = "command",
     .meaning = "sockscope: the owner's command",
     .get =
         [](const void* r, Value& v) {
           if (const ConnectionOwner* o = first_owner(r)) return v.string(o->command);
           v.null();
         },
     .presence = Presence::kNullable},
    {.name = "uid_owner",
     .type = Type::kCount,
     .meaning = "sockscope: the owner's uid",
     .get =
         [](const void* r, Value& v) {
           if (const ConnectionOwner* o = first_owner(r)) return v.count(o->uid);
           v.null();
         },
     .presence = Presence::kNullable},
    {.name = "owner_missing",
     .meaning = "sockscope: why no owner",
     .get = missing_value,
     .presence = Presence::kNullable},
    {.name = "owner_evidence",
     .meaning = "sockscope: scan, connect or listener",
     .get =
         [](const void* r, Value& v) {
           if (ev(r).owners.empty()) return v.null();
           v.string(to_string(ev(r).owner_evidence));
         },
     .presence = Presence::kNullable},
    {.name = "cookie",
     .type = Type::kCount,
     .meaning = "sockscope: the socket cookie",
     .get = [](const void* r, Value& v) { v.count(ev(r).record.cookie); }},
    {.name = "lost",
     .type = Type::kBool,
     .meaning = "sockscope: counters lost (see watch)",
     .get = [](const void* r, Value& v) { v.boolean(ev(r).lost); }},
};

const ConnectionLogSummary& sum(const void* r) { return as<ConnectionSummaryRow>(r).summary; }

template <std::size_t ConnectionLogSummary::*Member>
void summary_count(const void* r, Value& v) {
  v.count(sum(r).*Member);
}

void missing_counts(const void* r, Value& v) {
  // Storage for the view: one per thread is enough (a writer formats one row at a time).
  thread_local std::vector<StateCount> counts;
  counts.clear();
  for (std::size_t i = 0; i < std::size(sum(r).owners_missing); ++i) {
    if (sum(r).owners_missing[i]) {
      counts.push_back({to_string(OwnerMissing(i)), sum(r).owners_missing[i]});
    }
  }
  v.counts(counts);
}

constexpr Field kSummaryFields[] = {
    {.name = "event",
     .meaning = "\"summary\"",
     .get = [](const void*, Value& v) { v.string("summary"); }},
    {.name = "events_lost",
     .type = Type::kCount,
     .header = "LOST",
     .meaning = "messages the kernel dropped (queue full) or could not be decoded",
     .get = summary_count<&ConnectionLogSummary::events_lost>},
    {.name = "opens",
     .type = Type::kCount,
     .header = "OPENS",
     .meaning = "open events",
     .get = summary_count<&ConnectionLogSummary::opens>},
    {.name = "closes",
     .type = Type::kCount,
     .header = "CLOSES",
     .meaning = "close events",
     .get = summary_count<&ConnectionLogSummary::closes>},
    {.name = "listens",
     .type = Type::kCount,
     .header = "LISTENS",
     .meaning = "listen events",
     .get = summary_count<&ConnectionLogSummary::listens>},
    {.name = "unlistens",
     .type = Type::kCount,
     .header = "UNLISTENS",
     .meaning = "unlisten events",
     .get = summary_count<&ConnectionLogSummary::unlistens>},
    {.name = "closes_recovered",
     .type = Type::kCount,
     .header = "RECOVERED",
     .meaning = "closes proven by a re-dump after lost messages (lost: true)",
     .get = summary_count<&ConnectionLogSummary::closes_recovered>},
    {.name = "owners_missing",
     .type = Type::kCounts,
     .header = "OWNERS MISSING",
     .meaning = "events without an owner, by the reason",
     .get = missing_counts},
    {.name = "initial_sockets",
     .type = Type::kCount,
     .unit = Unit::kSockets,
     .meaning = "sockets open at start (the baseline)",
     .get = summary_count<&ConnectionLogSummary::initial_sockets>},
    {.name = "redumps",
     .type = Type::kCount,
     .meaning = "re-dumps of the socket table",
     .get = summary_count<&ConnectionLogSummary::redumps>},
    {.name = "owner_scans",
     .type = Type::kCount,
     .meaning = "owner scans run",
     .get = summary_count<&ConnectionLogSummary::owner_scans>},
    {.name = "tracer",
     .header = "TRACER",
     .meaning = "the state tracer: \"tracepoint\", or why it did not run",
     .get = [](const void* r, Value& v) { v.string(sum(r).tracer); }},
};

}  // namespace

const RecordKind kConnectionOwnerKind{
    "process", kOwnerFields, "a process of a connection event", {}, owner_text};
const RecordKind kConnectionEventKind{"event", kEventFields,
                                      "one connection event (`watch`): open, close, listen, "
                                      "unlisten",
                                      kEventTable};
const RecordKind kZeekHostConnKind{"conn", kZeekFields,
                                   "a close as a line of a Zeek-style conn.log "
                                   "(`watch --zeek`, `--zeek-json`)"};
const RecordKind kConnectionSummaryKind{"summary", kSummaryFields,
                                        "the connection log's summary at exit (`watch`)"};

}  // namespace sockscope::output
