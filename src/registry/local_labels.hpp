// Labels from services(5) files, owned by one Registry and indexed by port and
// by name. Internal to src/registry.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/services_parser.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::registry {

class LocalLabels {
 public:
  // Adds the usable lines of one parsed file; `source` names it.
  void add(const ServicesParse& parsed, std::string_view source);

  std::size_t size() const { return labels_.size(); }
  const Service& label(std::size_t index) const { return *labels_[index]; }
  bool empty() const { return labels_.empty(); }

  // Labels covering port/transport, in load order (label indices).
  void at_port(Port port, Transport transport, std::vector<std::uint32_t>& out) const;
  // Labels with this name (folded), in load order.
  const std::vector<std::uint32_t>* named(std::string_view name) const;

 private:
  static std::uint32_t key(Port port, Transport transport) {
    return std::uint32_t(transport) << 16 | port;
  }
  const std::string& keep(std::string_view text);
  // A label for name on ports/transport: IANA's record when it is the same
  // assignment, else a new local Service.
  const Service* make(std::string_view name, PortRange ports, Transport transport,
                      std::string_view comment, std::string_view alias_of,
                      const std::string& source);

  std::deque<std::string> strings_;   // deque: elements never move, views stay valid
  std::deque<Service> services_;
  std::vector<const Service*> labels_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> by_port_;  // single ports
  std::vector<std::uint32_t> ranges_;                                       // port ranges
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_name_;     // folded name
};

}  // namespace sockscope::registry
