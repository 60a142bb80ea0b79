// Local services(5) labels; see local_labels.hpp.
#include "registry/local_labels.hpp"

#include <algorithm>

#include "registry/table.hpp"

namespace sockscope::registry {
namespace {

std::string folded(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = fold(c);
  return out;
}

}  // namespace

const std::string& LocalLabels::keep(std::string_view text) {
  return strings_.emplace_back(text);
}

const Service* LocalLabels::make(std::string_view name, PortRange ports, Transport transport,
                                 std::string_view comment, std::string_view alias_of,
                                 const std::string& source) {
  for (std::uint16_t index : port_records(ports.first, transport)) {
    const Service& s = service(index);
    if (s.ports == ports && iequals(s.name, name)) return &s;
  }
  Service s;
  s.name = keep(name);
  s.ports = ports;
  s.transport = transport;
  s.description = comment.empty() ? std::string_view{} : std::string_view(keep(comment));
  s.alias_of = alias_of;
  s.source = source;
  return &services_.emplace_back(s);
}

void LocalLabels::add(const ServicesParse& parsed, std::string_view source_text) {
  const std::string& source = keep(source_text);
  for (const ServicesLine& line : parsed.lines) {
    for (Transport t : line.transports) {
      const Service* primary = make(line.name, line.ports, t, line.comment, {}, source);
      std::vector<const Service*> made = {primary};
      for (std::string_view alias : line.aliases) {
        made.push_back(make(alias, line.ports, t, line.comment, primary->name, source));
      }
      for (const Service* s : made) {
        const auto index = static_cast<std::uint32_t>(labels_.size());
        labels_.push_back(s);
        if (s->ports.first == s->ports.last) {
          by_port_[key(s->ports.first, t)].push_back(index);
        } else {
          ranges_.push_back(index);
        }
        by_name_[folded(s->name)].push_back(index);
      }
    }
  }
}

void LocalLabels::at_port(Port port, Transport transport, std::vector<std::uint32_t>& out) const {
  out.clear();
  if (labels_.empty()) return;
  if (auto it = by_port_.find(key(port, transport)); it != by_port_.end()) out = it->second;
  bool merged = false;
  for (std::uint32_t index : ranges_) {
    const Service& s = *labels_[index];
    if (s.transport == transport && s.ports.contains(port)) {
      out.push_back(index);
      merged = true;
    }
  }
  if (merged) std::sort(out.begin(), out.end());
}

const std::vector<std::uint32_t>* LocalLabels::named(std::string_view name) const {
  auto it = by_name_.find(folded(name));
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace sockscope::registry
