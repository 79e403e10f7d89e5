#include "hub/Hub.h"

#include <algorithm>
#include <optional>

#include "hub/ChannelName.h"
#include "hub/LocalHub.h"
#include "hub/PublishSpan.h"
#include "hub/ServerMessages.h"
#include "hub/WallClock.h"
#include "net/EventLoop.h"
#include "telemetry/Tracer.h"

namespace wsr::hub {

Hub::Hub(const config::Config& config, HubLimits limits, telemetry::Tracer* tracer)
    : config_(config),
      limits_(limits),
      tracer_(tracer != nullptr && tracer->enabled() ? tracer : nullptr),
      memorySessions_(config.resume.maxSessions, wallClockMs) {
  for (const auto& [name, settings] : config_.namespaces)
    namespaceNames_.push_back(name);
  namespaceNames_.emplace_back(config::kDefaultNamespace);
  std::sort(namespaceNames_.begin(), namespaceNames_.end());
  namespaceNames_.erase(std::unique(namespaceNames_.begin(), namespaceNames_.end()),
                        namespaceNames_.end());
  namespaceTotals_ = std::make_unique<NamespaceTotals[]>(namespaceNames_.size());
}

Hub::~Hub() = default;

void Hub::attach(LocalHub& local) {
  locals_.push_back(&local);
}

size_t Hub::namespaceIndex(std::string_view channel) const {
  auto find = [&](std::string_view name) {
    auto it = std::lower_bound(namespaceNames_.begin(), namespaceNames_.end(), name);
    return it != namespaceNames_.end() && *it == name ? it - namespaceNames_.begin() : -1;
  };
  const auto index = find(namespaceOf(channel));
  return static_cast<size_t>(index >= 0 ? index : find(config::kDefaultNamespace));
}

NamespaceStats Hub::namespaceStats(size_t index) const {
  NamespaceStats out;
  out.channels = namespaceTotals_[index].channels.load(std::memory_order_relaxed);
  out.published = namespaceTotals_[index].published.load(std::memory_order_relaxed);
  for (const LocalHub* local : locals_) {
    const NamespaceCounters& counters = local->stats().namespaces[index];
    out.subscribers += counters.subscribers.load(std::memory_order_relaxed);
    out.delivered += counters.delivered.load(std::memory_order_relaxed);
    out.droppedSlowConsumer += counters.droppedSlowConsumer.load(std::memory_order_relaxed);
    out.droppedConflated += counters.droppedConflated.load(std::memory_order_relaxed);
    out.droppedOverload += counters.droppedOverload.load(std::memory_order_relaxed);
    out.disconnectedSlowConsumer +=
        counters.disconnectedSlowConsumer.load(std::memory_order_relaxed);
    out.gapsSent += counters.gapsSent.load(std::memory_order_relaxed);
  }
  return out;
}

std::shared_ptr<Channel> Hub::channel(std::string_view name) {
  {
    std::shared_lock lock(channelsMutex_);
    auto it = channels_.find(name);
    if (it != channels_.end()) return it->second;
  }
  std::unique_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  if (it != channels_.end()) return it->second;
  if (channels_.size() >= limits_.maxChannels) {
    channelLimitRefusals_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const size_t ns = namespaceIndex(name);
  auto created = std::make_shared<Channel>(std::string(name), config_.namespaceFor(name), ns,
                                           namespaceTotals_[ns], interest_);
  created->totals().channels.fetch_add(1, std::memory_order_relaxed);
  channels_.emplace(std::string(name), created);
  return created;
}

void Hub::release(std::shared_ptr<Channel> channel) {
  const int64_t now = wallClockMs();
  // Most channels given back keep something (a retained value, history, a
  // subscriber on another worker): no exclusive lock for those.
  if (!channel->disposable(now, limits_.idleChannelMs)) return;
  const std::string name = channel->name();
  channel.reset();
  std::unique_lock lock(channelsMutex_);
  removeIfDisposable(name, now);
}

size_t Hub::sweepChannels(int64_t nowMs) {
  std::vector<std::string> candidates;
  {
    std::shared_lock lock(channelsMutex_);
    for (const auto& [name, channel] : channels_) {
      if (channel.use_count() == 1 && channel->disposable(nowMs, limits_.idleChannelMs)) {
        candidates.push_back(name);
      }
    }
  }
  if (candidates.empty()) return 0;
  size_t removed = 0;
  std::unique_lock lock(channelsMutex_);
  for (const std::string& name : candidates) {
    removed += removeIfDisposable(name, nowMs) ? 1 : 0;
  }
  return removed;
}

// New holders only come through channels_ under channelsMutex_, which the
// caller holds exclusively: a use count of one (the map's) cannot rise
// meanwhile, so nobody is left holding a removed channel.
bool Hub::removeIfDisposable(const std::string& name, int64_t nowMs) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.use_count() != 1) return false;
  if (!it->second->disposable(nowMs, limits_.idleChannelMs)) return false;
  it->second->totals().channels.fetch_sub(1, std::memory_order_relaxed);
  channels_.erase(it);
  return true;
}

