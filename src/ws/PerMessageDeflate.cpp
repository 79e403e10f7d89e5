#include "ws/PerMessageDeflate.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

namespace wsr::ws {
namespace {

constexpr std::string_view kExtensionName = "permessage-deflate";
// RFC 7692 7.1.1.2: "A server MAY include the client_no_context_takeover
// extension parameter in an extension negotiation response" even when the
// client did not offer it. We always do: the inflater then holds no window
// between messages.
constexpr std::string_view kResponse =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
// RFC 7692 7.1.2.1: an offer with server_max_window_bits is accepted by
// naming the window in the response, the same or smaller.
constexpr std::string_view kServerWindowResponse = "; server_max_window_bits=15";
constexpr unsigned char kSyncTail[4] = {0x00, 0x00, 0xFF, 0xFF};
// Raw DEFLATE with a 32 KiB window, both ways (kServerWindowBits).
constexpr int kWindowBits = -kServerWindowBits;
constexpr size_t kInflateChunk = size_t{16} * 1024;
// zlib counts in uInt; feed bigger inputs in slices.
constexpr size_t kMaxZlibSlice = 1U << 30;

char asciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// RFC 7692 7.1: a value may be sent as a token or a quoted-string.
std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// A window-bits value: decimal 8..15, no leading zero (RFC 7692 7.1.2.1).
bool parseWindowBits(std::string_view v, int& bits) {
  if (v.empty() || v.size() > 2 || v.front() == '0') return false;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return false;
  bits = n;
  return true;
}

struct OfferParams {
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  bool serverMaxWindowBits = false;
  bool clientMaxWindowBits = false;
};

bool acceptParam(std::string_view param, OfferParams& seen) {
  size_t eq = param.find('=');
  std::string_view name = trimOws(param.substr(0, eq));
  bool hasValue = eq != std::string_view::npos;
  std::string_view value = hasValue ? unquote(trimOws(param.substr(eq + 1))) : std::string_view{};
  auto once = [](bool& flag) { return !std::exchange(flag, true); };
  int bits = 0;
  if (equalsIgnoreCase(name, "server_no_context_takeover")) {
    return !hasValue && once(seen.serverNoContextTakeover);
  }
  if (equalsIgnoreCase(name, "client_no_context_takeover")) {
    return !hasValue && once(seen.clientNoContextTakeover);
  }
  if (equalsIgnoreCase(name, "server_max_window_bits")) {
    // Every client shares one compressed frame, built with a 32 KiB window:
    // an offer asking for less is declined (the next offer may do).
    return hasValue && parseWindowBits(value, bits) && bits >= kServerWindowBits &&
           once(seen.serverMaxWindowBits);
  }
  if (equalsIgnoreCase(name, "client_max_window_bits")) {
    // A smaller client window is fine: our 32 KiB inflater reads any.
    return (!hasValue || parseWindowBits(value, bits)) && once(seen.clientMaxWindowBits);
  }
  return false;
}

bool acceptOffer(std::string_view offer, OfferParams& seen) {
  size_t semi = offer.find(';');
  if (!equalsIgnoreCase(trimOws(offer.substr(0, semi)), kExtensionName)) return false;
  while (semi != std::string_view::npos) {
    offer.remove_prefix(semi + 1);
    semi = offer.find(';');
    std::string_view param = trimOws(offer.substr(0, semi));
    if (param.empty()) return false;
    if (!acceptParam(param, seen)) return false;
  }
  return true;
}

}  // namespace

bool negotiatePerMessageDeflate(const std::vector<std::string_view>& extensionTokens,
                                DeflateAgreement& agreement) {
  for (std::string_view offer : extensionTokens) {
    OfferParams seen;
    if (!acceptOffer(offer, seen)) continue;
    agreement.clientNoContextTakeover = true;
    agreement.responseHeader = kResponse;
    if (seen.serverMaxWindowBits) agreement.responseHeader += kServerWindowResponse;
    return true;
  }
  return false;
}

Deflater::Deflater(int level) {
  int rc = deflateInit2(&stream_, level, Z_DEFLATED, kWindowBits, 8, Z_DEFAULT_STRATEGY);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK) throw std::invalid_argument("Deflater: bad compression level");
}

Deflater::~Deflater() {
  deflateEnd(&stream_);
}

