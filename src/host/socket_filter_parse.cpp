// The filter language's parser: words -> tokens (split at blanks, parentheses
// peeled off) -> states, then a recursive descent over ss's grammar, where
// `and`, `or` and juxtaposition have equal precedence and group left to right.
// Written here rather than generated: the grammar is a dozen rules, and errors
// must carry the word and its column. Standard library only (fuzzed).
#include <algorithm>
#include <cctype>
#include <string>

#include "host/socket_filter_ast.hpp"
#include "host/socket_filter_terms.hpp"

namespace sockscope {
namespace filter_detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct StateWord {
  std::string_view name;
  StateMask mask;
};

constexpr StateMask bit(SocketState s) { return state_bit(s); }
constexpr StateMask kClosedListen = bit(SocketState::kClose) | bit(SocketState::kListen);
constexpr StateMask kBucket = bit(SocketState::kSynRecv) | bit(SocketState::kTimeWait);

// ss's scan_state(): the groups and its own spellings, compared case-insensitively.
constexpr StateWord kStateWords[] = {
    {"all", kAllStates},
    {"connected", kAllStates & ~kClosedListen},
    {"synchronized", kAllStates & ~kClosedListen & ~bit(SocketState::kSynSent)},
    {"bucket", kBucket},
    {"big", kAllStates & ~kBucket},
    {"syn-rcv", bit(SocketState::kSynRecv)},
};

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool one_of(std::string_view word, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), word) != names.end();
}

class Parser {
 public:
  Parser(const Registry& names, const SocketFilterOptions& options, Filter& out)
      : terms_(names, options, out), out_(out) {}

  std::expected<void, Error> run(std::string_view text) {
    tokens_ = tokenize(text);
    if (auto s = states(); !s) return s;
    if (pos_ == tokens_.size()) return {};
    auto root = list(0);
    if (!root) return std::unexpected(root.error());
    if (pos_ < tokens_.size()) {
      return fail(Error::Code::kBadSyntax, "')' without a matching '('", tokens_[pos_]);
    }
    out_.root = *root;
    return {};
  }

 private:
  std::expected<void, Error> states() {
    bool seen = false;
    while (pos_ < tokens_.size() && one_of(tokens_[pos_].text, {"state", "exclude", "excl"})) {
      const Token& keyword = tokens_[pos_++];
      if (pos_ == tokens_.size()) {
        return fail(Error::Code::kBadSyntax, "a state name must follow", keyword);
      }
      auto mask = state_mask(tokens_[pos_]);
      if (!mask) return std::unexpected(mask.error());
      ++pos_;
      if (keyword.text == "state") {
        out_.states = (seen ? out_.states : 0) | *mask;
      } else {
        out_.states = (seen ? out_.states : kAllStates) & ~*mask;
      }
      seen = out_.states_given = true;
    }
    return {};
  }

  std::expected<StateMask, Error> state_mask(const Token& t) {
    for (const auto& w : kStateWords) {
      if (iequal(t.text, w.name)) return w.mask;
    }
    if (auto s = parse_socket_state(t.text)) return bit(*s);
    return fail(Error::Code::kBadSyntax,
                "unknown state (try established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, "
                "time-wait, closed, close-wait, last-ack, listening, closing, or a group: all, "
                "connected, synchronized, bucket, big)",
                t);
  }

  // exprlist: expr { [and|or] expr }, up to ')' or the end.
  std::expected<int, Error> list(int depth) {
    auto acc = term(depth);
    if (!acc) return acc;
    while (pos_ < tokens_.size() && tokens_[pos_].text != ")") {
      Kind op = Kind::kAnd;
      const Token& at = tokens_[pos_];
      if (one_of(at.text, {"or", "||", "|"})) {
        op = Kind::kOr;
        ++pos_;
      } else if (one_of(at.text, {"and", "&&", "&"})) {
        ++pos_;
      }
      if (pos_ == tokens_.size() || tokens_[pos_].text == ")") {
        return fail(Error::Code::kBadSyntax, "a filter term must follow", at);
      }
      auto next = term(depth);
      if (!next) return next;
      auto joined = terms_.join(op, *acc, *next);
      if (terms_.depth(joined) > kMaxDepth) {
        return fail(Error::Code::kOutOfRange, "expression nested too deeply", at);
      }
      acc = joined;
    }
    return acc;
  }

