// The connection log's tables; see connection_table.hpp.
#include "host/connection_table.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>

namespace sockscope::host_detail {
namespace {

// A small /proc file (at most 4 KiB); "" when unreadable.
std::string read_small(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string();
}

std::uint32_t uid_of(const std::string& status) {
  const auto at = status.find("\nUid:");
  if (at == std::string::npos) return UINT32_MAX;
  return std::uint32_t(std::strtoul(status.c_str() + at + 5, nullptr, 10));
}

}  // namespace

SocketRecord record_of(const Live& l, std::uint64_t cookie) {
  SocketRecord r;
  r.transport = l.transport;
  r.state = l.state;
  r.local = l.local;
  r.remote = l.remote;
  r.uid = l.uid;
  r.inode = l.inode;
  r.cookie = cookie;
  r.netns = l.netns;
  return r;
}

bool implies_fin_received(SocketState s) {
  return s == SocketState::kCloseWait || s == SocketState::kLastAck || s == SocketState::kClosing ||
         s == SocketState::kTimeWait;
}

std::size_t OwnerSets::Hash::operator()(const std::vector<int>& v) const {
  std::size_t h = v.size();
  for (int pid : v) h = h * 0x9E3779B97F4A7C15ull ^ std::size_t(pid);
  return h;
}

std::uint32_t OwnerSets::intern(std::vector<int> pids) {
  if (pids.empty()) return 0;
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  if (auto it = index_.find(pids); it != index_.end()) {
    ++sets_[it->second - 1].references;
    return it->second;
  }
  std::uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    sets_.emplace_back();
    id = std::uint32_t(sets_.size());
  }
  sets_[id - 1] = {pids, 1};
  index_.emplace(std::move(pids), id);
  return id;
}

void OwnerSets::retain(std::uint32_t set) {
  if (set) ++sets_[set - 1].references;
}

void OwnerSets::release(std::uint32_t set) {
  if (!set || --sets_[set - 1].references > 0) return;
  index_.erase(sets_[set - 1].pids);
  sets_[set - 1].pids.clear();
  free_.push_back(set);
}

const ProcessCache::Info& ProcessCache::get(int pid, std::string_view command,
                                            std::uint32_t uid_hint) {
  auto it = infos_.find(pid);
  if (it != infos_.end() && (command.empty() || it->second.command == command)) return it->second;
  Info info;
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  info.cmdline = read_small(path);
  while (!info.cmdline.empty() && info.cmdline.back() == '\0') info.cmdline.pop_back();
  std::replace(info.cmdline.begin(), info.cmdline.end(), '\0', ' ');
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  info.uid = uid_of(read_small(path));
  if (info.uid == UINT32_MAX) info.uid = uid_hint == UINT32_MAX ? 0 : uid_hint;
  if (!command.empty()) {
    info.command = std::string(command);
  } else {
    std::snprintf(path, sizeof path, "/proc/%d/comm", pid);
    info.command = read_small(path);
    while (!info.command.empty() && info.command.back() == '\n') info.command.pop_back();
    if (info.command.empty()) info.command = "?";
  }
  return infos_.insert_or_assign(pid, std::move(info)).first->second;
}

void ProcessCache::retain_only(const OwnerSets& sets) {
  std::unordered_set<int> keep;
  sets.each_pid([&](int pid) { keep.insert(pid); });
  std::erase_if(infos_, [&](const auto& kv) { return !keep.count(kv.first); });
}

void ListenerMap::add(const Live& l, std::uint64_t cookie) {
  by_port_.emplace(key(l.netns, l.transport, l.local.port),
                   Entry{l.netns, l.transport, l.local, cookie});
  index_.add(record_of(l, cookie));
}

void ListenerMap::remove(const Live& l, std::uint64_t cookie) {
  auto [first, last] = by_port_.equal_range(key(l.netns, l.transport, l.local.port));
  for (auto it = first; it != last; ++it) {
    if (it->second.cookie == cookie) {
      by_port_.erase(it);
      return;
    }
  }
}

std::uint64_t ListenerMap::find(std::uint64_t netns, Transport t, const Endpoint& local) const {
  auto [first, last] = by_port_.equal_range(key(netns, t, local.port));
  std::uint64_t wildcard = 0;
  for (auto it = first; it != last; ++it) {
    const Entry& e = it->second;
    if (e.netns != netns || e.transport != t || e.local.port != local.port) continue;
    if (e.local.address.without_zone() == local.address.without_zone()) return e.cookie;
    if (e.local.address.is_unspecified() && e.local.address.is_v4() == local.address.is_v4()) {
      wildcard = e.cookie;
    }
  }
  return wildcard;
}

void ListenerMap::rebuild_index(const std::unordered_map<std::uint64_t, Live>& live) {
  index_ = {};
  for (const auto& [cookie, l] : live) {
    if (l.listener) index_.add(record_of(l, cookie));
  }
}

}  // namespace sockscope::host_detail
