#pragma once
// RFC 6455 section 5: the receive side of a server connection. Bytes arrive
// in chunks of any size; the parser keeps at most a frame header between
// chunks, unmasks payloads as they come, assembles fragmented messages
// (control frames may interleave), inflates permessage-deflate messages and
// validates UTF-8 incrementally, and hands complete messages to a handler.
// It allocates only while a message is being assembled.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ws/Opcode.h"
#include "ws/Utf8Validator.h"

namespace wsr::ws {

class Inflater;

struct ParserLimits {
  // Largest message (after inflation) accepted; above it the connection
  // closes with 1009.
  size_t maxMessageBytes = 1 << 20;
  // permessage-deflate was negotiated: RSV1 is allowed on the first frame of a
  // data message and means "compressed".
  bool deflate = false;
  // The client resets its compression context after each message.
  bool clientNoContextTakeover = false;
};

class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  // A complete data message: unmasked, inflated, UTF-8-checked when text.
  // The view is valid only during the call.
  virtual void onMessage(std::string_view payload, bool binary) = 0;
  virtual void onPing(std::string_view payload) = 0;
  virtual void onPong(std::string_view payload) = 0;
  // A close frame: code validated (1005 when the frame had no body), reason
  // valid UTF-8. The parser consumes nothing after a close frame.
  virtual void onClose(uint16_t code, std::string_view reason) = 0;
};

struct ParseError {
  uint16_t closeCode = 0;   // 0: no error
  const char* reason = "";  // short, for the close frame and the log
  explicit operator bool() const { return closeCode != 0; }
};

class FrameParser {
 public:
  explicit FrameParser(const ParserLimits& limits);
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Consumes `bytes`, calling the handler for each complete message or
  // control frame. Returns the first violation with its close code:
  //  1002: unmasked client frame, RSV bits not negotiated (or RSV1 on a
  //        continuation or control frame), reserved opcode, control frame
  //        longer than 125 bytes or fragmented, continuation without a message
  //        in progress, new data frame while a message is in progress,
  //        non-minimal length encoding, 64-bit length with the top bit set,
  //        close body of 1 byte, invalid close code;
  //  1007: invalid UTF-8 in a text message or a close reason, or a
  //        compressed payload that does not inflate;
  //  1009: a message larger than maxMessageBytes (checked against the
  //        declared frame lengths before buffering, and against inflated
  //        output while inflating).
  // After an error, or after onClose, the parser must not be fed again.
  ParseError feed(std::string_view bytes, FrameHandler& handler);

  // True between a close frame and the end of the parser's life.
  bool closed() const { return closed_; }
  // Bytes currently held for a message being assembled (for memory stats).
  size_t bufferedBytes() const { return message_.size(); }

 private:
  ParseError readHeader(const char*& data, size_t& left, FrameHandler& handler);
  ParseError checkFirstTwoBytes();
  ParseError beginFrame(FrameHandler& handler);
  ParseError beginDataFrame(uint64_t length);
  ParseError consumePayload(const char* data, size_t length, FrameHandler& handler);
  ParseError inflateInto(std::string_view compressed, bool last);
  ParseError finishFrame(FrameHandler& handler);
  ParseError finishMessage(FrameHandler& handler);
  ParseError finishControl(FrameHandler& handler);
  void endMessage();

  // Implementation state; kept small: an idle connection holds one of these.
  ParserLimits limits_;
  uint8_t header_[14] = {};
  uint8_t headerHave_ = 0;
  uint8_t headerNeed_ = 2;
  bool inPayload_ = false;
  bool closed_ = false;
  // Current frame.
  Opcode opcode_ = Opcode::Continuation;
  bool fin_ = false;
  bool rsv1_ = false;
  uint8_t mask_[4] = {};
  uint64_t payloadRemaining_ = 0;
  uint64_t payloadOffset_ = 0;  // for the mask index
  // Message in progress.
  bool messageActive_ = false;
  bool messageBinary_ = false;
  bool messageCompressed_ = false;
  uint64_t wireBytes_ = 0;  // compressed payload bytes of the message so far
  std::string message_;
  std::string control_;  // payload of the control frame being read
  Utf8Validator utf8_;
  std::unique_ptr<Inflater> inflater_;  // created on the first compressed message
};

}  // namespace wsr::ws
