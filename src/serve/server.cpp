#include "serve/server.hpp"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <thread>

#include "serve/event_feed.hpp"
#include "serve/page.hpp"
#include "serve/rate_limit.hpp"
#include "serve/views.hpp"

namespace sockscope::serve {
namespace {

constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kJsonLinesType = "application/x-ndjson";
constexpr std::size_t kWorkers = 16;  // request threads beside the event streams

void answer(httplib::Response& res, const std::expected<std::string, Error>& body,
            std::string_view type) {
  if (body) {
    res.set_content(*body, std::string(type));
  } else {
    res.status = 500;
    res.set_content("sockscope: " + body.error().what() + "\n", "text/plain");
  }
}

void refuse(httplib::Response& res, int status, std::string_view why) {
  res.status = status;
  res.set_content(std::string(why) + "\n", "text/plain");
}

}  // namespace

std::expected<void, Error> check(const ServeOptions& o) {
  if (!o.listen.address.is_loopback() && !o.allow_remote) {
    return std::unexpected(Error::at(Error::Code::kPermission,
                                     "not a loopback address; --allow-remote serves other hosts "
                                     "(read-only, rate-limited)",
                                     0, o.listen.to_string()));
  }
  return {};
}

struct Server::Impl {
  ServeOptions options;
  Views views;
  RateLimit limit;
  httplib::Server http;
  Endpoint bound;
  EventFeed feed;
  std::atomic<std::size_t> event_clients{0};

  Impl(ServeOptions o, const Naming& naming, const ReportFn& report)
      : options(std::move(o)),
        views(options, naming, report),
        limit(options.remote_requests_per_second, options.remote_burst),
        feed(log_options(options), naming, views.registry(), report) {}

  static ConnectionLogOptions log_options(const ServeOptions& o) {
    ConnectionLogOptions lo;
    lo.all_namespaces = o.all_namespaces;
    lo.owners = o.owners;
    lo.host_ephemeral = o.host_ephemeral;
    // Closes come from the kernel's destroy messages at once (and opens from the
    // tracepoint as root); the re-dump finds opens without it. Every 10 s keeps
    // an idle server's cost low on a host with tens of thousands of sockets.
    lo.redump_interval = std::chrono::seconds(10);
    // The tracer's ring is resident twice over (16 MiB at the log's 8 MiB): 2 MiB
    // holds ~13,800 state changes (152 bytes each; a connection makes about five)
    // between two reads, which follow each wake-up; a longer burst loses records,
    // counted and recovered by the next re-dump.
    lo.tracer_ring_bytes = std::size_t{2} << 20;
    return lo;
  }
  void routes();
  void events(const httplib::Request& req, httplib::Response& res);
  httplib::Server::HandlerResponse gate(const httplib::Request& req, httplib::Response& res);
};

// Before routing: only GET and HEAD (the server changes nothing), no request
// bodies, and with --allow-remote each client address's rate.
httplib::Server::HandlerResponse Server::Impl::gate(const httplib::Request& req,
                                                    httplib::Response& res) {
  using R = httplib::Server::HandlerResponse;
  if (req.method != "GET" && req.method != "HEAD") {
    res.set_header("Allow", "GET, HEAD");
    refuse(res, 405, "sockscope serve is read-only: GET and HEAD only");
    return R::Handled;
  }
  // Checked on the headers: httplib reads a GET's body only after routing.
  if (!req.body.empty() || req.has_header("Transfer-Encoding") ||
      (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
    res.set_header("Connection", "close");  // the unread body must not be taken as a request
    refuse(res, 413, "requests carry no body");
    return R::Handled;
  }
  if (options.allow_remote && !limit.allow(req.remote_addr)) {
    res.set_header("Retry-After", "1");
    refuse(res, 429, "too many requests from " + req.remote_addr);
    return R::Handled;
  }
  return R::Unhandled;
}

void Server::Impl::routes() {
  http.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return gate(req, res); });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, views.metrics(), kMetricsType);
  });
  http.Get("/api/sockets", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, views.sockets(false), kJsonLinesType);
  });
  http.Get("/api/listeners", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, views.sockets(true), kJsonLinesType);
  });
  http.Get("/api/ephemeral", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, views.ephemeral(), kJsonLinesType);
  });
  http.Get("/api/overview", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, views.overview(), kJsonLinesType);
  });
  http.Get("/events",
           [this](const httplib::Request& req, httplib::Response& res) { events(req, res); });
  add_page_routes(http);
  // Unknown paths (404) and what httplib itself refused (400 malformed, 413, 414,
  // 431 oversized) get a line saying so.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404
                                 ? "no such path: " + req.path
                                 : "request refused (" + std::to_string(res.status) + ")";
    res.set_content(what + "\n", "text/plain");
  });
  http.set_payload_max_length(0);
  http.set_read_timeout(5);
  // A keep-alive connection holds a worker thread: after 5 requests it closes,
  // so a crowd of clients takes turns instead of waiting behind the first ones.
  http.set_keep_alive_max_count(5);
  http.set_write_timeout(5);
  const std::size_t threads = kWorkers + options.max_event_clients;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

