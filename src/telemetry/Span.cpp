#include "telemetry/Span.h"

#include <chrono>

namespace wsr::telemetry {

SpanAttribute* Span::slot(std::string_view key) {
  for (uint8_t i = 0; i < attributeCount; ++i) {
    if (attributes[i].key == key) return &attributes[i];
  }
  if (attributeCount == kMaxAttributes) {
    ++droppedAttributes;
    return nullptr;
  }
  SpanAttribute& fresh = attributes[attributeCount++];
  fresh.key = key;
  return &fresh;
}

void Span::setString(std::string_view key, std::string_view value) {
  if (SpanAttribute* a = slot(key)) {
    a->type = SpanAttribute::Type::String;
    a->stringValue.assign(value);
  }
}

void Span::setInt(std::string_view key, int64_t value) {
  if (SpanAttribute* a = slot(key)) {
    a->type = SpanAttribute::Type::Int;
    a->intValue = value;
  }
}

void Span::setBool(std::string_view key, bool value) {
  if (SpanAttribute* a = slot(key)) {
    a->type = SpanAttribute::Type::Bool;
    a->boolValue = value;
  }
}

const SpanAttribute* Span::attribute(std::string_view key) const {
  for (uint8_t i = 0; i < attributeCount; ++i) {
    if (attributes[i].key == key) return &attributes[i];
  }
  return nullptr;
}

int64_t unixNanoNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wsr::telemetry
