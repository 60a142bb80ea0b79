// sockscope/ephemeral.hpp: ephemeral-port use per destination, by the kernel's rules.
//
//   #include <iostream>
//   auto scan = scan_ephemeral();  // this network namespace's sysctls and sockets, streamed
//   if (!scan) return 1;
//   const EphemeralReport& report = scan->report;
//   std::cout << report.bind_pool.free() << " ports left for bind(0)\n";
//   const ProcessOwners owners = ProcessOwners::scan();
//   for (const DestinationUsage& d : report.destinations) {  // fullest first
//     std::cout << d.remote.to_string() << ": " << d.used << " of " << d.capacity << '\n';
//     for (const ProcessShare& p : processes_of(d, owners))  // who holds its ports, most first
//       std::cout << "  " << p.pid << ' ' << p.command << ' ' << p.sockets << '\n';
//   }
//
//   // Or from sockets already at hand (socket_table.hpp):
//   auto table = SocketTable::read();
//   auto settings = EphemeralSettings::read();
//   if (!table || !settings) return 1;
//   EphemeralReport again = analyze_ephemeral(table->sockets, *settings);
//   std::cout << again.settings.range.to_string() << '\n';  // 32768-60999: ip_local_port_range
//
// Why per destination: connect() on an unbound TCP socket may reuse a local port
// as long as the whole socket pair stays unique (RFC 6056 algorithm 4 in
// __inet_hash_connect), so it runs out toward one (local IP, remote IP, remote
// port) with EADDRNOTAVAIL while other destinations still have room. Ports held
// by an explicit bind() anywhere are never lent to connect(); reserved ports
// (ip_local_reserved_ports) are skipped. bind(port 0) needs a port nobody uses
// at all, so it runs out earlier, with EADDRINUSE. UDP ports are per local
// address. Sockets that are bound but neither listening nor connected are
// invisible to sock_diag (and so to ss and to sockscope).
#pragma once

#include <bitset>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sockscope/endpoint.hpp"
#include "sockscope/error.hpp"
#include "sockscope/netns.hpp"
#include "sockscope/port.hpp"
#include "sockscope/process_owners.hpp"
#include "sockscope/socket_table.hpp"
#include "sockscope/transport.hpp"

namespace sockscope {

// The sysctls that decide which ports connect() and bind(0) may choose.
struct EphemeralSettings {
  PortRange range{32768, 60999};  // net.ipv4.ip_local_port_range
  std::bitset<65536> reserved;    // net.ipv4.ip_local_reserved_ports
  std::string reserved_text;      // as the sysctl prints it ("" = none)
  int tcp_tw_reuse = -1;          // net.ipv4.tcp_tw_reuse, -1 = unknown

  // Ports of the range that are not reserved: what connect() may use at most.
  std::uint32_t usable() const;

  // Reads the sysctls of the calling thread's network namespace.
  static std::expected<EphemeralSettings, Error> read(
      const std::string& proc_sys_ipv4 = "/proc/sys/net/ipv4");
  // The sysctls of network namespace `ns` (entering another one needs CAP_SYS_ADMIN).
  static std::expected<EphemeralSettings, Error> read_in(const NetworkNamespace& ns);
  // "8080,9000-9010" (the sysctl's list syntax); empty text is no ports.
  static std::expected<std::bitset<65536>, Error> parse_port_list(std::string_view text);
};

// One socket as the analysis needs it.
struct PortUse {
  Transport transport = Transport::kTcp;
  bool listening = false;
  bool time_wait = false;
  Endpoint local;
  Endpoint remote;
  // Whether the kernel chose the local port (connect() or bind(0)); nullopt
  // when the source cannot tell (e.g. /proc text).
  std::optional<bool> autobound;
  std::uint64_t inode = 0;  // for owner lookup; 0 for TIME_WAIT

  // A kernel socket record as the analysis needs it. Request sockets (SYN-RECV)
  // sit on their listener's port: not the kernel's choice, whatever the source says.
  static PortUse of(const SocketRecord& record);
};

struct DestinationUsage {
  Transport transport = Transport::kTcp;
  IpAddress local_address;
  Endpoint remote;                    // for UDP: port 0, address unspecified (per local address)
  std::uint32_t used = 0;             // ports of the usable pool taken toward this destination
  std::uint32_t time_wait = 0;        // of which in TIME_WAIT
  std::uint32_t capacity = 0;         // usable - ports held by bind() (TCP)
  std::vector<std::uint64_t> inodes;  // sockets behind `used` (filled for the top entries)

  double utilization() const { return capacity ? double(used) / capacity : 1.0; }
  bool exhausted() const { return used >= capacity; }
};

// The pool bind(port 0) draws from: usable ports no TCP socket uses at all.
struct BindPoolUsage {
  std::uint32_t used = 0;
  std::uint32_t capacity = 0;
  std::uint32_t free() const { return used >= capacity ? 0 : capacity - used; }
  double utilization() const { return capacity ? double(used) / capacity : 1.0; }
};

struct EphemeralReport {
  EphemeralSettings settings;
  std::uint32_t bind_held = 0;  // usable ports held by explicit bind() (never lent to connect)
  std::vector<DestinationUsage> destinations;  // TCP then UDP, fullest first
  BindPoolUsage bind_pool;
  bool autobound_known = true;  // false when some sockets lacked the bit (heuristics used)
};

// Counts usage per destination. `keep_inodes` destinations (fullest first) get
// their socket inodes listed, so a caller can name the owning processes.
EphemeralReport analyze_ephemeral(std::span<const PortUse> sockets,
                                  const EphemeralSettings& settings, std::size_t keep_inodes = 20);
EphemeralReport analyze_ephemeral(std::span<const SocketRecord> sockets,
                                  const EphemeralSettings& settings, std::size_t keep_inodes = 20);

struct EphemeralScan {
  EphemeralReport report;
  std::string source;  // the socket source's name ("netlink", "/proc/net")
};
// Reads this namespace's settings and TCP and UDP sockets (streamed, no socket
// table kept) and analyses them. Netlink refused: /proc/net, said through `report`.
std::expected<EphemeralScan, Error> scan_ephemeral(std::size_t keep_inodes = 20,
                                                   const ReportFn& report = {});
// The same in network namespace `ns`: its own sysctls and sockets (entering
// another one needs CAP_SYS_ADMIN; the scan runs on a thread that enters it).
std::expected<EphemeralScan, Error> scan_ephemeral_in(const NetworkNamespace& ns,
                                                      std::size_t keep_inodes = 20,
                                                      const ReportFn& report = {});

// A process holding some of a destination's ports.
struct ProcessShare {
  int pid = 0;
  std::string command;
  std::uint32_t sockets = 0;  // of the destination's sockets
};
// The processes behind a destination's listed inodes, most sockets first (then by pid).
std::vector<ProcessShare> processes_of(const DestinationUsage& destination,
                                       const ProcessOwners& owners);

}  // namespace sockscope
