// Subcommands over the service registry: port, service, search.
//
// Every row is one assignment (IANA's or a local label): port or range,
// transport, name, group, description, reference. A name is a hint about what
// usually runs on a port, never a claim about what does.
#include <fmt/format.h>

#include <algorithm>

#include "cli/context.hpp"
#include "output/kinds/registry.hpp"
#include "output/text.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::cli {
namespace {

constexpr Transport kPortTransports[] = {Transport::kTcp, Transport::kUdp, Transport::kSctp,
                                         Transport::kDccp};

// One `port` argument: "443", "53/udp", "6000-6010", "6000-6010/tcp".
struct PortQuery {
  std::string text;
  PortRange ports;
  std::optional<Transport> transport;
};

std::expected<PortQuery, Error> parse_port_query(const std::string& text) {
  PortQuery q{text, {}, std::nullopt};
  const std::size_t slash = text.find('/');
  auto ports = PortRange::parse(std::string_view(text).substr(0, slash));
  if (!ports) return std::unexpected(ports.error());
  q.ports = *ports;
  if (slash != std::string::npos) {
    const std::string_view name = std::string_view(text).substr(slash + 1);
    auto t = parse_transport(name, slash + 1);
    if (!t || !has_ports(*t)) {
      return std::unexpected(Error::at(Error::Code::kBadTransport,
                                       "unknown transport (want tcp, udp, sctp or dccp)", slash + 2,
                                       name));
    }
    q.transport = *t;
  }
  return q;
}

// The rows of one registry command: assignments (every format) and ports without
// a name (records in machine formats; lines for people). Lines for people come after
// the table; `no_match` lines also reach JSON and CSV users, on stderr.
class Rows {
 public:
  explicit Rows(Context& ctx)
      : ctx_(ctx), host_(ctx.host_range()), out_(ctx.writer({&output::kAssignmentKind})) {}

  // `port`: the single port asked about, for the `ephemeral` field.
  void add(const Service& s, std::string_view query, std::optional<SearchRank> rank = {},
           std::optional<Port> port = {}) {
    output::AssignmentRow row{query, &s, nullptr, rank, std::nullopt};
    if (port && host_) row.ephemeral = host_->contains(*port);
    out_.write(output::kAssignmentKind, row);
    ++rows_;
  }

  // A port without a name: a record with name null and the status (machine formats).
  void status(const PortAnswer& a, std::string_view query) {
    if (ctx_.human()) return;
    output::AssignmentRow row{query, nullptr, &a, std::nullopt, std::nullopt};
    if (host_) row.ephemeral = host_->contains(a.port);
    out_.write(output::kAssignmentKind, row);
  }

  void note(std::string line, bool no_match) { notes_.push_back({std::move(line), no_match}); }

  void finish() {
    if (!ctx_.human()) {
      out_.finish();
      for (const auto& n : notes_) {
        if (n.no_match) ctx_.error(n.text);
      }
      return;
    }
    if (rows_ && !notes_.empty()) out_.note("");
    for (const auto& n : notes_) out_.note(output::terminal_safe(n.text));
    out_.finish();
  }

  const std::optional<PortRange>& host() const { return host_; }

