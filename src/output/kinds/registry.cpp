#include "output/kinds/registry.hpp"

namespace sockscope::output {
namespace {

const AssignmentRow& row(const void* r) { return as<AssignmentRow>(r); }

constexpr Field kFields[] = {
    {.name = "query",
     .meaning = "the argument this row answers",
     .get = [](const void* r, Value& v) { v.string(row(r).query); }},
    {.name = "port",
     .type = Type::kPort,
     .meaning = "first port of the assignment",
     .get =
         [](const void* r, Value& v) {
           v.count(row(r).service ? row(r).service->ports.first : row(r).answer->port);
         }},
    {.name = "ports",
     .header = "PORT",
     .meaning = "the port or range",
     .get = [](const void* r, Value& v) { v.owned(row(r).service->ports.to_string()); },
     .presence = Presence::kDisplay,
     .align = Align::kRight},
    {.name = "last_port",
     .type = Type::kPort,
     .meaning = "last port of the assignment (equal to port for one port)",
     .get =
         [](const void* r, Value& v) {
           v.count(row(r).service ? row(r).service->ports.last : row(r).answer->port);
         }},
    {.name = "transport",
     .header = "TRANSPORT",
     .meaning = "tcp, udp, sctp or dccp",
     .get =
         [](const void* r, Value& v) {
           v.string(
               to_string(row(r).service ? row(r).service->transport : row(r).answer->transport));
         }},
    {.name = "name",
     .meaning = "the service name, null for a port without one",
     .get =
         [](const void* r, Value& v) {
           if (row(r).service) {
             v.string(row(r).service->name);
           } else {
             v.null();
           }
         },
     .presence = Presence::kNullable},
    {.name = "name_shown",
     .header = "NAME",
     .meaning = "the name, aliases marked",
     .get =
         [](const void* r, Value& v) {
           const Service& s = *row(r).service;
           if (s.is_alias()) {
             v.owned(std::string(s.name) + " (alias of " + std::string(s.alias_of) + ")");
           } else {
             v.string(s.name);
           }
         },
     .presence = Presence::kDisplay},
    {.name = "description",
     .header = "DESCRIPTION",
     .meaning = "IANA's description (a local file's comment); IANA's note for an unnamed port",
     .get =
         [](const void* r, Value& v) {
           v.string(row(r).service ? row(r).service->description : row(r).answer->note);
         }},
    {.name = "group",
     .header = "GROUP",
     .meaning = "the first port's IANA group",
     .get =
         [](const void* r, Value& v) {
           v.string(to_string(row(r).service ? group_of(row(r).service->ports.first)
                                             : row(r).answer->group));
         }},
    {.name = "reference",
     .header = "REFERENCE",
     .meaning = "e.g. [RFC9110]",
     .get =
         [](const void* r, Value& v) {
           v.string(row(r).service ? row(r).service->reference : row(r).answer->note_reference);
         }},
    {.name = "alias_of",
     .meaning = "the name this one is an alias or duplicate of, else \"\"",
     .get = [](const void* r,
               Value& v) { v.string(row(r).service ? row(r).service->alias_of : ""); }},
    {.name = "source",
     .header = "SOURCE",
     .meaning = "\"iana\" or the services file's path",
     .get = [](const void* r,
               Value& v) { v.string(row(r).service ? row(r).service->source : Service::kIana); },
     .table_usual = "iana"},
    {.name = "status",
     .meaning = "assigned, reserved, unassigned or dynamic",
     .get =
         [](const void* r, Value& v) {
           v.string(to_string(row(r).service ? PortStatus::kAssigned : row(r).answer->status));
         }},
    {.name = "match",
     .meaning = "`search`: exact-name, name-prefix, name-word, description-word",
     .get =
         [](const void* r, Value& v) {
           if (row(r).rank) {
             v.string(to_string(*row(r).rank));
           } else {
             v.null();
           }
         },
     .presence = Presence::kOptional},
    {.name = "ephemeral",
     .type = Type::kBool,
     .meaning = "single-port queries: whether the port is in this host's ephemeral range",
     .get =
         [](const void* r, Value& v) {
           if (row(r).ephemeral) {
             v.boolean(*row(r).ephemeral);
           } else {
             v.null();
           }
         },
     .presence = Presence::kOptional},
};

constexpr std::string_view kTable[] = {"ports",       "transport", "name_shown", "group",
                                       "description", "reference", "source"};

}  // namespace

const RecordKind kAssignmentKind{"assignment", kFields,
                                 "one registry assignment, or a port without one (`port`, "
                                 "`service`, `search`)",
                                 kTable};

}  // namespace sockscope::output
