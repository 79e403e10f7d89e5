#pragma once
// The server-to-client messages of PROTOCOL.md, each one JSON object: the
// control messages (welcome, subscribed, gap, error...), each built in one
// reserved string, and the data envelope, built once per publication
// straight into its frame.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::hub {

// Server-to-client messages, each one JSON object, strings escaped.
std::string welcomeMessage(std::string_view session, std::string_view resume, uint32_t heartbeatMs,
                           int64_t serverTimeMs);
std::string subscribedMessage(std::optional<int64_t> id, std::string_view channel, uint64_t seq,
                              std::optional<bool> recovered);
std::string unsubscribedMessage(std::optional<int64_t> id, std::string_view channel);
std::string pongMessage(std::optional<int64_t> id, int64_t serverTimeMs);
// The answer to an accepted `auth` op (an extension of PROTOCOL.md):
// {"type":"authenticated","id":4,"expires_at":1763790000}, expires_at in Unix
// seconds and left out for a token that does not expire.
std::string authenticatedMessage(std::optional<int64_t> id, int64_t expiresAt);
// `resume` succeeded: the old session's channels, each answered next with
// its own `subscribed` (and replay), under the same id.
std::string resumedMessage(std::optional<int64_t> id, std::string_view session,
                           const std::vector<std::string>& channels);
std::string errorMessage(std::optional<int64_t> id, std::string_view code,
                         std::string_view message);
std::string gapMessage(std::string_view channel, uint64_t from, uint64_t to,
                       std::string_view reason);

// The data message envelope, built once per publication:
// {"type":<type>,"channel":<channel>,"seq":<seq>,"ts":<ts>,"data":<data>}
// with `data` copied byte for byte (it is valid JSON already).
//
// Measured first, then written: the hub writes it straight into the frame's
// payload (ws::allocateFrame), so the envelope is never a string of its own.
// The views must outlive it.
class DataEnvelope {
 public:
  DataEnvelope(std::string_view type, std::string_view channel, uint64_t seq, int64_t tsMs,
               std::string_view data);

  // Exactly the bytes writeTo() writes.
  size_t size() const { return size_; }
  // Writes the envelope at `out`, which has room for size() bytes.
  void writeTo(char* out) const;

 private:
  // A JSON string: `plain` between quotes when it needs no escaping
  // (always so under the publish API's type and channel rules), else
  // `escaped`, quotes included, made once by the program's one escaper.
  struct Quoted {
    explicit Quoted(std::string_view text);
    size_t size() const { return escaped.empty() ? plain.size() + 2 : escaped.size(); }
    char* writeTo(char* out) const;

    std::string_view plain;
    std::string escaped;
  };

  Quoted type_;
  Quoted channel_;
  uint64_t seq_;
  int64_t tsMs_;
  std::string_view data_;
  size_t size_;
};

// The envelope as a string (tests, tools).
std::string dataMessage(std::string_view type, std::string_view channel, uint64_t seq, int64_t tsMs,
                        std::string_view data);

}  // namespace wsr::hub
