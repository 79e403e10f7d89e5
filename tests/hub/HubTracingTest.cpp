// The broker span of Hub::publish and the trace context it hands to the
// workers in PublishedMessage.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../telemetry/RecordingExporter.h"
#include "hub/ChannelInterest.h"
#include "hub/Hub.h"
#include "hub/PublishedMessage.h"
#include "telemetry/TraceContext.h"
#include "telemetry/Tracer.h"

namespace wsr::hub {
namespace {

using telemetry::SpanKind;
using telemetry::SpanStatus;

// Request spans' contexts, as the publish API hands them in.
constexpr telemetry::TraceContext parent(uint8_t flags) {
  return {{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
           0x36},
          {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
          flags};
}
constexpr telemetry::TraceContext kSampledParent = parent(telemetry::kSampledFlag);
constexpr telemetry::TraceContext kUnsampledParent = parent(0);

struct NoInterest final : ChannelInterest {
  void watched(const std::string&) override {}
  void unwatched(const std::string&) override {}
};

struct TracedHub {
  TracedHub() {
    config::NamespaceConfig kept;  // history: every publication is kept and can be looked at
    kept.historySize = 10;
    config.namespaces = {{"default", kept}};
    auto exporter = std::make_unique<telemetry::RecordingExporter>();
    recorder = exporter.get();
    tracer = std::make_unique<telemetry::Tracer>(telemetry::Sampler{}, std::move(exporter));
    hub = std::make_unique<Hub>(config, HubLimits{}, tracer.get());
  }

  std::shared_ptr<const PublishedMessage> last(const std::string& channel) {
    std::shared_ptr<Channel> ch = hub->channel(channel);
    History::Replay replay = ch->replaySince(0, 0);
    return replay.messages.empty() ? nullptr : replay.messages.back();
  }

  config::Config config;
  telemetry::RecordingExporter* recorder;
  std::unique_ptr<telemetry::Tracer> tracer;
  std::unique_ptr<Hub> hub;
};

Publication make(std::string channel, telemetry::TraceContext trace = {}) {
  Publication publication;
  publication.channel = std::move(channel);
  publication.data = "1";
  publication.trace = trace;
  return publication;
}

TEST(HubTracing, BrokerSpanIsAChildOfThePublicationsTrace) {
  TracedHub t;
  const PublishResult result = t.hub->publish(make("stock:AAPL", kSampledParent));
  ASSERT_TRUE(result.ok());
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 1u);
  const telemetry::Span& span = spans[0];
  EXPECT_EQ(span.name, "broker.publish");
  EXPECT_EQ(span.kind, SpanKind::Internal);
  EXPECT_EQ(telemetry::toHex(span.context.traceId), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(telemetry::toHex(span.parentSpanId), "00f067aa0ba902b7");
  EXPECT_EQ(span.attribute("messaging.destination.name")->stringValue, "stock:AAPL");
  EXPECT_EQ(span.attribute("wsrouter.namespace")->stringValue, "stock");
  EXPECT_EQ(span.attribute("wsrouter.seq")->intValue, static_cast<int64_t>(result.seq));
  EXPECT_EQ(span.attribute("wsrouter.workers")->intValue, 0);
  EXPECT_EQ(span.status, SpanStatus::Unset);
  // The workers get the broker span's context, to parent their fan-out spans.
  const auto message = t.last("stock:AAPL");
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->trace, span.context);
  EXPECT_TRUE(message->trace.sampled());
}

TEST(HubTracing, APublicationWithoutTraceparentIsARoot) {
  TracedHub t;
  ASSERT_TRUE(t.hub->publish(make("stock:FEED")).ok());
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(telemetry::isZero(spans[0].parentSpanId));
  EXPECT_TRUE(t.last("stock:FEED")->trace.sampled());
}

TEST(HubTracing, AnUnsampledParentIsFollowedAndCostsTheWorkersNothing) {
  TracedHub t;
  ASSERT_TRUE(t.hub->publish(make("stock:QUIET", kUnsampledParent)).ok());
  EXPECT_TRUE(t.recorder->spans().empty());
  const auto message = t.last("stock:QUIET");
  EXPECT_TRUE(message->trace.valid());
  EXPECT_FALSE(message->trace.sampled());
}

TEST(HubTracing, ARefusedPublicationHasAnErrorStatusAndABoundedChannel) {
  TracedHub t;
  const std::string longInvalid(1000, '/');
  EXPECT_FALSE(t.hub->publish(make(longInvalid, kSampledParent)).ok());
  const auto spans = t.recorder->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status, SpanStatus::Error);
  EXPECT_EQ(spans[0].statusMessage, "INVALID_CHANNEL");
  EXPECT_EQ(spans[0].attribute("messaging.destination.name")->stringValue.size(), 128u);
  EXPECT_EQ(spans[0].attribute("wsrouter.seq"), nullptr);
}

// broker.type redis: what Redis publishes carries the publishing
// instance's broker.publish span; it is every worker's fan-out parent as is.
TEST(HubTracing, AMirroredPublicationKeepsTheTraceItCameWith) {
  TracedHub t;
  NoInterest interest;
  t.hub->mirror(interest);
  std::shared_ptr<Channel> ch = t.hub->channel("stock:R");
  ch->subscribe(0, nullptr, 0);
  t.hub->prime(*ch, 7, 0, {}, nullptr);
  ASSERT_EQ(t.hub->accept(*ch, make("stock:R", kSampledParent), 7, 1, 1000, 42),
            Channel::Accepted::Next);
  ASSERT_EQ(t.hub->accept(*ch, make("stock:R"), 7, 2, 1000, 43), Channel::Accepted::Next);
  const History::Replay replay = ch->replaySince(0, 0);
  ASSERT_EQ(replay.messages.size(), 2u);
  EXPECT_EQ(replay.messages[0]->trace, kSampledParent);
  EXPECT_FALSE(replay.messages[1]->trace.valid());
  // The publishing instance traced it: no span here but the workers'.
  EXPECT_TRUE(t.recorder->spans().empty());
}

TEST(HubTracing, WithoutATracerNothingIsTraced) {
  config::Config config;
  config::NamespaceConfig kept;
  kept.historySize = 10;
  config.namespaces = {{"default", kept}};
  telemetry::Tracer disabled;
  Hub hub(config, HubLimits{}, &disabled);
  EXPECT_EQ(hub.tracer(), nullptr);  // a disabled tracer is no tracer
  ASSERT_TRUE(hub.publish(make("stock:A", kSampledParent)).ok());
  std::shared_ptr<Channel> ch = hub.channel("stock:A");
  const History::Replay replay = ch->replaySince(0, 0);
  ASSERT_EQ(replay.messages.size(), 1u);
  EXPECT_FALSE(replay.messages[0]->trace.valid());
  EXPECT_FALSE(replay.messages[0]->trace.sampled());
}

}  // namespace
}  // namespace wsr::hub