 private:
  Context& ctx_;
  std::optional<PortRange> host_;
  output::RecordWriter out_;
  std::size_t rows_ = 0;
  struct Note {
    std::string text;
    bool no_match;
  };
  std::vector<Note> notes_;
};

std::string status_text(const PortAnswer& a) {
  const PortRange group = PortRange::of_group(a.group);
  const std::string where = fmt::format("{} group {}", to_string(a.group), group.to_string());
  switch (a.status) {
    case PortStatus::kReserved:
      return fmt::format("reserved by IANA ({}{}{}), {}", a.note,
                         a.note_reference.empty() ? "" : " ", a.note_reference, where);
    case PortStatus::kDynamic:
      return fmt::format("no service: {} (dynamic/private, never assigned by IANA)", where);
    case PortStatus::kUnassigned:
      if (!a.note.empty()) return fmt::format("unassigned by IANA ({}), {}", a.note, where);
      return fmt::format("unassigned by IANA, {}", where);
    case PortStatus::kAssigned: break;
  }
  return where;
}

// One single-port query: its assignments, or why there are none.
bool answer_port(const Registry& reg, const PortQuery& q, Rows& rows) {
  const Port port = q.ports.first;
  std::vector<PortAnswer> empty;
  bool found = false;
  for (Transport t : kPortTransports) {
    if (q.transport && *q.transport != t) continue;
    PortAnswer a = reg.lookup(port, t);
    for (const Service* s : a.services) rows.add(*s, q.text, std::nullopt, port);
    found = found || !a.services.empty();
    if (a.services.empty()) empty.push_back(std::move(a));
  }
  if (!found) {
    for (const PortAnswer& a : empty) rows.status(a, q.text);
    // All transports alike (the usual case) make one line; else one per transport.
    const bool same = std::all_of(empty.begin(), empty.end(), [&](const PortAnswer& a) {
      return a.status == empty.front().status && a.note == empty.front().note;
    });
    for (const PortAnswer& a : empty) {
      if (same && &a != &empty.front()) break;
      const std::string label = q.transport || !same
                                    ? fmt::format("{}/{}", port, to_string(a.transport))
                                    : std::to_string(port);
      rows.note(fmt::format("port {}: {}", label, status_text(a)), true);
    }
  }
  if (rows.host() && rows.host()->contains(port)) {
    rows.note(fmt::format("port {} is in this host's ephemeral range {}: clients' ports come from "
                          "there, so a socket on it is most likely a client",
                          port, rows.host()->to_string()),
              false);
  }
  return found;
}

// A range query: every assignment overlapping it, each once.
bool answer_range(const Registry& reg, const PortQuery& q, Rows& rows) {
  auto services = reg.by_range(q.ports, q.transport);
  for (const Service* s : services) rows.add(*s, q.text);
  if (services.empty()) {
    rows.note(fmt::format("ports {}: no assignment{}", q.text,
                          q.ports.first >= 49152 ? " (dynamic/private group, never assigned)" : ""),
              true);
  }
  return !services.empty();
}

int run_port(Context& ctx, const std::vector<std::string>& inputs) {
  std::vector<PortQuery> queries;
  int exit_code = kExitOk;
  for (const auto& input : inputs) {
    auto q = parse_port_query(input);
    if (!q) {
      ctx.error("port " + quote_input(input) + ": " + q.error().what());
      exit_code = kExitUsage;
      continue;
    }
    queries.push_back(std::move(*q));
  }
  if (queries.empty()) return exit_code;
  const Registry& reg = ctx.registry();
  Rows rows(ctx);
  bool missed = false;
  for (const auto& q : queries) {
    const bool found =
        q.ports.first == q.ports.last ? answer_port(reg, q, rows) : answer_range(reg, q, rows);
    missed = missed || !found;
  }
  rows.finish();
  if (exit_code == kExitOk && missed) exit_code = kExitNotFound;
  return exit_code;
}

// An empty name or search is a usage error, never "nothing found".
bool all_given(Context& ctx, std::string_view command, const std::vector<std::string>& words) {
  for (const auto& w : words) {
    if (w.find_first_not_of(" \t") == std::string::npos) {
      ctx.error(fmt::format("{}: an empty {} (give a name, e.g. sockscope {} ssh)", command,
                            command == "service" ? "name" : "word", command));
      return false;
    }
  }
  return true;
}

int run_service(Context& ctx, const std::vector<std::string>& names) {
  if (!all_given(ctx, "service", names)) return kExitUsage;
  const Registry& reg = ctx.registry();
  Rows rows(ctx);
  bool missed = false;
  for (const auto& name : names) {
    auto services = reg.by_name(name);
    for (const Service* s : services) rows.add(*s, name);
    if (services.empty()) {
      rows.note(fmt::format("no service named {} (try: sockscope search {})", quote_input(name),
                            output::shortened(name, kQuotedBytes)),
                true);
      missed = true;
    }
  }
  rows.finish();
  return missed ? kExitNotFound : kExitOk;
}

int run_search(Context& ctx, const std::vector<std::string>& words) {
  if (!all_given(ctx, "search", words)) return kExitUsage;
  std::string query;
  for (const auto& w : words) query += (query.empty() ? "" : " ") + w;
  const Registry& reg = ctx.registry();
  Rows rows(ctx);
  auto hits = reg.search(query);
  for (const auto& hit : hits) rows.add(*hit.service, query, hit.rank);
  if (hits.empty()) {
    rows.note(fmt::format("nothing in the registry's names or descriptions matches {}",
                          quote_input(query)),
              true);
  }
  rows.finish();
  return hits.empty() ? kExitNotFound : kExitOk;
}

}  // namespace

void add_registry_commands(CLI::App& app, Context& ctx) {
  auto* port = app.add_subcommand(
      "port", "what is registered on ports: 443, 53/udp, 6000-6010 (services, group)");
  static std::vector<std::string> port_inputs;
  port->add_option("PORT", port_inputs, "port, port/transport or first-last[/transport]")
      ->required()
      ->transform(keep_literal());
  ctx.on(port, [&ctx] { return run_port(ctx, port_inputs); });

  auto* service = app.add_subcommand("service", "which ports and transports a service uses");
  static std::vector<std::string> service_names;
  service->add_option("NAME", service_names, "service name or alias, any case (e.g. ssh)")
      ->required()
      ->transform(keep_literal());
  ctx.on(service, [&ctx] { return run_service(ctx, service_names); });

  auto* search = app.add_subcommand(
      "search", "keyword search in service names and descriptions, best matches first");
  static std::vector<std::string> search_words;
  search->add_option("WORDS", search_words, "e.g. mail")->required()->transform(keep_literal());
  ctx.on(search, [&ctx] { return run_search(ctx, search_words); });
}

}  // namespace sockscope::cli
