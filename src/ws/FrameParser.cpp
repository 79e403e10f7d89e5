#include "ws/FrameParser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>

#include "ws/PerMessageDeflate.h"

namespace wsr::ws {
namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kRsv2 = 0x20;
constexpr uint8_t kRsv3 = 0x10;
constexpr uint8_t kOpcodeBits = 0x0F;
constexpr uint8_t kMaskBit = 0x80;
constexpr uint8_t kLengthBits = 0x7F;
constexpr size_t kMaskSize = 4;
// A message buffer bigger than this is released after delivery, so that one
// large message does not pin memory on an otherwise idle connection; client
// messages (subscribe, unsubscribe...) fit well under it and reuse it.
constexpr size_t kKeepCapacity = 1024;
// Compressed payloads are unmasked through a stack buffer of this size.
constexpr size_t kUnmaskChunk = size_t{8} * 1024;

constexpr ParseError protocolError(const char* reason) {
  return ParseError{close_code::kProtocolError, reason};
}

bool isKnownOpcode(uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

uint64_t readBigEndian(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v = (v << 8) | p[i];
  return v;
}

// XORs `length` bytes with the mask, starting at mask position `offset`, a
// machine word at a time. `dst` may equal `src`. The 64-bit mask is built in
// memory order, so this is endian-neutral.
void unmask(char* dst, const char* src, size_t length, const uint8_t mask[4], uint64_t offset) {
  uint8_t rotated[8];
  for (size_t i = 0; i < 8; ++i)
    rotated[i] = mask[(offset + i) & 3];
  uint64_t word;
  std::memcpy(&word, rotated, sizeof word);
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t chunk;
    std::memcpy(&chunk, src + i, sizeof chunk);
    chunk ^= word;
    std::memcpy(dst + i, &chunk, sizeof chunk);
  }
  for (; i < length; ++i)
    dst[i] = static_cast<char>(src[i] ^ rotated[i & 7]);
}

// Deflate can expand incompressible data a little (stored blocks, one sync
// flush per fragment): allow that much over the limit on the wire, so the
// inflated size, not the compressed one, is what refuses a message.
uint64_t compressedLimit(size_t maxMessageBytes) {
  uint64_t limit = maxMessageBytes;
  uint64_t slack = limit / 64 + 1024;
  return limit > std::numeric_limits<uint64_t>::max() - slack ? limit : limit + slack;
}

}  // namespace

FrameParser::FrameParser(const ParserLimits& limits) : limits_(limits) {}

FrameParser::~FrameParser() = default;

ParseError FrameParser::feed(std::string_view bytes, FrameHandler& handler) {
  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left != 0 && !closed_) {
    if (!inPayload_) {
      if (ParseError e = readHeader(data, left, handler)) return e;
      continue;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(payloadRemaining_, left));
    ParseError e = consumePayload(data, take, handler);
    data += take;
    left -= take;
    if (e) return e;
  }
  return {};
}

ParseError FrameParser::readHeader(const char*& data, size_t& left, FrameHandler& handler) {
  size_t take = std::min<size_t>(headerNeed_ - headerHave_, left);
  std::memcpy(header_ + headerHave_, data, take);
  headerHave_ = static_cast<uint8_t>(headerHave_ + take);
  data += take;
  left -= take;
  if (headerHave_ < headerNeed_) return {};
  if (headerHave_ == 2) {
    // Judge the frame on its first two bytes, before waiting for the rest.
    if (ParseError e = checkFirstTwoBytes()) return e;
    return {};
  }
  return beginFrame(handler);
}

ParseError FrameParser::checkFirstTwoBytes() {
  const uint8_t b0 = header_[0];
  const uint8_t b1 = header_[1];
  if ((b0 & (kRsv2 | kRsv3)) != 0) return protocolError("reserved bits set");
  const uint8_t op = b0 & kOpcodeBits;
  if (!isKnownOpcode(op)) return protocolError("reserved opcode");
  opcode_ = static_cast<Opcode>(op);
  fin_ = (b0 & kFin) != 0;
  rsv1_ = (b0 & kRsv1) != 0;
  const bool control = isControl(opcode_);
  if (rsv1_ && (!limits_.deflate || control || opcode_ == Opcode::Continuation)) {
    return protocolError("RSV1 set without a compressed message start");
  }
  if ((b1 & kMaskBit) == 0) return protocolError("unmasked client frame");
  const uint8_t length7 = b1 & kLengthBits;
  if (control) {
    if (!fin_) return protocolError("fragmented control frame");
    if (length7 > 125) return protocolError("control frame longer than 125 bytes");
  } else if (opcode_ == Opcode::Continuation) {
    if (!messageActive_) return protocolError("continuation without a message");
  } else if (messageActive_) {
    return protocolError("new data frame inside a fragmented message");
  }
  const uint8_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  headerNeed_ = static_cast<uint8_t>(2 + extended + kMaskSize);
  return {};
}