size_t Hub::channelCount() const {
  std::shared_lock lock(channelsMutex_);
  return channels_.size();
}

bool Hub::hasSubscribers(std::string_view name) const {
  std::shared_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  return it != channels_.end() && it->second->subscribers() > 0;
}

uint32_t Hub::subscribers(std::string_view name) const {
  std::shared_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  return it == channels_.end() ? 0 : it->second->subscribers();
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
  return publishTraced(std::move(publication), nullptr);
}

PublishResult Hub::publishTraced(Publication&& publication, std::vector<char>* owedWakes) {
  if (tracer_ == nullptr) return publishWithin(std::move(publication), nullptr, owedWakes);
  telemetry::ActiveSpan span = startPublishSpan(*tracer_, publication);
  PublishResult result = publishWithin(std::move(publication), &span, owedWakes);
  endPublishSpan(span, result);
  return result;
}

std::vector<PublishResult> Hub::publishBatch(std::vector<Publication>&& publications) {
  std::vector<PublishResult> results;
  results.reserve(publications.size());
  std::vector<char> owedWakes(locals_.size(), 0);
  for (Publication& publication : publications)
    results.push_back(publishTraced(std::move(publication), &owedWakes));
  for (size_t worker = 0; worker < locals_.size(); ++worker)
    if (owedWakes[worker] != 0) locals_[worker]->wake();
  return results;
}

PublishResult Hub::publishWithin(Publication&& publication, telemetry::ActiveSpan* span,
                                 std::vector<char>* owedWakes) {
  if (std::optional<PublishResult> refused = refuseInvalidChannel(publication)) return *refused;
  if (!accepting_.load(std::memory_order_relaxed)) {
    return {PublishError::Unavailable, "the router is shutting down", 0};
  }
  // One clock read for the backlog's age and the publication's stamp.
  const uint64_t nowNs = net::EventLoop::monotonicNs();
  if (std::optional<PublishResult> refused = overloaded(nowNs)) return std::move(*refused);
  std::shared_ptr<Channel> ch = channel(publication.channel);
  if (ch == nullptr) {
    return {PublishError::ChannelLimit,
            "too many channels: the router holds at most " + std::to_string(limits_.maxChannels) +
                " (limits.max_channels)",
            0};
  }
  const int64_t ts = wallClockMs();
  ch->totals().published.fetch_add(1, std::memory_order_relaxed);
  size_t workers = 0;
  const uint64_t seq = ch->publish(
      ts,
      [&](uint64_t next) {
        return std::shared_ptr<const PublishedMessage>(
            build(publication, ch->config(), next, ts, span, nowNs));
      },
      [&](size_t worker, const std::shared_ptr<const PublishedMessage>& message) {
        ++workers;
        if (worker >= locals_.size()) return;
        if (owedWakes == nullptr) {
          locals_[worker]->deliver(message);
        } else if (locals_[worker]->enqueue(message)) {
          (*owedWakes)[worker] = 1;
        }
      });
  if (span != nullptr) span->setInt("wsrouter.workers", static_cast<int64_t>(workers));
  return {PublishError::None, {}, seq};
}

std::optional<PublishResult> Hub::overloaded(uint64_t nowNs) const {
  const size_t backlog = config_.admin.publishBacklog;
  const uint64_t backlogNs = uint64_t{config_.admin.publishBacklogMs} * 1000000;
  if (backlog == 0 && backlogNs == 0) return std::nullopt;
  // Any worker, not only those with the channel's subscribers: simpler,
  // and a worker that far behind slows the whole instance's writes anyway.
  size_t busiest = 0;
  uint64_t oldestNs = 0;
  for (const LocalHub* local : locals_) {
    busiest = std::max(busiest, local->inboxDepth());
    const uint64_t waiting = local->inboxOldestNs();
    if (waiting != 0 && (oldestNs == 0 || waiting < oldestNs)) oldestNs = waiting;
  }
  if (backlogNs != 0 && oldestNs != 0) {
    const uint64_t now = nowNs != 0 ? nowNs : net::EventLoop::monotonicNs();
    if (now > oldestNs && now - oldestNs >= backlogNs) {
      return PublishResult{
          PublishError::Overloaded,
          "the router is overloaded: a worker's oldest waiting publication has waited " +
              std::to_string((now - oldestNs) / 1000000) + " ms, publications are refused past " +
              std::to_string(config_.admin.publishBacklogMs) +
              " ms (admin.publish_backlog_ms); retry later",
          0};
    }
  }
  if (backlog == 0 || busiest < backlog) return std::nullopt;
  return PublishResult{PublishError::Overloaded,
                       "the router is overloaded: a worker has " + std::to_string(busiest) +
                           " publications waiting, at most " + std::to_string(backlog) +
                           " are accepted (admin.publish_backlog); retry later",
                       0};
}

