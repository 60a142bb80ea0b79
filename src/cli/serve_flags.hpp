// `sockscope serve`'s options, shared by the two binaries: `sockscope` (lean,
// static libstdc++) hands serve and --format prometheus to `sockscope-serve`,
// the same CLI linked with the server's shared C++ libraries (serve_exec.cpp).
#pragma once

#include <cstddef>
#include <string>

#include "cli/context.hpp"

namespace sockscope::cli {

struct ServeFlags {
  std::string listen = "127.0.0.1:9846";
  bool allow_remote = false, all_netns = false, processes = false;
  std::size_t metrics_top = 20;
  double metrics_min_ratio = 50;  // percent
  std::size_t max_event_clients = 8;
};

// Runs the server (serve_run.cpp), or hands the command to sockscope-serve
// (serve_exec.cpp).
int run_serve(Context& ctx, const ServeFlags& flags);

}  // namespace sockscope::cli
