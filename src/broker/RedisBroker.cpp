#include "broker/RedisBroker.h"

#include <chrono>
#include <thread>

#include "hub/PublishSpan.h"

namespace wsr::broker {

RedisBroker::RedisBroker(const config::Config& config, hub::Hub& hub, telemetry::Logger& logger)
    : tracer_(hub.tracer()),
      connectTimeoutMs_(config.broker.redis.connectTimeoutMs),
      publisher_(config, logger),
      subscriber_(config, hub, logger, [this] { publisher_.recheck(); }),
      sessions_(config, logger) {
  hub.mirror(subscriber_);
  hub.keepSessionsIn(sessions_);
}

RedisBroker::~RedisBroker() {
  stop();
}

hub::PublishResult RedisBroker::publish(hub::Publication&& publication) {
  if (tracer_ == nullptr) return publisher_.publish(std::move(publication));
  telemetry::ActiveSpan span = hub::startPublishSpan(*tracer_, publication, "redis");
  hub::PublishResult result = publisher_.publish(std::move(publication));
  hub::endPublishSpan(span, result);
  return result;
}

std::vector<hub::PublishResult> RedisBroker::publishBatch(
    std::vector<hub::Publication>&& publications) {
  if (tracer_ == nullptr) return publisher_.publishBatch(std::move(publications));
  std::vector<telemetry::ActiveSpan> spans;
  spans.reserve(publications.size());
  for (const hub::Publication& publication : publications)
    spans.push_back(hub::startPublishSpan(*tracer_, publication, "redis"));
  std::vector<hub::PublishResult> results = publisher_.publishBatch(std::move(publications));
  for (size_t i = 0; i < spans.size(); ++i)
    hub::endPublishSpan(spans[i], results[i]);
  return results;
}

bool RedisBroker::start(std::string& /*error*/) {
  // An unreachable Redis does not stop the start: the instance is unready
  // until it connects, and keeps trying. A reachable one is connected
  // before the router says it serves (the first attempts are awaited,
  // bounded by the connect timeout).
  publisher_.start();
  subscriber_.start();
  sessions_.start();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(2 * connectTimeoutMs_ + 100);
  while ((!publisher_.attempted() || !subscriber_.attempted()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void RedisBroker::stop() {
  publisher_.stop();
  subscriber_.stop();
  sessions_.stop();
}

bool RedisBroker::ready(std::string& detail) const {
  if (publisher_.connected() && subscriber_.caughtUp()) return true;
  detail = publisher_.connected() && subscriber_.connected()
               ? "the broker (Redis) is back; channels are being caught up"
               : "the broker (Redis) is unreachable";
  return false;
}

BrokerStats RedisBroker::stats() const {
  BrokerStats out;
  out.up = publisher_.connected() && subscriber_.connected();
  out.errors = publisher_.errors() + subscriber_.errors();
  out.reconnects = publisher_.reconnects() + subscriber_.reconnects();
  out.publishFailures = publisher_.failures();
  publisher_.addLatency(out.commandLatency);
  subscriber_.addLatency(out.commandLatency);
  return out;
}

}  // namespace wsr::broker
