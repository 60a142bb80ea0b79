// Record kinds of the host commands: a live socket (`sockets`, `listen`, --watch)
// and ephemeral-port use per destination (the overview's: kinds/overview.hpp).
#pragma once

#include <string_view>
#include <vector>

#include "output/schema.hpp"
#include "sockscope/ephemeral.hpp"
#include "sockscope/host_scan.hpp"
#include "sockscope/overview.hpp"  // SocketOwner

namespace sockscope::output {

// One socket as `sockets` shows it; `event` and `new_listener` under --watch.
struct SocketRow {
  const HostRow& row;
  std::string_view event;  // "appeared", "disappeared"; "" outside --watch
  bool new_listener = false;
};
extern const RecordKind kSocketKind;
// A process holding a socket: {pid, command, fd}; as text "python3[4242]:fd3".
extern const RecordKind kProcessKind;
// The same for a SocketOwner (the overview's copy of an owner).
extern const RecordKind kSocketOwnerKind;

// `sockets -s`: sockets by transport (family and state counts) and the kernel's
// own counters.
struct TransportSummaryRow {
  const TransportCount& count;
  std::vector<StateCount> states;
  explicit TransportSummaryRow(const TransportCount& c);
};
extern const RecordKind kTransportSummaryKind;
extern const RecordKind kKernelSocketsKind;  // row: KernelSocketCounts

// `ephemeral`: one destination's use of the pool, and the bind(0) pool.
struct DestinationRow {
  const DestinationUsage& destination;
  const std::vector<ProcessShare>* processes = nullptr;  // nullptr: not looked up
  const NetworkNamespace* netns = nullptr;  // --all-netns: whose (the field is hidden without)
};
extern const RecordKind kDestinationKind;
// A process and how many of the sockets in question it holds: {pid, command, sockets};
// as text "python3[5697] x40".
extern const RecordKind kProcessShareKind;
struct BindPoolRow {
  const EphemeralReport& report;
  const NetworkNamespace* netns = nullptr;  // as DestinationRow's
};
extern const RecordKind kBindPoolKind;

// Which of a socket's optional fields an output shows (ss's letters, -p, --watch).
struct SocketColumns {
  bool human = false;  // the table format
  bool watch = false, processes = false, all_netns = false, numeric = false;
  bool extended = false, timers = false, info = false, memory = false;
};
// The socket fields an output leaves out (WriterOptions::hidden): `sockets`,
// `listen` and the server's /api/sockets give the same records for the same choice.
std::vector<std::string_view> hidden_socket_fields(const SocketColumns& columns);

// "python3[4242]" and its ":fd3" / " x40" forms: one owner notation everywhere.
void append_owner(std::string& out, std::string_view command, int pid);

}  // namespace sockscope::output
