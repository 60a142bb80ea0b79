// How much of the ephemeral-port range is in use, toward which destinations,
// and which processes hold the ports of the fullest ones.
#include <iostream>
#include <sockscope/ephemeral.hpp>

int main() {
  using namespace sockscope;
  auto scan = scan_ephemeral();  // this network namespace's sysctls and sockets
  if (!scan) {
    std::cerr << scan.error().what() << '\n';
    return 3;
  }
  const EphemeralReport& report = scan->report;
  std::cout << "range " << report.settings.range.to_string() << ": " << report.settings.usable()
            << " usable ports, " << report.bind_held << " held by bind()\n"
            << "bind(0) pool: " << report.bind_pool.used << " of " << report.bind_pool.capacity
            << " used\n";
  const ProcessOwners owners = ProcessOwners::scan();  // /proc/*/fd, once
  for (std::size_t i = 0; i < report.destinations.size() && i < 5; ++i) {
    const DestinationUsage& d = report.destinations[i];  // fullest first
    std::cout << to_string(d.transport) << ' ' << d.local_address.to_string() << " -> "
              << (d.transport == Transport::kUdp ? "any" : d.remote.to_string()) << ": " << d.used
              << " of " << d.capacity << " ports, " << d.time_wait << " in TIME-WAIT\n";
    for (const ProcessShare& p : processes_of(d, owners)) {
      std::cout << "  " << p.pid << ' ' << p.command << ": " << p.sockets << " sockets\n";
    }
  }
}
