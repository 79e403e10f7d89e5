#pragma once
// Reading the bodies of POST /api/v1/publish and /api/v1/publish/batch
// (PROTOCOL.md, "Publishing"). Pure functions of the body text, so every
// validation rule is tested without a server.
//
// The body is first validated as a whole with simdjson's DOM parser (which,
// unlike On-Demand, checks every value), then read with On-Demand, whose
// raw_json() gives `data` as the publisher's exact bytes: "data":{"a": 1.50}
// reaches clients as {"a": 1.50}, spaces and number spelling untouched.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "hub/PublishSink.h"

namespace wsr::admin {

inline constexpr size_t kMaxTypeBytes = 64;  // `type`: [A-Za-z0-9_.-]{1,64}
inline constexpr size_t kMaxKeyBytes = 256;

// One message of a publish request: a publication ready for the sink, or why
// it is refused (error != None; message names the field).
struct ParsedPublication {
  hub::Publication publication;
  hub::PublishError error = hub::PublishError::None;
  std::string message;

  bool ok() const { return error == hub::PublishError::None; }
};

// A batch: either a whole-request error, or one entry per message, in order.
struct ParsedBatch {
  hub::PublishError error = hub::PublishError::None;
  std::string message;
  std::vector<ParsedPublication> messages;

  bool ok() const { return error == hub::PublishError::None; }
};

// {"channel":"stock:AAPL","type":"price_update","key":"AAPL","data":{...}}
ParsedPublication parsePublishBody(std::string_view body);
// A publisher WebSocket frame (docs/protocol.md "Publisher WebSocket"):
// {"op":"publish","id":7,"channel":...,"type":...,"key":...,"data":...}.
struct ParsedFrame {
  std::optional<int64_t> id;  // echoed in the answer, when the frame had a valid one
  ParsedPublication publication;
};
ParsedFrame parsePublishFrame(std::string_view payload);

// {"messages":[{...},{...}]}. More than `maxMessages` messages is a
// whole-request TooLarge (admin.max_batch_messages): each message answers a
// result object of up to ~75 bytes, so an uncapped batch of tiny items would
// make a response many times the request (issue 11, defect 14).
inline constexpr size_t kNoBatchLimit = static_cast<size_t>(-1);
ParsedBatch parseBatchBody(std::string_view body, size_t maxMessages = kNoBatchLimit);

// The same three readers, keeping simdjson's buffers from one call to the
// next: the publish path's threads each hold one, so a publication costs
// no parser allocation. Not thread-safe.
class PublishParser {
 public:
  PublishParser();
  ~PublishParser();
  PublishParser(const PublishParser&) = delete;
  PublishParser& operator=(const PublishParser&) = delete;

  // A body whose string has simdjson's padding in its capacity
  // (kBodyPadding past its size): the next call given exactly this text
  // parses it where it lies instead of copying it.
  static constexpr size_t kBodyPadding = simdjson::SIMDJSON_PADDING;
  void lend(const std::string& body);

  ParsedPublication publication(std::string_view body);
  ParsedFrame frame(std::string_view payload);
  ParsedBatch batch(std::string_view body, size_t maxMessages = kNoBatchLimit);

 private:
  ParsedPublication validate(std::string_view body);
  simdjson::error_code iterate(simdjson::ondemand::object& object);

  simdjson::dom::parser dom_;
  simdjson::ondemand::parser ondemand_;
  simdjson::ondemand::document document_;
  struct Text {
    const char* data = nullptr;
    size_t size = 0;
    size_t capacity = 0;
    Text() = default;
    Text(const char* d, size_t s, size_t c) : data(d), size(s), capacity(c) {}
    Text(const Text&) = default;
    Text& operator=(const Text&) = default;
  };
  std::string padded_;  // a copy of the text, with simdjson's padding in its capacity
  Text paddedBody_;     // lent
  Text text_;           // being parsed
};

// `type` is echoed into every client's JSON, so it is restricted to bytes
// that need no escaping.
bool isValidMessageType(std::string_view type);

}  // namespace wsr::admin
