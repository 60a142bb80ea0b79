// Record kinds of `conversations`: a conversation, the same as a Zeek conn.log
// line (Zeek's own field names), and the --by aggregations.
#pragma once

#include <string>
#include <string_view>

#include "output/schema.hpp"
#include "sockscope/capture.hpp"
#include "sockscope/conversations.hpp"

namespace sockscope::output {

struct ConversationRow {
  ConversationRow(const Conversation& c, std::string_view s) : conversation(c), service(s) {}
  const Conversation& conversation;
  std::string_view service;  // Naming's answer for the server port, "" for none
  // The Community ID, computed once per row (the Zeek uid is made from it too).
  const std::string& community_id() const {
    if (cid_.empty()) cid_ = conversation.community_id();
    return cid_;
  }

 private:
  mutable std::string cid_;
};
extern const RecordKind kConversationKind;
extern const RecordKind kZeekConnKind;  // #path conn

// Zeek-style connection uid: "C" + 17 base62 characters, stable for a record.
std::string zeek_uid(const Conversation& c, std::string_view community_id);
// The same from any two numbers that tell records apart (a socket cookie and netns).
std::string zeek_uid(std::uint64_t first, std::uint64_t salt, std::string_view community_id);

extern const RecordKind kByServiceKind;  // rows: ConversationGroup
extern const RecordKind kByServerKind;
extern const RecordKind kByClientKind;
const RecordKind& group_kind(GroupBy by);

}  // namespace sockscope::output
