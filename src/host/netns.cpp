// Finding network namespaces, and opening a sock_diag socket (or doing other
// work) inside one.
#include "sockscope/netns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <thread>

#include "host/netns_enter.hpp"

namespace sockscope {
namespace {

// Calls fn(name) for each entry of a directory (skipping dot entries).
template <typename Fn>
bool each_name(const std::string& dir, Fn&& fn) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    fn(std::string(e->d_name));
  }
  ::closedir(d);
  return true;
}

}  // namespace

std::string NetworkNamespace::label() const {
  return name.empty() ? "net:[" + std::to_string(inode) + "]" : name;
}

std::vector<NetworkNamespace> list_network_namespaces(std::vector<Error>* warnings,
                                                      const std::string& proc,
                                                      const std::string& run_netns) {
  std::map<std::uint64_t, NetworkNamespace> found;
  const std::uint64_t current = current_netns();
  std::vector<std::string> unreadable;  // which references could not be read
  // Named ones first, so their path is the stable /run/netns file.
  each_name(run_netns, [&](const std::string& name) {
    struct stat st;
    std::string path = run_netns + "/" + name;
    if (::stat(path.c_str(), &st) != 0) {
      unreadable.push_back(name);
      return;
    }
    auto& ns = found[st.st_ino];
    if (ns.name.empty()) {
      ns.inode = st.st_ino;
      ns.name = name;
      ns.path = path;
    }
  });
  each_name(proc, [&](const std::string& pid) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) return;
    struct stat st;
    std::string path = proc + "/" + pid + "/ns/net";
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == EACCES || errno == EPERM) unreadable.push_back("pid " + pid);
      return;
    }
    auto& ns = found[st.st_ino];
    if (ns.path.empty()) {
      ns.inode = st.st_ino;
      ns.path = path;
    }
  });
  if (warnings && !unreadable.empty()) {
    // Named: the /run/netns names, else the processes whose namespace it was.
    constexpr std::size_t kNamed = 5;
    std::string which;
    for (std::size_t i = 0; i < unreadable.size() && i < kNamed; ++i) {
      which += (i ? ", " : "") + unreadable[i];
    }
    if (unreadable.size() > kNamed) {
      which += " and " + std::to_string(unreadable.size() - kNamed) + " more";
    }
    Error e = Error::io("network namespaces not readable (permission): " + which + " (under " +
                        run_netns + " or " + proc +
                        "); sockets of namespaces reachable only through them are not shown");
    e.code = Error::Code::kPermission;
    warnings->push_back(std::move(e));
  }
  std::vector<NetworkNamespace> out;
  out.reserve(found.size() + 1);
  if (!found.count(current)) {
    out.push_back({current, "", "/proc/thread-self/ns/net", true});
  }
  for (auto& [inode, ns] : found) {
    ns.current = inode == current;
    out.push_back(std::move(ns));
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const NetworkNamespace& n) { return n.current; });
  return out;
}

std::optional<bool> in_init_network_namespace(const std::string& proc) {
  struct stat st;
  if (::stat((proc + "/1/ns/net").c_str(), &st) != 0) return std::nullopt;
  return std::uint64_t(st.st_ino) == current_netns();
}

NetworkNamespace current_network_namespace(const std::string& run_netns) {
  NetworkNamespace ns{current_netns(), "", "/proc/thread-self/ns/net", true};
  each_name(run_netns, [&](const std::string& name) {
    struct stat st;
    if (ns.name.empty() && ::stat((run_netns + "/" + name).c_str(), &st) == 0 &&
        st.st_ino == ns.inode) {
      ns.name = name;
    }
  });
  return ns;
}

namespace host_detail {

std::expected<void, Error> in_namespace(const NetworkNamespace& ns,
                                        const std::function<void()>& work) {
  if (ns.current) {
    work();
    return {};
  }
  int err = 0;
  std::string step;
  std::thread helper([&] {
    int nsfd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
      err = errno;
      step = "open " + ns.path;
      return;
    }
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
      err = errno;
      step = "enter network namespace " + ns.label() + " (setns)";
      ::close(nsfd);
      return;
    }
    ::close(nsfd);
    work();
  });
  helper.join();
  if (err != 0) return std::unexpected(Error::os(step, err));
  return {};
}

}  // namespace host_detail

std::expected<std::unique_ptr<SocketSource>, Error> open_socket_source_in(
    const NetworkNamespace& ns) {
  if (ns.current) return open_netlink_source();
  int sock = -1;
  int err = 0;
  auto entered = host_detail::in_namespace(ns, [&] {
    sock = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (sock < 0) err = errno;
  });
  if (!entered) return std::unexpected(entered.error());
  if (sock < 0) return std::unexpected(Error::os("NETLINK_SOCK_DIAG socket in " + ns.label(), err));
  return open_netlink_source(sock, ns.inode);
}

}  // namespace sockscope
