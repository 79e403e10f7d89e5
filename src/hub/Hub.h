#pragma once
// The router's shared half: every channel's seq, history and retained value,
// and the hand-off of each publication to the workers that have subscribers
// for it. Publications arrive from any thread (admin server, demo feed); each
// is built once into a PublishedMessage, stored, and posted to those workers'
// LocalHubs, which fan it out to their own connections.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/Config.h"
#include "hub/Channel.h"
#include "hub/MemorySessionStore.h"
#include "hub/PublishSink.h"
#include "ws/PerMessageDeflate.h"

namespace wsr::telemetry {
class ActiveSpan;
class Tracer;
}  // namespace wsr::telemetry

namespace wsr::hub {

class LocalHub;

// A namespace's figures at one moment (Hub::namespaceStats).
struct NamespaceStats {
  uint64_t channels = 0;     // that exist now
  uint64_t subscribers = 0;  // subscriptions, over every connection
  uint64_t published = 0;
  uint64_t delivered = 0;
  uint64_t droppedSlowConsumer = 0;
  uint64_t droppedConflated = 0;
  uint64_t droppedOverload = 0;
  uint64_t disconnectedSlowConsumer = 0;
  uint64_t gapsSent = 0;
};

struct HubLimits {
  size_t maxSubscriptionsPerConnection = 50;
  size_t maxChannelsPerRequest = 50;
  // Channels are created by publications and subscriptions; past this many
  // new ones are refused (a client cannot make the router grow without end).
  size_t maxChannels = 100000;
  // A published channel with nothing left to keep (no subscriber, retained
  // value or history) is removed after this long without a publication.
  uint64_t idleChannelMs = 300000;
};

class Hub final : public PublishSink {
 public:
  // `tracer` (may be null) traces publications: a broker.publish span each,
  // and a fan-out span per worker; it must outlive the hub.
  Hub(const config::Config& config, HubLimits limits = {}, telemetry::Tracer* tracer = nullptr);
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Wiring, before serving: worker w's LocalHub, in worker order.
  void attach(LocalHub& local);
  // Wiring, before serving, with broker.type redis: channels become mirrors
  // of Redis, and `interest` learns which ones this instance watches.
  void mirror(ChannelInterest& interest) { interest_ = &interest; }
  // Wiring, before serving: where lost connections' sessions wait for
  // `resume` (default: this process's MemorySessionStore).
  void keepSessionsIn(SessionStore& store) { sessions_ = &store; }
  SessionStore& sessions() const { return *sessions_; }

  // ---- Mirror side: the Redis broker's thread feeds what Redis says.
  // The channel if it exists (never created here).
  std::shared_ptr<Channel> find(std::string_view name) const;
  // A publication Redis numbered (the pub/sub message, or the stream read
  // after a reconnection): built once, stored and fanned out like publish().
  // `origin`: the publication's id from its publisher (0: not known). With
  // tracing on, the publication's trace (the publishing instance's
  // broker.publish span) becomes the message's trace: the parent of the
  // workers' fan-out spans.
  Channel::Accepted accept(Channel& channel, const Publication& publication, uint64_t epoch,
                           uint64_t seq, int64_t tsMs, uint64_t origin);
  // A stored publication's frames, for prime().
  std::shared_ptr<const PublishedMessage> rebuild(const Publication& publication, uint64_t seq,
                                                  int64_t tsMs, uint64_t origin);
  // The mirror's first state from Redis; the workers whose clients waited
  // are told to ask again.
  void prime(Channel& channel, uint64_t epoch, uint64_t seq,
             const std::vector<std::shared_ptr<const PublishedMessage>>& history,
             std::shared_ptr<const PublishedMessage> retained);

  PublishResult publish(Publication&& publication) override;
  // Each worker woken once for the whole batch.
  std::vector<PublishResult> publishBatch(std::vector<Publication>&& publications) override;
  // Any thread, cheap: why a publication would be refused now for the
  // workers' backlog (admin.publish_backlog), with PublishError::Overloaded;
  // nullopt when it would not. The Redis broker asks before going to Redis.
  // `nowNs`: monotonic now, when the caller has it (0: read here if needed).
  std::optional<PublishResult> overloaded(uint64_t nowNs = 0) const;
  bool hasSubscribers(std::string_view channel) const override;

