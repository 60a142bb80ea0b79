// Facts about owners beyond the socket scan: user names and command lines, read
// only for the rows that show them.
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "sockscope/process_owners.hpp"
#include "sockscope/registry.hpp"
#include "sockscope/socket_filter.hpp"

namespace sockscope {

std::string user_name(std::uint32_t uid) {
  // getpwuid_r reads the passwd database (a file, or NSS) on every call.
  static std::mutex mutex;
  static std::unordered_map<std::uint32_t, std::string> names;
  std::lock_guard lock(mutex);
  auto [it, added] = names.try_emplace(uid);
  if (added) {
    char buffer[4096];
    passwd entry, *found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) {
      it->second = found->pw_name;
    }
  }
  return it->second;
}

int socket_descriptor(int pid, std::uint64_t inode, const std::string& proc) {
  const std::string dir = proc + "/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  int found = -1;
  char link[64];
  while (const dirent* e = ::readdir(d)) {  // bounded by the process's descriptors
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link);
    if (n != ssize_t(want.size()) || std::memcmp(link, want.data(), want.size()) != 0) continue;
    const int fd = std::atoi(e->d_name);
    if (found < 0 || fd < found) found = fd;
  }
  ::closedir(d);
  return found;
}

int socket_descriptor(int pid, const SocketRecord& socket) {
  std::uint64_t inode = socket.inode;
  if (inode == 0 && socket.cookie != 0) {
    SocketQuery query;
    query.transports = {socket.transport};
    query.autobound = false;
    auto port = SocketFilter::ports(std::to_string(socket.local.port), PortSide::kLocal,
                                    Registry::builtin(), SocketFilterOptions{});
    if (port) query.filter = std::make_shared<const SocketFilter>(std::move(*port));
    if (auto table = SocketTable::read(query)) {
      for (const SocketRecord& r : table->sockets) {
        if (r.cookie == socket.cookie) inode = r.inode;
      }
    }
  }
  return inode == 0 ? -1 : socket_descriptor(pid, inode);
}

std::optional<std::string> command_line(int pid, const std::string& proc) {
  const std::string path = proc + "/" + std::to_string(pid) + "/cmdline";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char chunk[4096];
  // Bounded: a command line is at most ARG_MAX (a few MB); keep the first 64 KiB.
  constexpr std::size_t kMax = 64 * 1024;
  ssize_t n;
  while (text.size() < kMax && (n = ::read(fd, chunk, sizeof chunk)) > 0) {
    text.append(chunk, std::size_t(n));
  }
  ::close(fd);
  if (text.size() > kMax) text.resize(kMax);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  if (text.empty()) return std::nullopt;
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

}  // namespace sockscope
