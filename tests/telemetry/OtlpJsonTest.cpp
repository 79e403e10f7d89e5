#include "telemetry/OtlpJson.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "telemetry/TracingSettings.h"

namespace wsr::telemetry {
namespace {

using nlohmann::json;

Span serverSpan() {
  Span span;
  span.name = "POST /api/v1/publish";
  span.kind = SpanKind::Server;
  fromHex("4bf92f3577b34da6a3ce929d0e0e4736", span.context.traceId);
  fromHex("a1b2c3d4e5f60718", span.context.spanId);
  span.context.flags = kSampledFlag;
  fromHex("00f067aa0ba902b7", span.parentSpanId);
  span.parentIsRemote = true;
  span.startUnixNano = 1700000000123456789;
  span.endUnixNano = 1700000000223456789;
  span.setString("messaging.destination.name", "stock:AAPL");
  span.setInt("wsrouter.seq", 9007199254740993);  // beyond a double's exact integers
  span.setInt("http.response.status_code", 200);
  span.setBool("wsrouter.retained", true);
  return span;
}

json encode(const std::vector<const Span*>& spans, const KeyValues& resource = {}) {
  return json::parse(encodeExportRequest(resource, spans));
}

TEST(OtlpJson, EnvelopeResourceAndScope) {
  const Span span = serverSpan();
  const json request =
      encode({&span}, {{"service.name", "wsrouter-test"}, {"telemetry.sdk.language", "cpp"}});
  ASSERT_TRUE(request.is_object());
  EXPECT_EQ(request.size(), 1u);
  ASSERT_TRUE(request["resourceSpans"].is_array());
  ASSERT_EQ(request["resourceSpans"].size(), 1u);
  const json& resourceSpans = request["resourceSpans"][0];
  const json expectedResource = json::parse(R"({"attributes":[
      {"key":"service.name","value":{"stringValue":"wsrouter-test"}},
      {"key":"telemetry.sdk.language","value":{"stringValue":"cpp"}}]})");
  EXPECT_EQ(resourceSpans["resource"], expectedResource);
  ASSERT_EQ(resourceSpans["scopeSpans"].size(), 1u);
  const json& scope = resourceSpans["scopeSpans"][0]["scope"];
  EXPECT_EQ(scope["name"], "wsrouter");
  EXPECT_EQ(scope["version"], wsrouterVersion());
  EXPECT_EQ(resourceSpans["scopeSpans"][0]["spans"].size(), 1u);
}

TEST(OtlpJson, SpanFieldByField) {
  const Span span = serverSpan();
  const json out = encode({&span})["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  // Ids: lowercase hex, not base64 (the OTLP exception to the protobuf JSON mapping).
  EXPECT_EQ(out["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(out["spanId"], "a1b2c3d4e5f60718");
  EXPECT_EQ(out["parentSpanId"], "00f067aa0ba902b7");
  EXPECT_EQ(out["name"], "POST /api/v1/publish");
  // Enums are integers: SPAN_KIND_SERVER is 2.
  EXPECT_EQ(out["kind"], 2);
  // fixed64 times are decimal strings.
  EXPECT_EQ(out["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(out["endTimeUnixNano"], "1700000000223456789");
  // Sampled, and the parent is known to be remote.
  EXPECT_EQ(out["flags"], 0x01 | 0x100 | 0x200);
  const json expectedAttributes = json::parse(R"([
      {"key":"messaging.destination.name","value":{"stringValue":"stock:AAPL"}},
      {"key":"wsrouter.seq","value":{"intValue":"9007199254740993"}},
      {"key":"http.response.status_code","value":{"intValue":"200"}},
      {"key":"wsrouter.retained","value":{"boolValue":true}}])");
  EXPECT_EQ(out["attributes"], expectedAttributes);
  // Unset status and no dropped attributes: left out, as proto3 JSON leaves defaults out.
  EXPECT_FALSE(out.contains("status"));
  EXPECT_FALSE(out.contains("droppedAttributesCount"));
  for (const auto& [key, value] : out.items()) {
    EXPECT_TRUE(key == "traceId" || key == "spanId" || key == "parentSpanId" || key == "name" ||
                key == "kind" || key == "startTimeUnixNano" || key == "endTimeUnixNano" ||
                key == "attributes" || key == "flags")
        << "unexpected field " << key;
  }
}

TEST(OtlpJson, RootSpanStatusAndKinds) {
  Span root;
  root.name = "websocket.handshake";
  root.kind = SpanKind::Internal;
  fromHex("0102030405060708090a0b0c0d0e0f10", root.context.traceId);
  fromHex("0102030405060708", root.context.spanId);
  root.startUnixNano = 5;
  root.endUnixNano = 6;
  root.status = SpanStatus::Error;
  root.statusMessage = "UNAUTHORIZED";
  Span ok = root;
  ok.status = SpanStatus::Ok;
  ok.statusMessage.clear();
  ok.kind = SpanKind::Server;
  const json spans = encode({&root, &ok})["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_FALSE(spans[0].contains("parentSpanId"));  // a root has none
  EXPECT_FALSE(spans[0].contains("attributes"));
  EXPECT_EQ(spans[0]["kind"], 1);       // SPAN_KIND_INTERNAL
  EXPECT_EQ(spans[0]["flags"], 0x100);  // not sampled, parent not remote
  EXPECT_EQ(spans[0]["status"], json::parse(R"({"code":2,"message":"UNAUTHORIZED"})"));
  EXPECT_EQ(spans[1]["status"], json::parse(R"({"code":1})"));
}

TEST(OtlpJson, DroppedAttributesAreCounted) {
  Span span = serverSpan();
  for (const char* key : {"a", "b", "c", "d", "e", "f"})
    span.setInt(key, 1);
  EXPECT_EQ(span.attributeCount, Span::kMaxAttributes);
  EXPECT_EQ(span.droppedAttributes, 2u);
  const json out = encode({&span})["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(out["attributes"].size(), Span::kMaxAttributes);
  EXPECT_EQ(out["droppedAttributesCount"], 2);
}

TEST(OtlpJson, SettingAKeyAgainReplacesIt) {
  Span span;
  span.setInt("n", 1);
  span.setString("n", "two");
  EXPECT_EQ(span.attributeCount, 1);
  ASSERT_NE(span.attribute("n"), nullptr);
  EXPECT_EQ(span.attribute("n")->stringValue, "two");
}

TEST(OtlpJson, InvalidUtf8IsReplacedNotThrown) {
  Span span = serverSpan();
  span.setString("url.path", std::string("/ws/\xff\xfe", 6));
  std::string body;
  ASSERT_NO_THROW(body = encodeExportRequest({}, {&span}));
  EXPECT_NO_THROW(json::parse(body));
}

TEST(OtlpJson, EmptyBatch) {
  const json request = encode({});
  EXPECT_TRUE(request["resourceSpans"][0]["scopeSpans"][0]["spans"].empty());
}

}  // namespace
}  // namespace wsr::telemetry
