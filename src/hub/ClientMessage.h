#pragma once
// The client-to-server messages of PROTOCOL.md, parsed. Parsing is on the
// path of every client message: simdjson, no exceptions escaping, a clear
// error naming what was wrong. The server's messages are ServerMessages.h.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::hub {

enum class ClientOp { Subscribe, Unsubscribe, Ping, Auth, Resume };

struct ClientMessage {
  ClientOp op = ClientOp::Ping;
  std::optional<int64_t> id;                            // echoed on the answer when present
  std::vector<std::string> channels;                    // subscribe, unsubscribe
  std::vector<std::pair<std::string, uint64_t>> since;  // subscribe, resume: channel -> seq
  std::string token;                                    // auth
  std::string session;                                  // resume
  std::string resume;                                   // resume
};

struct ClientMessageError {
  std::string code;           // BAD_REQUEST or UNKNOWN_OP (PROTOCOL.md)
  std::string message;        // what was wrong: "field 'channels' must be an array of strings"
  std::optional<int64_t> id;  // the message's id, if it could be read
};

// Parses one client text message. Rules: a JSON object; "op" a string, one
// of subscribe, unsubscribe, ping, auth, resume (else UNKNOWN_OP); "id", when
// present, an integer; subscribe/unsubscribe: "channels" a non-empty array
// of strings (at most maxChannels entries, else BAD_REQUEST); subscribe's
// optional "since" an object of channel -> non-negative integer; auth:
// "token" a non-empty string; resume: "session" and "resume" strings, and
// the same optional "since" as subscribe.
// Unknown fields are ignored (PROTOCOL.md). Channel names are not validated
// here (the hub answers INVALID_CHANNEL per channel).
bool parseClientMessage(std::string_view text, size_t maxChannels, ClientMessage& out,
                        ClientMessageError& error);

// The fast path of parseClientMessage: owns the simdjson parser and its
// buffers, so parsing allocates nothing once they fit the largest message
// seen. One per worker (not thread-safe); parseClientMessage builds one per call.
class ClientMessageParser {
 public:
  ClientMessageParser();
  ~ClientMessageParser();
  ClientMessageParser(ClientMessageParser&&) noexcept;
  ClientMessageParser& operator=(ClientMessageParser&&) noexcept;

  // Same rules and results as parseClientMessage.
  bool parse(std::string_view text, size_t maxChannels, ClientMessage& out,
             ClientMessageError& error);

 private:
  struct Impl;  // keeps simdjson.h out of this header
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsr::hub