void Deflater::compress(std::string_view message, std::string& out) {
  // server_no_context_takeover: every message starts from an empty window,
  // so the bytes do not depend on what was sent before, or to whom.
  deflateReset(&stream_);
  size_t capacity = deflateBound(&stream_, message.size()) + 16;
  out.resize(capacity);
  size_t produced = 0;
  auto* in = reinterpret_cast<const Bytef*>(message.data());
  size_t inLeft = message.size();
  while (true) {
    size_t slice = std::min(inLeft, kMaxZlibSlice);
    stream_.next_in = const_cast<Bytef*>(in);
    stream_.avail_in = static_cast<uInt>(slice);
    size_t room = std::min(capacity - produced, kMaxZlibSlice);
    stream_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream_.avail_out = static_cast<uInt>(room);
    int rc = deflate(&stream_, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
    size_t consumed = slice - stream_.avail_in;
    in += consumed;
    inLeft -= consumed;
    produced += room - stream_.avail_out;
    // Done when all input is in and the flush fitted (zlib's rule: output
    // space left over means nothing is pending).
    if (inLeft == 0 && stream_.avail_in == 0 && stream_.avail_out != 0) break;
    if (produced == capacity) {
      capacity *= 2;
      out.resize(capacity);
    }
  }
  out.resize(produced);
  // RFC 7692 7.2.1: remove the 00 00 FF FF that ends every sync flush.
  if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, kSyncTail, 4) == 0) {
    out.resize(out.size() - 4);
  }
}

Inflater::Inflater() {
  int rc = inflateInit2(&stream_, kWindowBits);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK) throw std::runtime_error("inflateInit2 failed");
}

Inflater::~Inflater() {
  inflateEnd(&stream_);
}

void Inflater::reset() {
  inflateReset(&stream_);
  streamEnded_ = false;
}

Inflater::Result Inflater::inflate(std::string_view compressed, bool last, size_t limit,
                                   std::string& out) {
  if (out.size() > limit) return Result::TooBig;
  while (!compressed.empty()) {
    size_t slice = std::min(compressed.size(), kMaxZlibSlice);
    Result r = run(compressed.substr(0, slice), limit, out);
    if (r != Result::Ok) return r;
    compressed.remove_prefix(slice);
  }
  if (!last) return Result::Ok;
  if (streamEnded_) {
    // The message ended right after a final block: there is no open block
    // for the 00 00 FF FF tail to close, and the stream is already reset.
    streamEnded_ = false;
    return Result::Ok;
  }
  std::string_view tail(reinterpret_cast<const char*>(kSyncTail), sizeof kSyncTail);
  Result r = run(tail, limit, out);
  streamEnded_ = false;
  return r;
}

// Inflates one slice, at most one bounded chunk of output at a time, so a
// bomb stops within a chunk of `limit` instead of after it has expanded.
Inflater::Result Inflater::run(std::string_view input, size_t limit, std::string& out) {
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  // Inflating through a stack buffer and appending keeps `out` sized to what
  // was produced: resizing it by whole chunks would leave every connection
  // that ever sent a compressed message holding a chunk-sized buffer.
  unsigned char buffer[kInflateChunk];
  while (true) {
    size_t room = limit - out.size();
    // One byte beyond the limit is how we learn the message is too big.
    size_t chunk = room < kInflateChunk ? room + 1 : kInflateChunk;
    stream_.next_out = buffer;
    stream_.avail_out = static_cast<uInt>(chunk);
    int rc = ::inflate(&stream_, Z_SYNC_FLUSH);
    out.append(reinterpret_cast<const char*>(buffer), chunk - stream_.avail_out);
    if (out.size() > limit) return Result::TooBig;
    if (rc == Z_STREAM_END) {
      // RFC 7692 7.2.3.4: a sender may flush with a final block and follow it
      // with more (an empty stored block, in the RFC's example). What follows
      // must be valid DEFLATE on its own: a new stream. The window is not
      // carried over: a sender that ended its stream cannot refer back, and
      // copying 32 KiB per final block would let tiny blocks burn CPU.
      inflateReset(&stream_);
      streamEnded_ = true;
      if (stream_.avail_in == 0) return Result::Ok;
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: with output space available, that means the
      // input is used up.
      return stream_.avail_in == 0 ? Result::Ok : Result::Corrupt;
    }
    if (rc != Z_OK) return Result::Corrupt;
    streamEnded_ = false;
    if (stream_.avail_in == 0 && stream_.avail_out != 0) return Result::Ok;
  }
}

}  // namespace wsr::ws
