#include "hub/Hub.h"

#include <bit>

#include "hub/ChannelName.h"
#include "hub/ClientMessage.h"
#include "hub/LocalHub.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "telemetry/Tracer.h"

namespace wsr::hub {

Hub::Hub(const config::Config& config, HubLimits limits, telemetry::Tracer* tracer)
    : config_(config),
      limits_(limits),
      tracer_(tracer != nullptr && tracer->enabled() ? tracer : nullptr) {
  for (const auto& [name, settings] : config_.namespaces) {
    namespaceStats_.emplace(name, std::make_unique<NamespaceStats>());
  }
  if (namespaceStats_.find(config::kDefaultNamespace) == namespaceStats_.end()) {
    namespaceStats_.emplace(std::string(config::kDefaultNamespace),
                            std::make_unique<NamespaceStats>());
  }
}

Hub::~Hub() = default;

void Hub::attach(LocalHub& local) {
  locals_.push_back(&local);
}

NamespaceStats& Hub::statsFor(std::string_view channel) {
  auto it = namespaceStats_.find(namespaceOf(channel));
  if (it == namespaceStats_.end()) it = namespaceStats_.find(config::kDefaultNamespace);
  return *it->second;
}

Channel* Hub::channel(std::string_view name) {
  {
    std::shared_lock lock(channelsMutex_);
    auto it = channels_.find(name);
    if (it != channels_.end()) return it->second.get();
  }
  std::unique_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  if (it != channels_.end()) return it->second.get();
  if (channels_.size() >= limits_.maxChannels) return nullptr;
  auto created =
      std::make_unique<Channel>(std::string(name), config_.namespaceFor(name), statsFor(name));
  Channel* raw = created.get();
  raw->stats.channels.fetch_add(1, std::memory_order_relaxed);
  channels_.emplace(std::string(name), std::move(created));
  return raw;
}

bool Hub::hasSubscribers(std::string_view name) const {
  std::shared_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  return it != channels_.end() && it->second->subscribers.load(std::memory_order_relaxed) > 0;
}

uint32_t Hub::subscribers(std::string_view name) const {
  std::shared_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  return it == channels_.end() ? 0 : it->second->subscribers.load(std::memory_order_relaxed);
}

std::unique_ptr<ws::Deflater> Hub::takeDeflater() {
  {
    std::lock_guard lock(deflatersMutex_);
    if (!deflaters_.empty()) {
      auto deflater = std::move(deflaters_.back());
      deflaters_.pop_back();
      return deflater;
    }
  }
  return std::make_unique<ws::Deflater>();
}

void Hub::giveBackDeflater(std::unique_ptr<ws::Deflater> deflater) {
  std::lock_guard lock(deflatersMutex_);
  deflaters_.push_back(std::move(deflater));
}

PublishResult Hub::publish(Publication&& publication) {
  if (tracer_ == nullptr) return publishWithin(std::move(publication), nullptr);
  // A child of the publish request's span (the admin server passes its
  // context in traceparent), or a root, as for the demo feed's publications.
  const telemetry::TraceContext parent =
      telemetry::parseTraceparent(publication.traceparent).value_or(telemetry::TraceContext{});
  telemetry::ActiveSpan span =
      tracer_->startSpan("broker.publish", telemetry::SpanKind::Internal, parent);
  if (span.recording()) {
    // Bounded: an invalid name may be as long as the request allowed.
    const std::string_view channel =
        std::string_view(publication.channel).substr(0, kMaxChannelNameBytes);
    span.setString("messaging.destination.name", channel);
    span.setString("wsrouter.namespace", namespaceOf(channel));
  }
  PublishResult result = publishWithin(std::move(publication), &span);
  if (result.ok()) {
    span.setInt("wsrouter.seq", static_cast<int64_t>(result.seq));
  } else {
    span.setError(errorCodeOf(result.error));
  }
  return result;
}

PublishResult Hub::publishWithin(Publication&& publication, telemetry::ActiveSpan* span) {
  if (!isValidChannelName(publication.channel)) {
    std::string text = "channel '";
    text.append(publication.channel, 0, kMaxChannelNameBytes);
    text += "' is not a valid channel name (1 to 128 bytes of A-Z a-z 0-9 _ . : @ -)";
    return {PublishError::InvalidChannel, std::move(text), 0};
  }
  if (!accepting_.load(std::memory_order_relaxed)) {
    return {PublishError::Unavailable, "the router is shutting down", 0};
  }
  Channel* ch = channel(publication.channel);
  if (ch == nullptr) {
    return {PublishError::Unavailable,
            "too many channels (" + std::to_string(limits_.maxChannels) + ")", 0};
  }
  const int64_t ts = wallClockMs();
  const config::NamespaceConfig& settings = ch->config;

  // One critical section per channel: seq, storage and the hand-off to the
  // workers, so that every worker sees this channel's publications in order.
  std::lock_guard lock(ch->mutex);
  const uint64_t seq = ++ch->seq;
  ch->stats.published.fetch_add(1, std::memory_order_relaxed);
  const bool kept = settings.historySize > 0 || settings.retainLast;
  if (span != nullptr) span->setInt("wsrouter.workers", std::popcount(ch->workerMask));
  if (ch->workerMask == 0 && !kept) {
    return {PublishError::None, {}, seq};  // nobody can ever see it: it costs a seq
  }

  auto message = std::make_shared<PublishedMessage>();
  message->channel = publication.channel;
  message->key = std::move(publication.key);
  message->seq = seq;
  message->tsMs = ts;
  message->acceptedNs = net::EventLoop::monotonicNs();
  if (span != nullptr) message->trace = span->context();
  const std::string envelope =
      dataMessage(publication.type, publication.channel, seq, ts, publication.data);
  const size_t threshold = settings.compressionThresholdBytes;
  // 0 compresses everything (the twin is kept only when it is smaller).
  if (config_.server.perMessageDeflate && envelope.size() >= threshold) {
    std::unique_ptr<ws::Deflater> deflater = takeDeflater();
    message->frames = ws::prepareMessage(ws::Opcode::Text, envelope, deflater.get(), threshold);
    giveBackDeflater(std::move(deflater));
    if (message->frames.compressed) {
      compressionIn_.fetch_add(message->frames.plain.size(), std::memory_order_relaxed);
      compressionOut_.fetch_add(message->frames.compressed.size(), std::memory_order_relaxed);
    }
  } else {
    message->frames = ws::prepareMessage(ws::Opcode::Text, envelope, nullptr, 0);
  }
  message->frames.stamp(message->acceptedNs);
  std::shared_ptr<const PublishedMessage> shared = std::move(message);

  if (settings.historySize > 0) ch->history.append(shared, seq, ts);
  if (settings.retainLast) ch->retained = shared;
  for (size_t w = 0; w < locals_.size(); ++w) {
    if ((ch->workerMask >> w) & 1u) locals_[w]->deliver(shared);
  }
  return {PublishError::None, {}, seq};
}

std::string Hub::channelsJson() const {
  std::string out = "{\"channels\":[";
  std::shared_lock lock(channelsMutex_);
  bool first = true;
  for (const auto& [name, ch] : channels_) {
    uint64_t seq = 0;
    {
      std::lock_guard channelLock(ch->mutex);
      seq = ch->seq;
    }
    out += first ? "" : ",";
    first = false;
    out += "{\"channel\":";
    appendJsonString(out, name);
    out += ",\"subscribers\":" + std::to_string(ch->subscribers.load()) +
           ",\"seq\":" + std::to_string(seq) + "}";
  }
  out += "]}";
  return out;
}

std::string Hub::statsJson() const {
  std::string out = "{\"namespaces\":{";
  bool first = true;
  for (const auto& [name, stats] : namespaceStats_) {
    out += first ? "" : ",";
    first = false;
    appendJsonString(out, name);
    out += ":{\"published\":" + std::to_string(stats->published.load()) +
           ",\"delivered\":" + std::to_string(stats->delivered.load()) +
           ",\"dropped\":{\"slow_consumer\":" + std::to_string(stats->droppedSlowConsumer.load()) +
           ",\"conflated\":" + std::to_string(stats->droppedConflated.load()) +
           "},\"disconnected_slow_consumer\":" +
           std::to_string(stats->disconnectedSlowConsumer.load()) +
           ",\"gaps_sent\":" + std::to_string(stats->gapsSent.load()) + "}";
  }
  std::shared_lock lock(channelsMutex_);
  out += "},\"channels\":" + std::to_string(channels_.size()) + "}";
  return out;
}

}  // namespace wsr::hub
