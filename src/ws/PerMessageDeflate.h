#pragma once
// RFC 7692 permessage-deflate. The server always negotiates
// server_no_context_takeover: each message it sends is compressed on its own,
// so one compressed frame, built once, is valid for every client. Client
// messages are inflated with a hard limit on output, so a decompression bomb
// costs no more than the limit.

#include <zlib.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::ws {

struct DeflateAgreement {
  // Whether the client resets its compression context after each message
  // (it offered client_no_context_takeover, or we asked for it): then the
  // inflater needs no state between messages.
  bool clientNoContextTakeover = false;
  // The Sec-WebSocket-Extensions value to answer with.
  std::string responseHeader;
};

// The LZ77 window the server compresses with: 2^15 bytes, the most RFC 7692
// allows. Every client shares the same compressed bytes, so one window
// serves all of them.
inline constexpr int kServerWindowBits = 15;

// Picks the first permessage-deflate offer in the client's
// Sec-WebSocket-Extensions tokens (as split by HandshakeRequest::headerTokens:
// each token may hold one offer "permessage-deflate; a; b=1", and one header
// value may list several offers) that the server can accept, following
// RFC 7692 section 7. The response always carries server_no_context_takeover
// and client_no_context_takeover (7.1.1.1 and 7.1.1.2 let a server add both);
// per parameter of the offer:
// - server_no_context_takeover (no value): accepted (we always use it);
// - client_no_context_takeover (no value): accepted;
// - server_max_window_bits=N (a value 8..15 is required): the server must
//   compress with a window of at most 2^N and say so in its response
//   (7.1.2.1). Our shared frames use kServerWindowBits, so N = 15 is
//   accepted and answered "server_max_window_bits=15", and a smaller N
//   declines the offer: the next offer is tried, else no compression.
//   (Compressing every shared frame with the smallest window any client
//   may ask, 9 bits since zlib has no 8-bit raw window, would cost every
//   other client most of the compression; clients that ask are rare.)
// - client_max_window_bits, with or without a value 8..15: accepted and not
//   answered (7.1.2.2 makes that optional; our inflater reads any window);
// - any unknown parameter, a repeated parameter or a malformed value (a
//   leading zero, out of range, a value where none belongs) declines that
//   offer (7.1).
// Returns false when no offer is acceptable (then no compression is used).
bool negotiatePerMessageDeflate(const std::vector<std::string_view>& extensionTokens,
                                DeflateAgreement& agreement);

// Compresses whole messages for sending, each on its own (no context
// takeover). Not thread-safe: one per thread that builds frames.
class Deflater {
 public:
  explicit Deflater(int level = 6);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // The payload of a compressed frame for `message`: raw DEFLATE, flushed with
  // Z_SYNC_FLUSH and the trailing 00 00 FF FF removed (RFC 7692 7.2.1).
  void compress(std::string_view message, std::string& out);

 private:
  z_stream stream_{};
};

// Inflates a client's compressed messages, fragment by fragment.
class Inflater {
 public:
  enum class Result { Ok, TooBig, Corrupt };

  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Appends to `out` the inflation of the next piece of the message's
  // compressed payload; `last` marks the message's final fragment (the
  // 00 00 FF FF tail is added then). Stops with TooBig as soon as `out` would
  // exceed `limit` bytes, without inflating further. Corrupt on a bad stream.
  // A final (BFINAL) block ends the DEFLATE stream, not the message: bytes
  // after it must form a new valid stream (RFC 7692 7.2.3.4 sends an empty
  // stored block there), else Corrupt.
  Result inflate(std::string_view compressed, bool last, size_t limit, std::string& out);
  // Forgets the compression context (between messages when the client does
  // not take over its context).
  void reset();

 private:
  Result run(std::string_view input, size_t limit, std::string& out);

  z_stream stream_{};
  bool streamEnded_ = false;  // a final block ended, nothing read since
};

}  // namespace wsr::ws