  // Shutdown: new WebSocket upgrades are refused with 503 from now on
  // (publications still flow to the clients being drained).
  void beginDraining() { draining_.store(true, std::memory_order_relaxed); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  // Refuse publications from now on (the very end of shutdown).
  void stopAccepting() { accepting_.store(false, std::memory_order_relaxed); }

  // The channel, created on first use; null past maxChannels (counted in
  // channelLimitRefusals()). Whoever holds it keeps it from being removed.
  std::shared_ptr<Channel> channel(std::string_view name);
  // Gives a channel back (a worker's last subscriber left it): it is removed
  // at once when it holds nothing anyone may still ask for.
  void release(std::shared_ptr<Channel> channel);
  // Removes every channel with nothing left to keep (History ages out,
  // publishers go quiet); returns how many. Called periodically.
  size_t sweepChannels(int64_t nowMs);
  size_t channelCount() const;
  uint64_t channelLimitRefusals() const {
    return channelLimitRefusals_.load(std::memory_order_relaxed);
  }
  const config::Config& config() const { return config_; }
  const HubLimits& limits() const { return limits_; }
  // Null when tracing is off (the one branch the data path pays for it).
  telemetry::Tracer* tracer() const { return tracer_; }

  // Every channel, for the admin view.
  struct ChannelSummary {
    std::string name;
    uint32_t subscribers;
    uint64_t seq;
  };
  std::vector<ChannelSummary> channelSummaries() const;

  // Namespaces as counted: the configured ones and "default" (where every
  // other channel counts: bounded cardinality), sorted by name; a channel's
  // index among them is Channel::namespaceIndex().
  const std::vector<std::string>& namespaces() const { return namespaceNames_; }
  size_t namespaceIndex(std::string_view channel) const;
  // A namespace's figures now: the hub's totals and every worker's counters.
  NamespaceStats namespaceStats(size_t index) const;
  NamespaceStats statsFor(std::string_view channel) const {
    return namespaceStats(namespaceIndex(channel));
  }
  // One channel's subscribers (0 when it does not exist; it is not created).
  uint32_t subscribers(std::string_view channel) const;

  // Publications given a compressed twin: their plain and compressed frame bytes.
  uint64_t compressionInputBytes() const { return compressionIn_.load(std::memory_order_relaxed); }
  uint64_t compressionOutputBytes() const {
    return compressionOut_.load(std::memory_order_relaxed);
  }

 private:
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // publish() itself; `span` (null when not tracing) is the broker span.
  // publish() with its broker.publish span when tracing. `owedWakes` (null:
  // wake each worker at once) collects, by worker, the wake-ups a batch
  // owes once it is all handed over.
  PublishResult publishTraced(Publication&& publication, std::vector<char>* owedWakes);
  PublishResult publishWithin(Publication&& publication, telemetry::ActiveSpan* span,
                              std::vector<char>* owedWakes = nullptr);
  // The publication's frames (envelope, compressed twin), built once.
  std::shared_ptr<PublishedMessage> build(const Publication& publication,
                                          const config::NamespaceConfig& settings, uint64_t seq,
                                          int64_t tsMs, telemetry::ActiveSpan* span,
                                          uint64_t acceptedNs = 0);
  // With channelsMutex_ held exclusively: removes the channel of that name
  // when nobody holds it and it is disposable.
  bool removeIfDisposable(const std::string& name, int64_t nowMs);
  std::unique_ptr<ws::Deflater> takeDeflater();
  void giveBackDeflater(std::unique_ptr<ws::Deflater> deflater);

  const config::Config& config_;
  const HubLimits limits_;
  telemetry::Tracer* const tracer_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> draining_{false};
  std::vector<LocalHub*> locals_;
  ChannelInterest* interest_ = nullptr;
  MemorySessionStore memorySessions_;
  SessionStore* sessions_ = &memorySessions_;

  mutable std::shared_mutex channelsMutex_;
  std::unordered_map<std::string, std::shared_ptr<Channel>, TransparentHash, std::equal_to<>>
      channels_;
  std::atomic<uint64_t> channelLimitRefusals_{0};
  std::vector<std::string> namespaceNames_;
  std::unique_ptr<NamespaceTotals[]> namespaceTotals_;  // by namespace index

  // zlib streams are not thread-safe and publishers run on many threads.
  std::mutex deflatersMutex_;
  std::vector<std::unique_ptr<ws::Deflater>> deflaters_;
  std::atomic<uint64_t> compressionIn_{0};
  std::atomic<uint64_t> compressionOut_{0};
};

}  // namespace wsr::hub
