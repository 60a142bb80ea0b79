// Socket state names, as ss prints them, and their parsing for --state.
#include <algorithm>
#include <cctype>
#include <string>

#include "sockscope/socket_table.hpp"

namespace sockscope {
namespace {

struct StateName {
  std::string_view text;
  SocketState state;
};

// Accepted spellings, compared after lower-casing and mapping '_' to '-'.
constexpr StateName kNames[] = {
    {"estab", SocketState::kEstablished},    {"established", SocketState::kEstablished},
    {"syn-sent", SocketState::kSynSent},     {"syn-recv", SocketState::kSynRecv},
    {"syn-received", SocketState::kSynRecv}, {"fin-wait-1", SocketState::kFinWait1},
    {"fin-wait-2", SocketState::kFinWait2},  {"time-wait", SocketState::kTimeWait},
    {"unconn", SocketState::kClose},         {"unconnected", SocketState::kClose},
    {"close", SocketState::kClose},          {"closed", SocketState::kClose},
    {"close-wait", SocketState::kCloseWait}, {"last-ack", SocketState::kLastAck},
    {"listen", SocketState::kListen},        {"listening", SocketState::kListen},
    {"closing", SocketState::kClosing},
};

}  // namespace

std::string_view to_string(SocketState state) {
  switch (state) {
    case SocketState::kEstablished: return "ESTAB";
    case SocketState::kSynSent: return "SYN-SENT";
    case SocketState::kSynRecv: return "SYN-RECV";
    case SocketState::kFinWait1: return "FIN-WAIT-1";
    case SocketState::kFinWait2: return "FIN-WAIT-2";
    case SocketState::kTimeWait: return "TIME-WAIT";
    case SocketState::kClose: return "UNCONN";
    case SocketState::kCloseWait: return "CLOSE-WAIT";
    case SocketState::kLastAck: return "LAST-ACK";
    case SocketState::kListen: return "LISTEN";
    case SocketState::kClosing: return "CLOSING";
  }
  return "UNKNOWN";
}

std::string_view to_string(SocketTimer timer) {
  switch (timer) {
    case SocketTimer::kNone: return "off";
    case SocketTimer::kRetransmit: return "on";
    case SocketTimer::kKeepalive: return "keepalive";
    case SocketTimer::kTimeWait: return "timewait";
    case SocketTimer::kProbe: return "persist";
  }
  return "unknown";
}

std::expected<SocketState, Error> parse_socket_state(std::string_view text) {
  std::string key(text);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : char(std::tolower(c)); });
  for (const auto& n : kNames) {
    if (n.text == key) return n.state;
  }
  return std::unexpected(Error::at(Error::Code::kBadSyntax,
                                   "unknown socket state (try established, listen, time-wait, "
                                   "syn-sent, syn-recv, fin-wait-1, fin-wait-2, close-wait, "
                                   "last-ack, closing, unconn)",
                                   1, text));
}

}  // namespace sockscope
