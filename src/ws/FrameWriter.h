#pragma once
// Server frames (RFC 6455 5.2, unmasked), each built once as one shared
// buffer, header and payload together, to be queued on any number of
// connections.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "net/SharedBuffer.h"
#include "ws/Opcode.h"

namespace wsr::ws {

class Deflater;

// Bytes a server frame header takes for a payload of `payloadSize`: 2, 4 or 10.
size_t frameHeaderSize(size_t payloadSize);
// Writes a header (FIN set) at `out`, which has frameHeaderSize() bytes;
// returns the header size.
size_t writeFrameHeader(char* out, Opcode opcode, size_t payloadSize, bool rsv1 = false);

// One complete frame.
net::SharedBuffer buildFrame(Opcode opcode, std::string_view payload, bool rsv1 = false);

// A frame whose header is written and whose payload is left for the caller
// to write in place: a payload whose size is known before it is written
// (the data envelope) goes straight into the one allocation, with no copy.
// Every byte of `payload` must be written before `frame` is shared.
struct UnfilledFrame {
  net::SharedBuffer frame;
  std::span<char> payload;
};
UnfilledFrame allocateFrame(Opcode opcode, size_t payloadSize, bool rsv1 = false);

// The payload of a frame built here: what follows its 2, 4 or 10 byte header.
std::string_view framePayload(const net::SharedBuffer& frame);

// A close frame with `code` and `reason` (the reason is cut to fit 125 bytes
// without splitting a UTF-8 sequence). Code 1005 builds an empty close frame.
net::SharedBuffer buildCloseFrame(uint16_t code, std::string_view reason);

// A data message ready for any number of connections: the plain frame, and,
// when compression is wanted and pays off, the compressed twin (RSV1 set)
// for connections that negotiated permessage-deflate.
struct PreparedMessage {
  net::SharedBuffer plain;
  net::SharedBuffer compressed;  // empty when not compressed

  const net::SharedBuffer& frameFor(bool deflate) const {
    return deflate && compressed ? compressed : plain;
  }
  // Stamps both frames (SharedBuffer::stampNs) before they are shared: the
  // send queue times their writes from it.
  void stamp(uint64_t stampNs) {
    if (plain) plain.setStampNs(stampNs);
    if (compressed) compressed.setStampNs(stampNs);
  }
};

// Builds the frames of a data message. `deflater` null, or a payload smaller
// than `compressThreshold`, gives no compressed twin; so does a compressed
// form that is not smaller than the plain payload.
PreparedMessage prepareMessage(Opcode opcode, std::string_view payload, Deflater* deflater,
                               size_t compressThreshold);
// The same from a plain frame already built (allocateFrame, buildFrame):
// the compressed twin, when there is one, is deflated from the frame's own
// payload, with the frame's opcode.
PreparedMessage prepareMessage(net::SharedBuffer plain, Deflater* deflater,
                               size_t compressThreshold);

}  // namespace wsr::ws
