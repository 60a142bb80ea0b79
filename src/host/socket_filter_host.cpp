// The host's side of filter parsing: ip_local_port_range for `autobound`'s
// user-space test and if_nametoindex for zones. Kept apart from the parser,
// which stays standard-library-only for the fuzz preset.
#include <net/if.h>

#include <string>

#include "sockscope/socket_filter.hpp"

namespace sockscope {

SocketFilterOptions host_filter_options(std::vector<Transport> transports) {
  SocketFilterOptions options;
  options.transports = std::move(transports);
  // ss falls back to 1024-4999 when the sysctl is unreadable; the kernel's own
  // default is the better guess today.
  auto range = EphemeralRange::read_host();
  options.ephemeral = range ? range->range : EphemeralRange::linux_default().range;
  options.interface_index = [](std::string_view name) -> std::optional<std::uint32_t> {
    const unsigned index = if_nametoindex(std::string(name).c_str());
    if (index == 0) return std::nullopt;
    return index;
  };
  return options;
}

std::expected<SocketFilter, Error> SocketFilter::parse(std::span<const std::string> words,
                                                       const Registry& names) {
  return parse(words, names, host_filter_options());
}

}  // namespace sockscope
