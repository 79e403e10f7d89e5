#pragma once
// A span's place in a trace (W3C Trace Context, https://www.w3.org/TR/trace-context/):
// the 16-byte trace id, the 8-byte span id and the trace flags, and the
// `traceparent` header that carries them between processes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wsr::telemetry {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

inline constexpr uint8_t kSampledFlag = 0x01;

struct TraceContext {
  TraceId traceId{};
  SpanId spanId{};
  uint8_t flags = 0;

  // All-zero ids are invalid by the spec: a default TraceContext is "no trace".
  bool valid() const;
  bool sampled() const { return (flags & kSampledFlag) != 0; }

  bool operator==(const TraceContext&) const = default;
};

bool isZero(const TraceId& id);
bool isZero(const SpanId& id);

// Lowercase hex, as traceparent and the OTLP JSON mapping spell ids.
std::string toHex(const TraceId& id);
std::string toHex(const SpanId& id);
// Exactly 2 * N lowercase hex digits; false for anything else (uppercase
// included: the spec's HEXDIGLC).
bool fromHex(std::string_view hex, TraceId& id);
bool fromHex(std::string_view hex, SpanId& id);

// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>". Version 00 must be
// exactly that; a later version (01 to fe) may append "-..." fields, which
// are ignored, as the spec asks of a version 00 parser. Version ff, all-zero
// ids, uppercase or invalid hex and wrong lengths are rejected. Only the
// sampled flag is kept: it is the one flag this version defines.
std::optional<TraceContext> parseTraceparent(std::string_view header);
// Version 00, with the context's ids and its sampled flag.
std::string formatTraceparent(const TraceContext& context);

}  // namespace wsr::telemetry
