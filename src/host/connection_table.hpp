// The connection log's memory: the live sockets by cookie, the listeners whose
// owners accepted connections inherit, the owner sets and the processes behind
// them. Internal to the host layer (connection_log.cpp). Not thread-safe.
//
// Memory is bounded by what is live: one Live (~110 bytes) plus a hash node per
// open socket, removed at its close; owner sets and processes are shared by all
// the sockets of a process and dropped when no live socket refers to them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/roles.hpp"
#include "sockscope/connection_log.hpp"
#include "sockscope/host.hpp"

namespace sockscope::host_detail {

// One live socket as the log keeps it between its open and its close.
struct Live {
  Endpoint local, remote;
  std::uint64_t netns = 0;
  std::uint64_t inode = 0;
  std::int64_t opened_ns = 0;  // 0: open before the log started
  std::uint32_t uid = 0;
  std::uint32_t owner_set = 0;  // OwnerSets index, 0 = none
  Transport transport = Transport::kTcp;
  SocketState state = SocketState::kClose;  // the last state seen
  LocalRole role = LocalRole::kUnknown;
  Evidence evidence = Evidence::kLowerPortGuess;
  OwnerEvidence owner_evidence = OwnerEvidence::kNone;
  OwnerMissing owner_missing = OwnerMissing::kNone;
  std::uint8_t missing_dumps = 0;  // re-dumps in a row that did not show it
  bool fin_received = false;       // a state seen implies the peer's FIN arrived
  bool reset = false;              // the tracer saw ESTABLISHED -> CLOSE
  bool active_open = false;        // this side sent the SYN
  bool listener = false;
  std::uint32_t seen_in = 0;  // the dump generation that last showed it
};

// A socket record (the fields an event reports) from a Live.
SocketRecord record_of(const Live& live, std::uint64_t cookie);
// Whether a state means the peer's FIN arrived (CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT).
bool implies_fin_received(SocketState state);

// Sets of pids (a socket held by several processes after fork), interned and
// reference-counted so that 20,000 sockets of one process share one entry.
class OwnerSets {
 public:
  // The set's index (never 0) for these pids, one more reference; 0 for none.
  std::uint32_t intern(std::vector<int> pids);
  void release(std::uint32_t set);
  void retain(std::uint32_t set);
  const std::vector<int>& pids(std::uint32_t set) const { return sets_[set - 1].pids; }
  std::size_t size() const { return index_.size(); }  // sets still referenced
  // Calls fn(pid) for every pid of every referenced set.
  template <class Fn>
  void each_pid(Fn&& fn) const {
    for (const auto& [pids, id] : index_) {
      for (int pid : pids) fn(pid);
    }
  }

 private:
  struct Set {
    std::vector<int> pids;
    std::uint32_t references = 0;
  };
  struct Hash {
    std::size_t operator()(const std::vector<int>& v) const;
  };
  std::vector<Set> sets_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<std::vector<int>, std::uint32_t, Hash> index_;
};

// Processes as events show them: command, cmdline and uid from /proc, read once
// per pid (again when the command changed: the pid was reused).
class ProcessCache {
 public:
  struct Info {
    std::string command, cmdline;
    std::uint32_t uid = 0;
  };
  // `command` when known (scan or tracer) saves a read and detects reuse.
  const Info& get(int pid, std::string_view command = {}, std::uint32_t uid_hint = UINT32_MAX);
  // Forgets every process no referenced owner set names.
  void retain_only(const OwnerSets& sets);
  std::size_t size() const { return infos_.size(); }

 private:
  std::unordered_map<int, Info> infos_;
};

// Listeners by (netns, transport, port), with their cookie, for accepted
// connections to find their listener (same address, or a wildcard of the family).
class ListenerMap {
 public:
  void add(const Live& listener, std::uint64_t cookie);
  void remove(const Live& listener, std::uint64_t cookie);
  // The cookie of the listener that accepted `local` (0: none).
  std::uint64_t find(std::uint64_t netns, Transport t, const Endpoint& local) const;
  // The same, as the role rule's index.
  const ListenerIndex& index() const { return index_; }
  void rebuild_index(const std::unordered_map<std::uint64_t, Live>& live);

 private:
  struct Entry {
    std::uint64_t netns;
    Transport transport;
    Endpoint local;
    std::uint64_t cookie;
  };
  static std::uint64_t key(std::uint64_t netns, Transport t, Port port) {
    return netns * 0x9E3779B97F4A7C15ull ^ std::uint64_t(t) << 16 ^ port;
  }
  std::unordered_multimap<std::uint64_t, Entry> by_port_;
  ListenerIndex index_;
};

}  // namespace sockscope::host_detail
