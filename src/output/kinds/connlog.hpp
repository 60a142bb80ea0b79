// Record kinds of `watch` (the connection log, connection_log.hpp): an event,
// the same as a line of a Zeek-style conn.log (Zeek's field names, for joining
// a network sensor's conn.log on community_id), and the summary at exit.
#pragma once

#include <string>

#include "output/schema.hpp"
#include "sockscope/connection_log.hpp"

namespace sockscope::output {

struct ConnectionEventRow {
  explicit ConnectionEventRow(const ConnectionEvent& e) : event(e) {}
  const ConnectionEvent& event;
  // The Community ID, once per row ("" without a peer).
  const std::string& community_id() const;

 private:
  mutable std::string cid_;
  mutable bool cid_done_ = false;
};
extern const RecordKind kConnectionEventKind;  // JSON "event": open, close, listen, unlisten
// A process of an event: {pid, command, cmdline, uid}; as text "curl[4242]".
extern const RecordKind kConnectionOwnerKind;
// One close as a Zeek conn.log line: originator = the client side of the pair.
extern const RecordKind kZeekHostConnKind;

struct ConnectionSummaryRow {
  const ConnectionLogSummary& summary;
};
extern const RecordKind kConnectionSummaryKind;  // JSON "event": "summary"

}  // namespace sockscope::output
