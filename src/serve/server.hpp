// `sockscope serve`: one HTTP server over the host views (DESIGN.md, serve/):
//   /metrics         Prometheus text (output/metrics.hpp's families, the
//                    registry's counters, collected at scrape time)
//   /api/sockets     JSON Lines, the records of `sockscope sockets --json`
//   /api/listeners   ... of `sockscope listen --json`
//   /api/ephemeral   ... of `sockscope ephemeral --json`
//   /api/overview    ... of `sockscope --json` (owners only with -p)
//   /events          Server-Sent Events: the connection log (event_feed.hpp)
//   /healthz         "ok"
//   /, /page/NAME    the live page and its files (page.hpp), compiled in
//
//   ServeOptions options;                        // 127.0.0.1:9846, loopback only
//   Server server(options, naming, report);
//   if (auto bound = server.bind(); !bound) fail(bound.error());
//   server.run_until_signalled();                // SIGINT or SIGTERM stop it
//
// Rules: a non-loopback --listen needs allow_remote; the server then answers only
// GET and HEAD (every method but those is refused anyway) and rate-limits each
// client address. Requests with a head over 8 KiB or a body are refused; scans
// run one at a time, and requests that waited for a running collection share it.
// Thread safety: bind() and run*() from one thread; stop() from any.
#pragma once

#include <atomic>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "serve/metrics.hpp"
#include "sockscope/endpoint.hpp"
#include "sockscope/error.hpp"
#include "sockscope/naming.hpp"

namespace sockscope::serve {

inline constexpr Port kDefaultPort = 9846;

struct ServeOptions {
  Endpoint listen = *Endpoint::parse("127.0.0.1:9846");
  bool allow_remote = false;  // required for a non-loopback address
  bool all_namespaces = false;
  bool owners = false;  // pids and commands in /api/* (-p)
  MetricsOptions metrics;
  std::optional<PortRange> host_ephemeral;
  std::size_t max_event_clients = 8;      // /events streams at once; more get 503
  double remote_requests_per_second = 5;  // per client address, with allow_remote
  double remote_burst = 20;
};

// Checks the rules that do not need a socket: a non-loopback address without
// allow_remote is refused, with the fix named.
std::expected<void, Error> check(const ServeOptions& options);

class Server {
 public:
  Server(ServeOptions options, const Naming& naming, ReportFn report = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket (port 0: the kernel chooses; bound() says which).
  std::expected<void, Error> bind();
  const Endpoint& bound() const;
  // Serves until stop().
  void run();
  // Serves until SIGINT or SIGTERM (blocked in the calling thread and its
  // children; one thread waits for them), then stops.
  void run_until_signalled();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockscope::serve