ParseError FrameParser::beginFrame(FrameHandler& handler) {
  const uint8_t length7 = header_[1] & kLengthBits;
  uint64_t length = length7;
  size_t maskAt = 2;
  if (length7 == 126) {
    length = readBigEndian(header_ + 2, 2);
    maskAt = 4;
    if (length < 126) return protocolError("non-minimal length encoding");
  } else if (length7 == 127) {
    length = readBigEndian(header_ + 2, 8);
    maskAt = 10;
    if ((length >> 63) != 0) return protocolError("64-bit length with the top bit set");
    if (length <= 0xFFFF) return protocolError("non-minimal length encoding");
  }
  std::memcpy(mask_, header_ + maskAt, kMaskSize);
  headerHave_ = 0;
  headerNeed_ = 2;
  payloadRemaining_ = length;
  payloadOffset_ = 0;
  if (isControl(opcode_)) {
    control_.clear();
  } else if (ParseError e = beginDataFrame(length)) {
    return e;
  }
  if (length == 0) return finishFrame(handler);
  inPayload_ = true;
  return {};
}

ParseError FrameParser::beginDataFrame(uint64_t length) {
  if (opcode_ != Opcode::Continuation) {
    messageActive_ = true;
    messageBinary_ = opcode_ == Opcode::Binary;
    messageCompressed_ = rsv1_;
    wireBytes_ = 0;
  }
  const ParseError tooBig{close_code::kMessageTooBig, "message too big"};
  if (messageCompressed_) {
    if (length > compressedLimit(limits_.maxMessageBytes) - wireBytes_) return tooBig;
    wireBytes_ += length;
  } else if (length > limits_.maxMessageBytes - message_.size()) {
    return tooBig;
  }
  return {};
}

ParseError FrameParser::consumePayload(const char* data, size_t length, FrameHandler& handler) {
  if (isControl(opcode_)) {
    const size_t old = control_.size();
    control_.append(data, length);
    unmask(control_.data() + old, control_.data() + old, length, mask_, payloadOffset_);
  } else if (messageCompressed_) {
    char plain[kUnmaskChunk];
    for (size_t done = 0; done < length;) {
      const size_t n = std::min(kUnmaskChunk, length - done);
      unmask(plain, data + done, n, mask_, payloadOffset_ + done);
      if (ParseError e = inflateInto({plain, n}, false)) return e;
      done += n;
    }
  } else {
    const size_t old = message_.size();
    message_.append(data, length);
    unmask(message_.data() + old, message_.data() + old, length, mask_, payloadOffset_);
    // Fail fast: a bad byte in the first fragment ends the connection now.
    if (!messageBinary_ && !utf8_.feed(std::string_view(message_).substr(old))) {
      return ParseError{close_code::kInvalidPayload, "invalid UTF-8 in text message"};
    }
  }
  payloadOffset_ += length;
  payloadRemaining_ -= length;
  if (payloadRemaining_ == 0) return finishFrame(handler);
  return {};
}

ParseError FrameParser::inflateInto(std::string_view compressed, bool last) {
  if (!inflater_) {
    try {
      inflater_ = std::make_unique<Inflater>();
    } catch (const std::bad_alloc&) {
      return ParseError{close_code::kInternalError, "out of memory for inflater"};
    }
  }
  const size_t old = message_.size();
  switch (inflater_->inflate(compressed, last, limits_.maxMessageBytes, message_)) {
    case Inflater::Result::Ok:
      break;
    case Inflater::Result::TooBig:
      return ParseError{close_code::kMessageTooBig, "message too big"};
    case Inflater::Result::Corrupt:
      return ParseError{close_code::kInvalidPayload, "invalid compressed data"};
  }
  if (!messageBinary_ && !utf8_.feed(std::string_view(message_).substr(old))) {
    return ParseError{close_code::kInvalidPayload, "invalid UTF-8 in text message"};
  }
  return {};
}

ParseError FrameParser::finishFrame(FrameHandler& handler) {
  inPayload_ = false;
  if (isControl(opcode_)) return finishControl(handler);
  if (!fin_) return {};
  return finishMessage(handler);
}

ParseError FrameParser::finishMessage(FrameHandler& handler) {
  if (messageCompressed_) {
    if (ParseError e = inflateInto({}, true)) return e;
  }
  if (!messageBinary_ && !utf8_.complete()) {
    return ParseError{close_code::kInvalidPayload, "text message ends inside a UTF-8 sequence"};
  }
  handler.onMessage(message_, messageBinary_);
  endMessage();
  return {};
}

void FrameParser::endMessage() {
  messageActive_ = false;
  utf8_.reset();
  if (message_.capacity() > kKeepCapacity) {
    std::string().swap(message_);
  } else {
    message_.clear();
  }
  // Without context takeover nothing survives the message: free the 32 KiB
  // window and zlib state rather than keep them on an idle connection.
  if (messageCompressed_ && limits_.clientNoContextTakeover) inflater_.reset();
  messageCompressed_ = false;
}

ParseError FrameParser::finishControl(FrameHandler& handler) {
  switch (opcode_) {
    case Opcode::Ping:
      handler.onPing(control_);
      return {};
    case Opcode::Pong:
      handler.onPong(control_);
      return {};
    default:
      break;
  }
  if (control_.size() == 1) return protocolError("close frame body of 1 byte");
  uint16_t code = close_code::kNoStatus;
  std::string_view reason;
  if (control_.size() >= 2) {
    code =
        static_cast<uint16_t>(readBigEndian(reinterpret_cast<const uint8_t*>(control_.data()), 2));
    if (!isValidCloseCode(code)) return protocolError("invalid close code");
    reason = std::string_view(control_).substr(2);
    if (!isValidUtf8(reason)) {
      return ParseError{close_code::kInvalidPayload, "invalid UTF-8 in close reason"};
    }
  }
  closed_ = true;
  handler.onClose(code, reason);
  return {};
}

}  // namespace wsr::ws
