#include "telemetry/Tracer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "RecordingExporter.h"

namespace wsr::telemetry {
namespace {

struct TracerWithRecorder {
  explicit TracerWithRecorder(Sampler sampler = {}) {
    auto exporter = std::make_unique<RecordingExporter>();
    recorder = exporter.get();
    tracer = std::make_unique<Tracer>(sampler, std::move(exporter));
  }
  RecordingExporter* recorder;
  std::unique_ptr<Tracer> tracer;
};

TraceContext remoteParent(bool sampled) {
  return *parseTraceparent(sampled ? "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                                   : "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(Tracer, DisabledTracerMakesNoSpans) {
  Tracer tracer;
  EXPECT_FALSE(tracer.enabled());
  ActiveSpan span = tracer.startSpan("x", SpanKind::Internal);
  EXPECT_FALSE(span.recording());
  EXPECT_FALSE(span.context().valid());
  span.setString("k", "v");  // harmless
}

TEST(Tracer, RootSpanIsRecordedAndExportedOnEnd) {
  TracerWithRecorder t;
  {
    ActiveSpan span = t.tracer->startSpan("websocket.handshake", SpanKind::Server);
    ASSERT_TRUE(span.recording());
    EXPECT_TRUE(span.context().valid());
    EXPECT_TRUE(span.context().sampled());
    span.setString("url.path", "/ws");
    span.setInt("http.response.status_code", 101);
    span.setBool("wsrouter.flag", false);
    span.setOk();
    EXPECT_TRUE(t.recorder->spans().empty());  // not before it ends
  }
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 1u);
  const Span& s = spans[0];
  EXPECT_EQ(s.name, "websocket.handshake");
  EXPECT_EQ(s.kind, SpanKind::Server);
  EXPECT_TRUE(isZero(s.parentSpanId));
  EXPECT_FALSE(s.parentIsRemote);
  EXPECT_GT(s.startUnixNano, 0);
  EXPECT_GE(s.endUnixNano, s.startUnixNano);
  EXPECT_EQ(s.status, SpanStatus::Ok);
  ASSERT_NE(s.attribute("url.path"), nullptr);
  EXPECT_EQ(s.attribute("url.path")->stringValue, "/ws");
  EXPECT_EQ(s.attribute("http.response.status_code")->intValue, 101);
  EXPECT_EQ(s.attribute("wsrouter.flag")->type, SpanAttribute::Type::Bool);
}

TEST(Tracer, ChildOfARemoteParentContinuesItsTrace) {
  TracerWithRecorder t;
  const TraceContext parent = remoteParent(true);
  TraceContext child;
  {
    ActiveSpan span = t.tracer->startSpan("POST /api/v1/publish", SpanKind::Server, parent, true);
    child = span.context();
  }
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].context.traceId, parent.traceId);
  EXPECT_EQ(spans[0].parentSpanId, parent.spanId);
  EXPECT_NE(spans[0].context.spanId, parent.spanId);
  EXPECT_TRUE(spans[0].parentIsRemote);
  EXPECT_EQ(child, spans[0].context);
  // A local child of that span.
  { ActiveSpan grandchild = t.tracer->startSpan("broker.publish", SpanKind::Internal, child); }
  const auto all = t.recorder->spans();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].context.traceId, parent.traceId);
  EXPECT_EQ(all[1].parentSpanId, child.spanId);
  EXPECT_FALSE(all[1].parentIsRemote);
}

TEST(Tracer, AnUnsampledParentPropagatesWithoutRecording) {
  TracerWithRecorder t;  // parentbased_always_on
  const TraceContext parent = remoteParent(false);
  ActiveSpan span = t.tracer->startSpan("POST /api/v1/publish", SpanKind::Server, parent, true);
  EXPECT_FALSE(span.recording());
  EXPECT_TRUE(span.context().valid());
  EXPECT_FALSE(span.context().sampled());
  EXPECT_EQ(span.context().traceId, parent.traceId);
  ActiveSpan child = t.tracer->startSpan("broker.publish", SpanKind::Internal, span.context());
  EXPECT_FALSE(child.recording());
  span.end();
  child.end();
  EXPECT_TRUE(t.recorder->spans().empty());
}

TEST(Tracer, AlwaysOffRecordsNothing) {
  TracerWithRecorder t(Sampler(Sampler::Kind::AlwaysOff, 1.0));
  { ActiveSpan root = t.tracer->startSpan("a", SpanKind::Internal); }
  { ActiveSpan child = t.tracer->startSpan("b", SpanKind::Server, remoteParent(true), true); }
  EXPECT_TRUE(t.recorder->spans().empty());
}

TEST(Tracer, EndIsOnceEvenWhenMoved) {
  TracerWithRecorder t;
  ActiveSpan first = t.tracer->startSpan("a", SpanKind::Internal);
  ActiveSpan second = std::move(first);
  EXPECT_FALSE(first.recording());  // NOLINT(bugprone-use-after-move): what a move leaves
  second.setError("broker down");
  second.end();
  second.end();
  ActiveSpan third = t.tracer->startSpan("b", SpanKind::Internal);
  third = t.tracer->startSpan("c", SpanKind::Internal);  // ends "b"
  third.end();
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].name, "a");
  EXPECT_EQ(spans[0].status, SpanStatus::Error);
  EXPECT_EQ(spans[0].statusMessage, "broker down");
  EXPECT_EQ(spans[1].name, "b");
  EXPECT_EQ(spans[2].name, "c");
}

TEST(Tracer, CountsExportedAndDroppedSpans) {
  TracerWithRecorder t(Sampler(Sampler::Kind::TraceIdRatio, 0.5));
  EXPECT_EQ(t.tracer->sampler().name(), "traceidratio");
  EXPECT_EQ(t.tracer->exportedSpans(), 0u);
  EXPECT_EQ(t.tracer->droppedSpans(DropReason::QueueFull), 0u);
  EXPECT_EQ(t.tracer->droppedSpans(DropReason::ExportFailed), 0u);
}

TEST(Tracer, FromSettings) {
  std::string error;
  TracingSettings off;
  auto disabled = Tracer::fromSettings(off, nullptr, error);
  ASSERT_NE(disabled, nullptr);
  EXPECT_FALSE(disabled->enabled());

  TracingSettings bad;
  bad.enabled = true;
  bad.tracesEndpoint = "ftp://nowhere";
  EXPECT_EQ(Tracer::fromSettings(bad, nullptr, error), nullptr);
  EXPECT_NE(error.find("ftp://nowhere"), std::string::npos);

  TracingSettings on;
  on.enabled = true;
  on.tracesEndpoint = "http://127.0.0.1:9/v1/traces";
  auto enabled = Tracer::fromSettings(on, nullptr, error);
  ASSERT_NE(enabled, nullptr);
  EXPECT_TRUE(enabled->enabled());
  enabled->shutdown(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace wsr::telemetry