// /events: Server-Sent Events, one per connection-log event (`id`, `event` the
// kind, `data` the JSON of `watch --json`); `Last-Event-ID` resumes; a comment
// line every 5 s when idle (a gone client is noticed then); at most max_event_clients streams (503
// beyond).
void Server::Impl::events(const httplib::Request& req, httplib::Response& res) {
  if (event_clients.fetch_add(1) >= options.max_event_clients) {
    event_clients.fetch_sub(1);
    res.set_header("Retry-After", "5");
    refuse(res, 503,
           "too many event streams (" + std::to_string(options.max_event_clients) +
               ", --max-event-clients)");
    return;
  }
  struct Cursor {
    std::uint64_t next = 0;
    bool greeted = false;
  };
  const std::uint64_t newest = feed.newest();
  auto cursor = std::make_shared<Cursor>(Cursor{newest + 1});
  if (req.has_header("Last-Event-ID")) {
    const std::string id = req.get_header_value("Last-Event-ID");
    std::uint64_t n = 0;
    if (std::from_chars(id.data(), id.data() + id.size(), n).ec == std::errc() && n < newest) {
      cursor->next = n + 1;
    }
  }
  res.set_header("Cache-Control", "no-store");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, cursor](std::size_t, httplib::DataSink& sink) {
        std::string out;
        if (!cursor->greeted) {  // the head goes out with the first bytes: at once
          cursor->greeted = true;
          out = "retry: 2000\n: sockscope's connection log\n\n";
          return sink.write(out.data(), out.size());
        }
        EventFeed::Batch b = feed.wait(cursor->next, std::chrono::seconds(5));
        if (b.missed) {
          out += "event: lost\ndata: {\"events_lost\":" + std::to_string(b.missed) + "}\n\n";
        }
        for (std::size_t i = 0; i < b.lines.size(); ++i) {
          out += "id: " + std::to_string(b.first + i) + "\nevent: " + b.kinds[i] +
                 "\ndata: " + b.lines[i] + "\n\n";
        }
        cursor->next = b.first + b.lines.size();
        if (out.empty()) out = ": idle\n\n";
        if (!sink.write(out.data(), out.size())) return false;
        return !(b.stopped && b.lines.empty());
      },
      [this](bool) { event_clients.fetch_sub(1); });
}

Server::Server(ServeOptions options, const Naming& naming, ReportFn report)
    : impl_(std::make_unique<Impl>(std::move(options), naming, std::move(report))) {
  impl_->routes();
}

Server::~Server() = default;

std::expected<void, Error> Server::bind() {
  if (auto ok = check(impl_->options); !ok) return ok;
  const Endpoint& at = impl_->options.listen;
  const std::string host = at.address.to_string();
  int port = at.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(host);
    if (port < 0) port = 0;
  } else if (!impl_->http.bind_to_port(host, port)) {
    port = 0;
  }
  if (port == 0) {
    return std::unexpected(Error::at(Error::Code::kIo,
                                     "cannot listen there (in use, or not this host's address)", 0,
                                     at.to_string()));
  }
  impl_->bound = Endpoint{at.address, Port(port)};
  return {};
}

const Endpoint& Server::bound() const { return impl_->bound; }

void Server::run() {
  impl_->feed.start();
  impl_->http.listen_after_bind();
  impl_->feed.stop();
}

void Server::stop() {
  impl_->feed.stop();  // ends the event streams, so the server's threads can end
  impl_->http.stop();
}

void Server::run_until_signalled() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // the server's threads inherit it
  std::atomic<bool> running{true};
  std::thread waiter([&] {
    const timespec tick{0, 200'000'000};
    while (running.load()) {
      if (sigtimedwait(&signals, nullptr, &tick) > 0) {
        stop();
        return;
      }
    }
  });
  run();
  running = false;
  waiter.join();
}

}  // namespace sockscope::serve
