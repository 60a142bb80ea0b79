// Facts about owners beyond the socket scan: user names and command lines, read
// only for the rows that show them.
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <mutex>
#include <unordered_map>

#include "sockscope/process_owners.hpp"

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
