// Dumps this host's TCP sockets through an ss filter expression, one line per
// socket (like `ss -tanH EXPR`), for bench/host_filter.sh to time against ss:
//   bench_host_filter [--user-space] WORDS...
// --user-space: dump everything and apply SocketFilter::matches() here, to show
// what sending the bytecode to the kernel saves.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sockscope/socket_filter.hpp"

int main(int argc, char** argv) {
  using namespace sockscope;
  bool user_space = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--user-space") == 0)
      user_space = true;
    else
      words.push_back(argv[i]);
  }
  auto filter = SocketFilter::parse(words, Registry::builtin());
  if (!filter) {
    std::fprintf(stderr, "%s\n", filter.error().what().c_str());
    return 2;
  }
  auto source = open_netlink_source();
  if (!source) {
    std::fprintf(stderr, "%s\n", source.error().what().c_str());
    return 3;
  }
  SocketQuery query;
  query.transports = {Transport::kTcp};
  if (!user_space) query.filter = std::make_shared<const SocketFilter>(*filter);
  std::string out;
  out.reserve(1 << 20);
  char local[Endpoint::kMaxTextSize], remote[Endpoint::kMaxTextSize];
  auto stats = (*source)->dump(query, [&](const SocketRecord& r) {
    if (user_space && !filter->matches(r)) return;
    out.append(to_string(r.state)).append(" ");
    out.append(local, r.local.format(local)).append(" ");
    out.append(remote, r.remote.format(remote)).append("\n");
    if (out.size() > (1 << 20) - 512) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  });
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!stats) {
    std::fprintf(stderr, "%s\n", stats.error().what().c_str());
    return 3;
  }
  return 0;
}