std::shared_ptr<PublishedMessage> Hub::build(const Publication& publication,
                                             const config::NamespaceConfig& settings, uint64_t seq,
                                             int64_t tsMs, telemetry::ActiveSpan* span,
                                             uint64_t acceptedNs) {
  auto message = std::make_shared<PublishedMessage>();
  message->channel = publication.channel;
  message->key = publication.key;
  message->seq = seq;
  message->tsMs = tsMs;
  message->acceptedNs = acceptedNs != 0 ? acceptedNs : net::EventLoop::monotonicNs();
  if (span != nullptr) message->trace = span->context();
  // Written straight into the plain frame: one allocation, header and
  // envelope; the compressed twin deflates that frame's payload.
  const DataEnvelope envelope(publication.type, publication.channel, seq, tsMs, publication.data);
  ws::UnfilledFrame plain = ws::allocateFrame(ws::Opcode::Text, envelope.size());
  envelope.writeTo(plain.payload.data());
  const size_t threshold = settings.compressionThresholdBytes;
  // 0 compresses everything (the twin is kept only when it is smaller).
  if (config_.server.perMessageDeflate && envelope.size() >= threshold) {
    std::unique_ptr<ws::Deflater> deflater = takeDeflater();
    message->frames = ws::prepareMessage(std::move(plain.frame), deflater.get(), threshold);
    giveBackDeflater(std::move(deflater));
    if (message->frames.compressed) {
      compressionIn_.fetch_add(message->frames.plain.size(), std::memory_order_relaxed);
      compressionOut_.fetch_add(message->frames.compressed.size(), std::memory_order_relaxed);
    }
  } else {
    message->frames = ws::prepareMessage(std::move(plain.frame), nullptr, 0);
  }
  message->frames.stamp(message->acceptedNs);
  return message;
}

std::shared_ptr<Channel> Hub::find(std::string_view name) const {
  std::shared_lock lock(channelsMutex_);
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second;
}

Channel::Accepted Hub::accept(Channel& channel, const Publication& publication, uint64_t epoch,
                              uint64_t seq, int64_t tsMs, uint64_t origin) {
  const Channel::Accepted accepted = channel.accept(
      epoch, seq, tsMs, origin,
      [&](uint64_t next, Channel::Accepted how) {
        std::shared_ptr<PublishedMessage> message =
            build(publication, channel.config(), next, tsMs, nullptr);
        message->afterHole = how == Channel::Accepted::Hole;
        message->restart = how == Channel::Accepted::Restart;
        message->origin = origin;
        // The publishing instance's broker.publish span (its context came
        // in the message): each worker's fan-out span is its child, as with
        // the memory broker.
        if (tracer_ != nullptr) message->trace = publication.trace;
        return std::shared_ptr<const PublishedMessage>(std::move(message));
      },
      [&](size_t worker, const std::shared_ptr<const PublishedMessage>& message) {
        if (worker < locals_.size()) locals_[worker]->deliver(message);
      });
  if (accepted != Channel::Accepted::Ignored && accepted != Channel::Accepted::Duplicate &&
      accepted != Channel::Accepted::Diverged) {
    channel.totals().published.fetch_add(1, std::memory_order_relaxed);
  }
  return accepted;
}

std::shared_ptr<const PublishedMessage> Hub::rebuild(const Publication& publication, uint64_t seq,
                                                     int64_t tsMs, uint64_t origin) {
  std::shared_ptr<PublishedMessage> message =
      build(publication, config_.namespaceFor(publication.channel), seq, tsMs, nullptr);
  message->origin = origin;
  return message;
}

void Hub::prime(Channel& channel, uint64_t epoch, uint64_t seq,
                const std::vector<std::shared_ptr<const PublishedMessage>>& history,
                std::shared_ptr<const PublishedMessage> retained) {
  channel.prime(epoch, seq, history, std::move(retained), [&](size_t worker) {
    if (worker < locals_.size()) locals_[worker]->channelPrimed(channel.name());
  });
}

std::vector<Hub::ChannelSummary> Hub::channelSummaries() const {
  std::vector<ChannelSummary> out;
  std::shared_lock lock(channelsMutex_);
  out.reserve(channels_.size());
  for (const auto& [name, channel] : channels_)
    out.push_back({name, channel->subscribers(), channel->seq()});
  return out;
}

}  // namespace wsr::hub
