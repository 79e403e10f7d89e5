#include "telemetry/TraceContext.h"

#include <algorithm>

namespace wsr::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
// "00-" + 32 + "-" + 16 + "-" + 2
constexpr size_t kVersion00Length = 55;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is not HEXDIGLC
}

template <size_t N>
std::string hexOf(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
  }
  return out;
}

template <size_t N>
bool bytesOf(std::string_view hex, std::array<uint8_t, N>& out) {
  if (hex.size() != 2 * N) return false;
  std::array<uint8_t, N> bytes{};
  for (size_t i = 0; i < N; ++i) {
    const int high = hexValue(hex[2 * i]);
    const int low = hexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  out = bytes;
  return true;
}

}  // namespace

bool isZero(const TraceId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

bool isZero(const SpanId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

bool TraceContext::valid() const {
  return !isZero(traceId) && !isZero(spanId);
}

std::string toHex(const TraceId& id) {
  return hexOf(id);
}

std::string toHex(const SpanId& id) {
  return hexOf(id);
}

bool fromHex(std::string_view hex, TraceId& id) {
  return bytesOf(hex, id);
}

bool fromHex(std::string_view hex, SpanId& id) {
  return bytesOf(hex, id);
}

std::optional<TraceContext> parseTraceparent(std::string_view header) {
  // Surrounding optional whitespace is allowed around a header value (RFC 9110).
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  if (header.size() < kVersion00Length) return std::nullopt;

  std::array<uint8_t, 1> version{};
  if (!bytesOf(header.substr(0, 2), version) || version[0] == 0xff) return std::nullopt;
  if (version[0] == 0x00 && header.size() != kVersion00Length) return std::nullopt;
  // A later version: what follows the flags must start a new field.
  if (header.size() > kVersion00Length && header[kVersion00Length] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;

  TraceContext context;
  std::array<uint8_t, 1> flags{};
  if (!bytesOf(header.substr(3, 32), context.traceId) ||
      !bytesOf(header.substr(36, 16), context.spanId) || !bytesOf(header.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if (!context.valid()) return std::nullopt;
  context.flags = flags[0] & kSampledFlag;
  return context;
}

std::string formatTraceparent(const TraceContext& context) {
  std::string out = "00-";
  out += hexOf(context.traceId);
  out += '-';
  out += hexOf(context.spanId);
  out += context.sampled() ? "-01" : "-00";
  return out;
}

}  // namespace wsr::telemetry
