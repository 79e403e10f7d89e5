#pragma once
// A finished (or running) span as the exporter sees it: a plain struct with
// the fields of the OTLP Span message that wsrouter uses. Attributes are a
// small fixed array: the router's spans have at most a handful, and a span
// costs one allocation, whatever it holds.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "telemetry/TraceContext.h"

namespace wsr::telemetry {

// The values of OTLP's Span.SpanKind.
enum class SpanKind : uint8_t {
  Internal = 1,
  Server = 2,
  Client = 3,
  Producer = 4,
  Consumer = 5,
};

// The values of OTLP's Status.StatusCode.
enum class SpanStatus : uint8_t {
  Unset = 0,
  Ok = 1,
  Error = 2,
};

struct SpanAttribute {
  enum class Type : uint8_t { String, Int, Bool };

  std::string_view key;  // a string literal: attribute names are fixed in the code
  Type type = Type::String;
  std::string stringValue;
  int64_t intValue = 0;
  bool boolValue = false;
};

struct Span {
  static constexpr size_t kMaxAttributes = 8;

  std::string name;
  SpanKind kind = SpanKind::Internal;
  TraceContext context;         // this span's trace id, span id and flags
  SpanId parentSpanId{};        // all zero: a root span
  bool parentIsRemote = false;  // the parent came in a traceparent header
  int64_t startUnixNano = 0;
  int64_t endUnixNano = 0;
  std::array<SpanAttribute, kMaxAttributes> attributes;
  uint8_t attributeCount = 0;
  uint32_t droppedAttributes = 0;  // set beyond kMaxAttributes
  SpanStatus status = SpanStatus::Unset;
  std::string statusMessage;  // with SpanStatus::Error only

  // Setting a key again replaces its value.
  void setString(std::string_view key, std::string_view value);
  void setInt(std::string_view key, int64_t value);
  void setBool(std::string_view key, bool value);
  // Nullptr when the key is not set.
  const SpanAttribute* attribute(std::string_view key) const;

 private:
  SpanAttribute* slot(std::string_view key);
};

// Nanoseconds since the Unix epoch, the time base of OTLP.
int64_t unixNanoNow();

}  // namespace wsr::telemetry
