// Lists this host's TCP and UDP sockets with the role of the local side, the
// registry's name for the server port, and the processes that hold them.
#include <iomanip>
#include <iostream>
#include <sockscope/host_scan.hpp>
#include <string>

int main() {
  using namespace sockscope;
  Registry registry;  // IANA's names; load_services_file() would add local labels
  Naming naming(registry);
  HostScanOptions options{.owners = true};
  if (auto range = EphemeralRange::read_host()) options.host_ephemeral = range->range;
  HostScan scan(options, naming, [](Severity, const std::string& problem) {
    std::cerr << "warning: " << problem << '\n';
  });
  auto summary = scan.run([](const HostRow& row) {
    const SocketRecord& s = row.socket.record;
    std::cout << std::left << std::setw(5) << to_string(s.transport) << std::setw(11)
              << to_string(s.state) << std::setw(24) << s.local.to_string() << std::setw(24)
              << s.remote.to_string() << std::setw(9) << to_string(row.socket.role) << std::setw(24)
              << to_string(row.socket.evidence) << std::setw(15)
              << (row.service ? row.service->name : "-");
    for (const ProcessOwner& o : row.owners) std::cout << ' ' << o.pid << '/' << o.command;
    if (row.owners.empty()) std::cout << " (" << to_string(row.owner_missing) << ')';
    std::cout << '\n';
  });
  if (!summary) {
    std::cerr << summary.error().what() << '\n';
    return 3;
  }
  std::cout << summary->sockets << " sockets (" << summary->source << ")\n";
}
