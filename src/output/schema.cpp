#include "output/schema.hpp"

namespace sockscope::output {

std::string_view to_string(Type type) {
  switch (type) {
    case Type::kString: return "string";
    case Type::kCount: return "count";
    case Type::kInteger: return "integer";
    case Type::kNumber: return "number";
    case Type::kBool: return "bool";
    case Type::kTime: return "time";
    case Type::kDuration: return "duration";
    case Type::kAddress: return "address";
    case Type::kPort: return "port";
    case Type::kEndpoint: return "endpoint";
    case Type::kStrings: return "strings";
    case Type::kRecords: return "records";
    case Type::kCounts: return "counts";
  }
  return "?";
}

std::string_view to_string(Unit unit) {
  switch (unit) {
    case Unit::kNone: return "";
    case Unit::kBytes: return "bytes";
    case Unit::kPackets: return "packets";
    case Unit::kSeconds: return "seconds";
    case Unit::kPercent: return "percent";
    case Unit::kPorts: return "ports";
    case Unit::kSockets: return "sockets";
    case Unit::kConnections: return "connections";
    case Unit::kConversations: return "conversations";
    case Unit::kHosts: return "hosts";
    case Unit::kProcesses: return "processes";
    case Unit::kMicroseconds: return "microseconds";
    case Unit::kMilliseconds: return "milliseconds";
    case Unit::kSegments: return "segments";
    case Unit::kBytesPerSecond: return "bytes per second";
  }
  return "?";
}

}  // namespace sockscope::output
