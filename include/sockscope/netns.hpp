// sockscope/netns.hpp: network namespaces, to see every socket of the host.
//
//   #include <iostream>
//   std::vector<Error> warnings;
//   for (const NetworkNamespace& ns : list_network_namespaces(&warnings)) {
//     auto source = open_socket_source_in(ns);  // NETLINK_SOCK_DIAG inside ns (root for others)
//     std::cout << ns.label() << (source ? "" : ": cannot enter") << '\n';  // net:[4026532201]
//   }
//
// Each namespace has its own socket tables: the same socket pair can exist in
// two namespaces (containers), so the namespace is part of a socket's key
// (SocketRecord::netns). Namespaces are found through /proc/*/ns/net (those
// with processes) and /run/netns (those `ip netns` created and named).
// Entering one needs CAP_SYS_ADMIN: a helper thread setns()es into it, opens
// the sock_diag socket there and ends; the socket keeps dumping that
// namespace from any thread.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "sockscope/error.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope {

struct NetworkNamespace {
  std::uint64_t inode = 0;
  std::string name;  // the /run/netns name, "" when unnamed
  std::string path;  // a file that refers to it (/run/netns/NAME or /proc/PID/ns/net)
  bool current = false;

  // The name, or "net:[INODE]" like the nsfs link text.
  std::string label() const;
};

// Every reachable namespace, the current one first, then by inode. Unreadable
// entries are skipped and counted in `warnings` (one per kind, not per process).
std::vector<NetworkNamespace> list_network_namespaces(std::vector<Error>* warnings = nullptr,
                                                      const std::string& proc = "/proc",
                                                      const std::string& run_netns = "/run/netns");

// The calling thread's namespace, named when /run/netns names it (as inside
// `ip netns exec NAME`).
NetworkNamespace current_network_namespace(const std::string& run_netns = "/run/netns");

// A sock_diag source inside `ns` (the current namespace needs no privilege).
std::expected<std::unique_ptr<SocketSource>, Error> open_socket_source_in(
    const NetworkNamespace& ns);

}  // namespace sockscope
