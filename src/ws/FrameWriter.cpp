#include "ws/FrameWriter.h"

#include <algorithm>
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

UnfilledFrame allocateFrame(Opcode opcode, size_t payloadSize, bool rsv1) {
  const size_t header = frameHeaderSize(payloadSize);
  UnfilledFrame out;
  out.frame = net::SharedBuffer::allocate(header + payloadSize);
  writeFrameHeader(out.frame.mutableData(), opcode, payloadSize, rsv1);
  out.payload = {out.frame.mutableData() + header, payloadSize};
  return out;
}

net::SharedBuffer buildFrame(Opcode opcode, std::string_view payload, bool rsv1) {
  UnfilledFrame out = allocateFrame(opcode, payload.size(), rsv1);
  if (!payload.empty()) std::memcpy(out.payload.data(), payload.data(), payload.size());
  return std::move(out.frame);
}

std::string_view framePayload(const net::SharedBuffer& frame) {
  if (frame.size() < 2) return {};
  // The length byte says which header form was written (writeFrameHeader).
  const auto length = static_cast<unsigned char>(frame.data()[1]) & 0x7F;
  const size_t header = length < 126 ? 2 : length == 126 ? 4 : 10;
  return frame.view().substr(std::min(header, frame.size()));
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
  return prepareMessage(buildFrame(opcode, payload), deflater, compressThreshold);
}

PreparedMessage prepareMessage(net::SharedBuffer plain, Deflater* deflater,
                               size_t compressThreshold) {
  PreparedMessage message;
  message.plain = std::move(plain);
  const std::string_view payload = framePayload(message.plain);
  if (deflater == nullptr || !message.plain || payload.size() < compressThreshold) return message;
  std::string compressed;
  deflater->compress(payload, compressed);
  if (compressed.size() < payload.size()) {
    const auto opcode =
        static_cast<Opcode>(static_cast<unsigned char>(message.plain.data()[0]) & 0x0F);
    message.compressed = buildFrame(opcode, compressed, /*rsv1=*/true);
  }
  return message;
}

}  // namespace wsr::ws
