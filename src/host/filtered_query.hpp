// A query with its filter's states and families folded into the request's own,
// as every socket source needs it. Internal to the host layer.
#pragma once

#include "sockscope/socket_filter.hpp"
#include "sockscope/socket_table.hpp"

namespace sockscope::host_detail {

inline SocketQuery narrowed(const SocketQuery& query) {
  SocketQuery q = query;
  if (const SocketFilter* f = query.filter.get()) {
    q.states &= f->states();
    q.ipv4 = q.ipv4 && f->ipv4();
    q.ipv6 = q.ipv6 && f->ipv6();
  }
  return q;
}

}  // namespace sockscope::host_detail
