#pragma once
// Spans as the body of an OTLP/HTTP JSON export request: an
// ExportTraceServiceRequest in the protobuf JSON mapping, with the OTLP
// exceptions (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
// - traceId, spanId and parentSpanId are lowercase hex strings, not base64;
// - enums (kind, status.code) are integers;
// - 64-bit integers (times, intValue) are decimal strings;
// - field names are lowerCamelCase; fields at their default are left out.
//
// {"resourceSpans":[{"resource":{"attributes":[...]},
//   "scopeSpans":[{"scope":{"name":"wsrouter","version":"0.1.0"},"spans":[...]}]}]}

#include <string>
#include <vector>

#include "telemetry/KeyValueList.h"
#include "telemetry/Span.h"

namespace wsr::telemetry {

// Span.flags bits: the W3C trace flags in 0-7, and whether the parent is
// remote (bit 9) when that is known (bit 8).
inline constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
inline constexpr uint32_t kSpanFlagsIsRemote = 0x200;

// `resource`: string attributes of the process (service.name...).
std::string encodeExportRequest(const KeyValues& resource, const std::vector<const Span*>& spans);

}  // namespace wsr::telemetry
