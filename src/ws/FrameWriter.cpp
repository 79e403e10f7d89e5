#include "ws/FrameWriter.h"

#include <cstring>
#include <string>

#include "ws/PerMessageDeflate.h"

namespace wsr::ws {
namespace {

constexpr size_t kMaxControlPayload = 125;
constexpr size_t kMaxCloseReason = kMaxControlPayload - 2;

// The longest prefix of `reason` of at most `limit` bytes that does not end
// inside a UTF-8 sequence: a cut reason must stay valid for the peer's check.
std::string_view cutAtCodePoint(std::string_view reason, size_t limit) {
  if (reason.size() <= limit) return reason;
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80)
    --cut;
  return reason.substr(0, cut);
}

}  // namespace

size_t frameHeaderSize(size_t payloadSize) {
  if (payloadSize < 126) return 2;
  if (payloadSize <= 0xFFFF) return 4;
  return 10;
}

size_t writeFrameHeader(char* out, Opcode opcode, size_t payloadSize, bool rsv1) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>(0x80 | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(opcode));
  if (payloadSize < 126) {
    p[1] = static_cast<unsigned char>(payloadSize);
    return 2;
  }
  if (payloadSize <= 0xFFFF) {
    p[1] = 126;
    p[2] = static_cast<unsigned char>(payloadSize >> 8);
    p[3] = static_cast<unsigned char>(payloadSize);
    return 4;
  }
  p[1] = 127;
  const uint64_t n = payloadSize;
  for (int i = 0; i < 8; ++i)
    p[2 + i] = static_cast<unsigned char>(n >> (56 - 8 * i));
  return 10;
}

net::SharedBuffer buildFrame(Opcode opcode, std::string_view payload, bool rsv1) {
  const size_t header = frameHeaderSize(payload.size());
  net::SharedBuffer frame = net::SharedBuffer::allocate(header + payload.size());
  writeFrameHeader(frame.mutableData(), opcode, payload.size(), rsv1);
  if (!payload.empty()) std::memcpy(frame.mutableData() + header, payload.data(), payload.size());
  return frame;
}

net::SharedBuffer buildCloseFrame(uint16_t code, std::string_view reason) {
  if (code == close_code::kNoStatus) return buildFrame(Opcode::Close, {});
  const std::string_view cut = cutAtCodePoint(reason, kMaxCloseReason);
  const size_t payload = 2 + cut.size();
  net::SharedBuffer frame = net::SharedBuffer::allocate(2 + payload);
  char* p = frame.mutableData();
  writeFrameHeader(p, Opcode::Close, payload);
  p[2] = static_cast<char>(code >> 8);
  p[3] = static_cast<char>(code & 0xFF);
  if (!cut.empty()) std::memcpy(p + 4, cut.data(), cut.size());
  return frame;
}

PreparedMessage prepareMessage(Opcode opcode, std::string_view payload, Deflater* deflater,
                               size_t compressThreshold) {
  PreparedMessage message;
  message.plain = buildFrame(opcode, payload);
  if (deflater == nullptr || payload.size() < compressThreshold) return message;
  std::string compressed;
  deflater->compress(payload, compressed);
  if (compressed.size() < payload.size()) {
    message.compressed = buildFrame(opcode, compressed, /*rsv1=*/true);
  }
  return message;
}

}  // namespace wsr::ws