  std::expected<int, Error> term(int depth) {
    const Token& t = tokens_[pos_];
    if (depth > kMaxDepth) return fail(Error::Code::kOutOfRange, "expression nested too deeply", t);
    ++pos_;
    if (t.text == "(") {
      if (pos_ < tokens_.size() && tokens_[pos_].text == ")") {
        return fail(Error::Code::kBadSyntax, "empty parentheses", t);
      }
      if (pos_ == tokens_.size()) return fail(Error::Code::kTruncated, "'(' is never closed", t);
      auto inner = list(depth + 1);
      if (!inner) return inner;
      if (pos_ == tokens_.size()) return fail(Error::Code::kTruncated, "'(' is never closed", t);
      ++pos_;  // ')'
      return inner;
    }
    if (one_of(t.text, {"not", "!"})) {
      if (pos_ == tokens_.size() || tokens_[pos_].text == ")") {
        return fail(Error::Code::kBadSyntax, "a filter term must follow", t);
      }
      auto inner = term(depth + 1);
      if (!inner) return inner;
      return terms_.negate(*inner);
    }
    if (t.text == "autobound") return terms_.autobound();
    if (t.text == "sport" || t.text == "dport") return port_term(t, t.text == "sport");
    if (t.text == "src" || t.text == "dst") return host_term(t, t.text == "src");
    if (one_of(t.text, {"dev", "fwmark", "cgroup"})) {
      std::string message(t.text);
      message += " filters are not supported by sockscope";
      return fail(Error::Code::kUnsupported, std::move(message), t);
    }
    if (t.text == ")") return fail(Error::Code::kBadSyntax, "')' without a matching '('", t);
    return fail(Error::Code::kBadSyntax, "expected sport, dport, src, dst, autobound, not or '('",
                t);
  }

  // The operator after sport/dport/src/dst, if one is there.
  std::optional<Compare> compare() {
    if (pos_ == tokens_.size()) return std::nullopt;
    std::string_view w = tokens_[pos_].text;
    std::optional<Compare> c;
    if (one_of(w, {"=", "==", "eq"}))
      c = Compare::kEq;
    else if (one_of(w, {"!=", "ne", "neq"}))
      c = Compare::kNe;
    else if (one_of(w, {"<", "lt"}))
      c = Compare::kLt;
    else if (one_of(w, {"<=", "le", "leq"}))
      c = Compare::kLe;
    else if (one_of(w, {">", "gt"}))
      c = Compare::kGt;
    else if (one_of(w, {">=", "ge", "geq"}))
      c = Compare::kGe;
    if (c) ++pos_;
    return c;
  }

  std::expected<int, Error> port_term(const Token& keyword, bool local) {
    const Compare c = compare().value_or(Compare::kEq);
    if (pos_ == tokens_.size()) {
      return fail(Error::Code::kMissingPort, "a port must follow (e.g. :443 or :https)", keyword);
    }
    const Token& value = tokens_[pos_++];
    return terms_.port(local, c, value.text, value.column);
  }

  std::expected<int, Error> host_term(const Token& keyword, bool local) {
    const std::size_t op_at = pos_;
    const Compare c = compare().value_or(Compare::kEq);
    if (c != Compare::kEq && c != Compare::kNe) {
      return fail(Error::Code::kBadSyntax,
                  "src and dst compare with = or != only (ports: sport, dport)", tokens_[op_at]);
    }
    if (pos_ == tokens_.size()) {
      return fail(Error::Code::kEmpty, "an address must follow (e.g. 10.0.0.0/8 or [::1]:443)",
                  keyword);
    }
    const Token& value = tokens_[pos_++];
    auto host = terms_.host(local, value.text, value.column);
    if (!host || c == Compare::kEq) return host;
    return terms_.negate(*host);
  }

  std::unexpected<Error> fail(Error::Code code, std::string message, const Token& t) const {
    return std::unexpected(Error::at(code, std::move(message), t.column, t.text));
  }

  Terms terms_;
  Filter& out_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !is_blank(text[i])) ++i;
    std::size_t b = start, e = i;
    for (; b < e && text[b] == '('; ++b) out.push_back({text.substr(b, 1), b + 1});
    std::size_t closing = e;
    while (closing > b && text[closing - 1] == ')') --closing;
    if (b < closing) out.push_back({text.substr(b, closing - b), b + 1});
    for (std::size_t k = closing; k < e; ++k) out.push_back({text.substr(k, 1), k + 1});
  }
  return out;
}

std::expected<void, Error> parse_into(std::string_view text, const Registry& names,
                                      const SocketFilterOptions& options, Filter& out) {
  Parser parser(names, options, out);
  return parser.run(text);
}

}  // namespace filter_detail
}  // namespace sockscope
