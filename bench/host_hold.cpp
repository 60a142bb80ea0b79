// Holds N loopback TCP connections (both ends) for bench/host_sockets.sh:
//   bench_host_hold ADDRESS PORT N READY_FILE
// listens on ADDRESS:PORT, connects N clients to it (kernel-chosen source
// ports), accepts them, writes READY_FILE and sleeps until killed. One process
// holds at most ~9,900 connections on machines limited to 20,000 descriptors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ADDRESS PORT N READY_FILE\n", argv[0]);
    return 2;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  const long n = std::atol(argv[3]);
  if (2 * n + 16 > long(lim.rlim_cur)) {
    std::fprintf(stderr, "%ld connections need %ld descriptors; the limit is %ld\n", n, 2 * n + 16,
                 long(lim.rlim_cur));
    return 2;
  }
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(std::atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &at.sin_addr) != 1) return 2;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      listen(listener, 4096) != 0) {
    std::perror("listen");
    return 1;
  }
  // Closing with linger 0 resets instead of leaving TIME_WAIT behind, so one
  // round's sockets do not linger into the next round's counts.
  const linger reset{1, 0};
  for (long i = 0; i < n; ++i) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
      std::perror("connect");
      return 1;
    }
    int a = accept(listener, nullptr, nullptr);
    if (a < 0) {
      std::perror("accept");
      return 1;
    }
    setsockopt(c, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    setsockopt(a, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  if (FILE* f = std::fopen(argv[4], "w")) std::fclose(f);
  pause();
  return 0;
}
