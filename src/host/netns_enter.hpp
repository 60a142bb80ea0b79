// Doing something inside another network namespace: setns() changes only the
// calling thread's namespace, so the work runs on a helper thread that enters the
// namespace and ends right after; the caller's thread stays where it was. What the
// work opens there (a sock_diag socket) keeps working in that namespace from any
// thread; what it reads there (/proc/sys/net, resolved per thread) is that
// namespace's. Entering needs CAP_SYS_ADMIN.
#pragma once

#include <expected>
#include <functional>

#include "sockscope/error.hpp"
#include "sockscope/netns.hpp"

namespace sockscope::host_detail {

// Runs `work` on a thread inside `ns` (on the caller's thread when ns.current).
// An error when the namespace cannot be opened or entered (work did not run).
std::expected<void, Error> in_namespace(const NetworkNamespace& ns,
                                        const std::function<void()>& work);

}  // namespace sockscope::host_detail
