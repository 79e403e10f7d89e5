#include "telemetry/OtlpJson.h"

#include <nlohmann/json.hpp>

#include "telemetry/TracingSettings.h"

namespace wsr::telemetry {
namespace {

using nlohmann::json;

json stringAttribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

json attributeJson(const SpanAttribute& attribute) {
  json value;
  switch (attribute.type) {
    case SpanAttribute::Type::String:
      value = {{"stringValue", attribute.stringValue}};
      break;
    case SpanAttribute::Type::Int:
      value = {{"intValue", std::to_string(attribute.intValue)}};
      break;
    case SpanAttribute::Type::Bool:
      value = {{"boolValue", attribute.boolValue}};
      break;
  }
  return {{"key", std::string(attribute.key)}, {"value", std::move(value)}};
}

json spanJson(const Span& span) {
  json out = {
      {"traceId", toHex(span.context.traceId)},
      {"spanId", toHex(span.context.spanId)},
  };
  if (!isZero(span.parentSpanId)) out["parentSpanId"] = toHex(span.parentSpanId);
  out["flags"] = static_cast<uint32_t>(span.context.flags) | kSpanFlagsHasIsRemote |
                 (span.parentIsRemote ? kSpanFlagsIsRemote : 0);
  out["name"] = span.name;
  out["kind"] = static_cast<int>(span.kind);
  out["startTimeUnixNano"] = std::to_string(span.startUnixNano);
  out["endTimeUnixNano"] = std::to_string(span.endUnixNano);
  json attributes = json::array();
  for (uint8_t i = 0; i < span.attributeCount; ++i)
    attributes.push_back(attributeJson(span.attributes[i]));
  if (!attributes.empty()) out["attributes"] = std::move(attributes);
  if (span.droppedAttributes > 0) out["droppedAttributesCount"] = span.droppedAttributes;
  if (span.status != SpanStatus::Unset) {
    json status = {{"code", static_cast<int>(span.status)}};
    if (!span.statusMessage.empty()) status["message"] = span.statusMessage;
    out["status"] = std::move(status);
  }
  return out;
}

}  // namespace

std::string encodeExportRequest(const KeyValues& resource, const std::vector<const Span*>& spans) {
  json resourceAttributes = json::array();
  for (const auto& [key, value] : resource)
    resourceAttributes.push_back(stringAttribute(key, value));
  json spanList = json::array();
  for (const Span* span : spans)
    spanList.push_back(spanJson(*span));
  json scopeSpans = json::object();
  scopeSpans["scope"] = {{"name", kInstrumentationName}, {"version", wsrouterVersion()}};
  scopeSpans["spans"] = std::move(spanList);
  json resourceSpans = json::object();
  resourceSpans["resource"] = json::object();
  resourceSpans["resource"]["attributes"] = std::move(resourceAttributes);
  resourceSpans["scopeSpans"] = json::array();
  resourceSpans["scopeSpans"].push_back(std::move(scopeSpans));
  json request = json::object();
  request["resourceSpans"] = json::array();
  request["resourceSpans"].push_back(std::move(resourceSpans));
  // Bytes that are not UTF-8 (a client's request path) become U+FFFD rather
  // than an exception: JSON must be UTF-8.
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace wsr::telemetry
