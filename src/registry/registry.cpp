// Registry: lookups over the embedded IANA table and the loaded local labels.
#include "sockscope/registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "registry/local_labels.hpp"
#include "registry/services_parser.hpp"
#include "registry/table.hpp"

namespace sockscope {

using registry::kFlagAlias;

struct Registry::Local {
  registry::LocalLabels labels;
};

std::string_view to_string(PortStatus status) {
  switch (status) {
    case PortStatus::kAssigned: return "assigned";
    case PortStatus::kReserved: return "reserved";
    case PortStatus::kUnassigned: return "unassigned";
    case PortStatus::kDynamic: return "dynamic";
  }
  return "?";
}

std::string ServicesWarning::what() const {
  return source + ":" + std::to_string(line) + ": " + problem;
}

const Registry& Registry::builtin() {
  static const Registry kBuiltin;
  return kBuiltin;
}

Registry::Registry() = default;
Registry::~Registry() = default;
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

std::vector<ServicesWarning> Registry::load_services_text(std::string_view text,
                                                          std::string_view source) {
  if (!local_) local_ = std::make_unique<Local>();
  return local_->labels.add(std::string(text), source);
}

std::expected<std::vector<ServicesWarning>, Error> Registry::load_services_file(
    const std::string& path) {
  auto fail = [&path](int err) {
    Error e = Error::io("cannot read services file '" + path + "': " + std::strerror(err));
    if (err == EACCES || err == EPERM) e.code = Error::Code::kPermission;
    return std::unexpected(e);
  };
  // Read straight into the string the labels keep (no stdio buffer, no copy).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno);
  struct stat st {};
  const std::size_t chunk =
      ::fstat(fd, &st) == 0 && st.st_size > 0 ? std::size_t(st.st_size) + 1 : std::size_t(1) << 14;
  // Sized for the whole file plus one byte, so the read that sees the end
  // needs no growth; pipes and /proc files grow by doubling.
  std::string text(chunk, '\0');
  std::size_t used = 0;
  while (true) {
    if (used == text.size()) text.resize(2 * text.size());
    const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {  // e.g. EISDIR for a directory
      const int err = errno;
      ::close(fd);
      return fail(err);
    }
    if (n == 0) break;
    used += std::size_t(n);
  }
  text.resize(used);
  ::close(fd);
  if (!local_) local_ = std::make_unique<Local>();
  return local_->labels.add(std::move(text), path);
}

const Service* Registry::primary(Port port, Transport transport) const {
  if (local_) {
    if (const Service* s = local_->labels.primary(port, transport)) return s;
  }
  auto records = registry::port_records(port, transport);
  if (records.empty() || registry::record(records.front()).flags & kFlagAlias) return nullptr;
  return &registry::service(records.front());
}

const Service* Registry::find(std::string_view name, Transport transport) const {
  const std::uint32_t hash = registry::name_hash(name);
  if (local_) {
    if (const Service* s = local_->labels.find(name, hash, transport)) return s;
  }
  const int index = registry::first_record_named(name, hash, transport);
  return index < 0 ? nullptr : &registry::service(std::size_t(index));
}

std::span<const Service> Registry::common_names() {
  // Names people use for a port that neither IANA nor netbase lists (IANA calls
  // 53 "domain"): found by name and by search, shown as aliases of IANA's name.
  static constexpr std::string_view kCommon = "common";
  static constexpr Service kNames[] = {
      {"dns",
       {53, 53},
       Transport::kTcp,
       "Domain Name System (IANA: domain)",
       "",
       "domain",
       kCommon},
      {"dns",
       {53, 53},
       Transport::kUdp,
       "Domain Name System (IANA: domain)",
       "",
       "domain",
       kCommon},
  };
  return kNames;
}

std::vector<const Service*> Registry::by_port(Port port, Transport transport) const {
  std::vector<const Service*> out;
  if (local_ && !local_->labels.empty()) {
    std::vector<std::uint32_t> at;
    local_->labels.at_port(port, transport, at);
    for (std::uint32_t index : at) {
      const Service* s = &local_->labels.label(index);
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    // Primaries before aliases, each in load order.
    std::stable_partition(out.begin(), out.end(), [](const Service* s) { return !s->is_alias(); });
  }
  const std::size_t local_count = out.size();
  for (std::uint16_t index : registry::port_records(port, transport)) {
    const Service* s = &registry::service(index);
    if (std::find(out.begin(), out.begin() + std::ptrdiff_t(local_count), s) ==
        out.begin() + std::ptrdiff_t(local_count)) {
      out.push_back(s);
    }
  }
  if (!out.empty()) {
    for (const Service& s : common_names()) {
      if (s.transport == transport && s.ports.contains(port)) out.push_back(&s);
    }
  }
  return out;
}

PortAnswer Registry::lookup(Port port, Transport transport) const {
  PortAnswer a;
  a.port = port;
  a.transport = transport;
  a.group = group_of(port);
  a.services = by_port(port, transport);
  if (!a.services.empty()) {
    a.status = PortStatus::kAssigned;
  } else if (const registry::Note* note = registry::note_for(port, transport)) {
    a.status =
        note->kind == registry::kNoteReserved ? PortStatus::kReserved : PortStatus::kUnassigned;
    a.note = registry::pool_string(note->description);
    a.note_reference = registry::pool_string(note->reference);
  } else {
    a.status = a.group == PortGroup::kDynamic ? PortStatus::kDynamic : PortStatus::kUnassigned;
  }
  return a;
}

std::vector<const Service*> Registry::by_name(std::string_view name) const {
  std::vector<const Service*> out;
  auto add = [&out](const Service* s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  auto add_named = [&](std::string_view wanted) {
    const std::uint32_t hash = registry::name_hash(wanted);
    if (local_) {
      const auto& labels = local_->labels;
      for (auto i = labels.first_named(wanted, hash); i != labels.kEnd; i = labels.next_named(i)) {
        add(&labels.label(i));
      }
    }
    for (std::uint16_t index : registry::records_named(wanted, hash)) {
      add(&registry::service(index));
    }
    for (const Service& s : common_names()) {
      if (registry::iequals(s.name, wanted)) add(&s);
    }
  };
  add_named(name);
  // An alias brings the assignments of the name it stands for.
  std::vector<std::string_view> targets;
  for (const Service* s : out) {
    if (s->is_alias() && std::find(targets.begin(), targets.end(), s->alias_of) == targets.end()) {
      targets.push_back(s->alias_of);
    }
  }
  for (std::string_view target : targets) add_named(target);
  return out;
}

std::size_t Registry::builtin_size() { return registry::record_count(); }
const Service& Registry::builtin_service(std::size_t index) { return registry::service(index); }
std::size_t Registry::local_size() const { return local_ ? local_->labels.size() : 0; }
const Service& Registry::local_service(std::size_t index) const {
  return local_->labels.label(index);
}
std::size_t Registry::builtin_source_pairs() { return registry::source_pairs(); }

}  // namespace sockscope
