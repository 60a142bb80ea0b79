// In the lean `sockscope`: `serve` and --format prometheus run in sockscope-serve,
// the same CLI linked with cpp-httplib and prometheus-cpp (shared C++ libraries,
// so a shared libstdc++). Keeping them out of this binary keeps every other
// command's start-up as it was (static libstdc++, no OpenSSL to load).
#include <unistd.h>

#include <climits>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/serve_flags.hpp"

namespace sockscope::cli {
namespace {

// sockscope-serve beside this binary (the build tree), or in its libexec folder
// (installed); "" when neither exists.
std::string full_binary() {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  std::string dir(self, std::size_t(n));
  dir.erase(dir.rfind('/'));
  for (const std::string& candidate :
       {dir + "/sockscope-serve", dir + "/" SOCKSCOPE_LIBEXEC_FROM_BIN "/sockscope-serve"}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Runs sockscope-serve with this process's own arguments; returns only on failure.
int hand_over(Context& ctx) {
  const std::string binary = full_binary();
  if (binary.empty()) {
    ctx.error("sockscope-serve (the server's binary) is not installed beside sockscope");
    return kExitRuntime;
  }
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\0', start);
    args.push_back(text.substr(start, end - start));
    start = end == std::string::npos ? text.size() : end + 1;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ctx.out.flush();
  ::execv(binary.c_str(), argv.data());
  ctx.error("cannot run " + binary);
  return kExitRuntime;
}

}  // namespace

int run_serve(Context& ctx, const ServeFlags&) { return hand_over(ctx); }
int write_prometheus(Context& ctx, unsigned, bool) { return hand_over(ctx); }

}  // namespace sockscope::cli
