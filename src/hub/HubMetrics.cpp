#include "hub/HubMetrics.h"

#include <algorithm>
#include <future>
#include <memory>
#include <string>

#include "net/EventLoop.h"
#include "stats/LatencyHistogram.h"
#include "telemetry/MetricFamilies.h"

namespace wsr::hub {
namespace {

using prometheus::MetricFamily;
using telemetry::addSample;
using telemetry::counterFamily;
using telemetry::gaugeFamily;

double number(uint64_t value) {
  return static_cast<double>(value);
}

uint64_t load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

MetricFamily latencyFamily(std::string name, std::string help,
                           const stats::LatencyHistogram::Snapshot& snapshot) {
  MetricFamily family = telemetry::histogramFamily(std::move(name), std::move(help));
  telemetry::addHistogram(family, stats::LatencyHistogram::boundsSeconds(), snapshot.counts,
                          snapshot.sumSeconds());
  return family;
}

}  // namespace

HubCollector::HubCollector(const config::Config& config, const Hub& hub, ConnectionGate& gate,
                           ws::Server& server, std::vector<LocalHub*> locals,
                           std::chrono::milliseconds workerTimeout)
    : config_(config),
      hub_(hub),
      gate_(gate),
      server_(server),
      locals_(std::move(locals)),
      workerTimeout_(workerTimeout) {}

std::vector<MetricFamily> HubCollector::Collect() const {
  std::vector<MetricFamily> out;
  collectConnections(out);
  collectChannels(out);
  collectLatencies(out);
  collectQueues(out);
  collectBytes(out);
  collectLoops(out);
  return out;
}

void HubCollector::collectConnections(std::vector<MetricFamily>& out) const {
  const std::vector<std::string>& endpoints =
      locals_.empty() ? std::vector<std::string>{} : locals_.front()->endpoints().labels();
  MetricFamily open =
      gaugeFamily("wsrouter_connections", "Open WebSocket connections, by endpoint.");
  MetricFamily opened = counterFamily("wsrouter_connections_opened_total",
                                      "WebSocket upgrades accepted, by endpoint.");
  for (size_t e = 0; e < endpoints.size(); ++e) {
    uint64_t closedCount = 0;
    uint64_t openedCount = 0;
    for (const LocalHub* local : locals_) {
      closedCount += load(local->stats().closed[e]);  // closes first: open never below 0
      openedCount += load(local->stats().opened[e]);
    }
    addSample(open, number(openedCount > closedCount ? openedCount - closedCount : 0),
              {{"endpoint", endpoints[e]}});
    addSample(opened, number(openedCount), {{"endpoint", endpoints[e]}});
  }
  out.push_back(std::move(open));
  MetricFamily max =
      gaugeFamily("wsrouter_connections_max",
                  "The configured cap on connections (limits.max_connections; 0: none).");
  addSample(max, config_.limits.maxConnections);
  out.push_back(std::move(max));
  out.push_back(std::move(opened));

  MetricFamily closed =
      counterFamily("wsrouter_connections_closed_total", "Connections closed, by close code.");
  for (size_t slot = 0; slot < kCloseCodeSlots; ++slot) {
    uint64_t count = 0;
    for (const LocalHub* local : locals_)
      count += load(local->stats().closedByCode[slot]);
    addSample(closed, number(count), {{"code", std::string(closeCodeLabel(slot))}});
  }
  out.push_back(std::move(closed));

  // The engine's refusals, then the gate's.
  uint64_t badHandshakes = 0;
  uint64_t headerTooLarge = 0;
  uint64_t handshakeTimeouts = 0;
  uint64_t heartbeatTimeouts = 0;
  uint64_t idleTimeouts = 0;
  for (size_t w = 0; w < server_.workerCount(); ++w) {
    const ws::WorkerStats& stats = server_.worker(w).stats();
    badHandshakes += load(stats.badHandshakes);
    headerTooLarge += load(stats.headerTooLarge);
    handshakeTimeouts += load(stats.handshakeTimeouts);
    heartbeatTimeouts += load(stats.heartbeatTimeouts);
    idleTimeouts += load(stats.idleTimeouts);
  }
  MetricFamily refused = counterFamily("wsrouter_connections_refused_total",
                                       "WebSocket upgrades refused before the 101, by reason.");
  addSample(refused, number(badHandshakes), {{"reason", "bad_handshake"}});
  addSample(refused, number(headerTooLarge), {{"reason", "header_too_large"}});
  addSample(refused, number(handshakeTimeouts), {{"reason", "handshake_timeout"}});
  for (size_t i = 0; i < kRefusalCount; ++i) {
    const auto refusal = static_cast<Refusal>(i);
    addSample(refused, number(gate_.refusals(refusal)),
              {{"reason", std::string(refusalName(refusal))}});
  }
  out.push_back(std::move(refused));

  MetricFamily failures =
      counterFamily("wsrouter_auth_failures_total", "Credentials refused, by reason.");
  for (size_t i = 0; i < auth::kAuthFailureCount; ++i) {
    const auto failure = static_cast<auth::AuthFailure>(i);
    addSample(failures, number(gate_.authenticator().failures(failure)),
              {{"reason", std::string(auth::authFailureName(failure))}});
  }
  out.push_back(std::move(failures));

  MetricFamily heartbeat =
      counterFamily("wsrouter_heartbeat_timeouts_total",
                    "Connections dropped for not answering a ping within the pong timeout.");
  addSample(heartbeat, number(heartbeatTimeouts));
  out.push_back(std::move(heartbeat));
  MetricFamily idle = counterFamily("wsrouter_idle_timeouts_total",
                                    "Connections closed after the idle timeout of silence.");
  addSample(idle, number(idleTimeouts));
  out.push_back(std::move(idle));

  MetricFamily messages =
      counterFamily("wsrouter_client_messages_total", "Client messages, by op.");
  for (size_t op = 0; op < kClientOpLabels.size(); ++op) {
    uint64_t count = 0;
    for (const LocalHub* local : locals_)
      count += load(local->stats().clientMessages[op]);
    addSample(messages, number(count), {{"op", std::string(kClientOpLabels[op])}});
  }
  out.push_back(std::move(messages));
  uint64_t rateLimited = 0;
  for (const LocalHub* local : locals_)
    rateLimited += load(local->stats().rateLimited);
  MetricFamily limited = counterFamily("wsrouter_client_rate_limited_total",
                                       "Client messages refused with RATE_LIMITED.");
  addSample(limited, number(rateLimited));
  out.push_back(std::move(limited));

  uint64_t resumed = 0;
  uint64_t resumeFailed = 0;
  for (const LocalHub* local : locals_) {
    resumed += load(local->stats().resumed);
    resumeFailed += load(local->stats().resumeFailed);
  }
  MetricFamily resumes = counterFamily(
      "wsrouter_resumes_total", "Session resumes, by result (resumed, or failed: RESUME_FAILED).");
  addSample(resumes, number(resumed), {{"result", "resumed"}});
  addSample(resumes, number(resumeFailed), {{"result", "failed"}});
  out.push_back(std::move(resumes));
  const SessionStore::Counts sessions = hub_.sessions().counts();
  MetricFamily kept =
      counterFamily("wsrouter_resume_sessions_kept_total",
                    "Sessions of connections lost without the client's close, kept for resume.");
  addSample(kept, number(sessions.kept - sessions.lost));
  out.push_back(std::move(kept));
  MetricFamily lost =
      counterFamily("wsrouter_resume_sessions_lost_total",
                    "Sessions that could not be kept (store full, or Redis unreachable).");
  addSample(lost, number(sessions.lost));
  out.push_back(std::move(lost));
  MetricFamily held = gaugeFamily("wsrouter_resume_sessions",
                                  "Sessions this process keeps for resume now (memory broker).");
  addSample(held, number(sessions.held));
  out.push_back(std::move(held));
}

void HubCollector::collectChannels(std::vector<MetricFamily>& out) const {
  MetricFamily channels = gaugeFamily("wsrouter_channels", "Channels that exist, by namespace.");
  MetricFamily subscribers = gaugeFamily(
      "wsrouter_subscribers", "Subscriptions to the namespace's channels, over all connections.");
  MetricFamily published =
      counterFamily("wsrouter_published_total", "Publications accepted, by namespace.");
  MetricFamily delivered = counterFamily("wsrouter_delivered_total",
                                         "Messages queued to a subscriber's socket, by namespace.");
  MetricFamily dropped = counterFamily(
      "wsrouter_dropped_total", "Messages a subscriber did not get, by namespace and reason.");
  MetricFamily disconnects =
      counterFamily("wsrouter_slow_consumer_disconnects_total",
                    "Clients closed with 4008 under the disconnect policy, by namespace.");
  MetricFamily gaps = counterFamily("wsrouter_gaps_sent_total", "Gap notices sent, by namespace.");
  for (size_t index = 0; index < hub_.namespaces().size(); ++index) {
    const std::string& name = hub_.namespaces()[index];
    const NamespaceStats stats = hub_.namespaceStats(index);
    const telemetry::Labels labels{{"namespace", name}};
    addSample(channels, number(stats.channels), labels);
    addSample(subscribers, number(stats.subscribers), labels);
    addSample(published, number(stats.published), labels);
    addSample(delivered, number(stats.delivered), labels);
    addSample(dropped, number(stats.droppedSlowConsumer),
              {{"namespace", name}, {"reason", "slow_consumer"}});
    addSample(dropped, number(stats.droppedConflated),
              {{"namespace", name}, {"reason", "conflated"}});
    addSample(dropped, number(stats.droppedOverload),
              {{"namespace", name}, {"reason", std::string(kDroppedOverload)}});
    addSample(disconnects, number(stats.disconnectedSlowConsumer), labels);
    addSample(gaps, number(stats.gapsSent), labels);
  }
  // The fixed channels: those named like a namespace with its own endpoint.
  MetricFamily fixed = gaugeFamily("wsrouter_channel_subscribers",
                                   "Subscribers of each fixed channel (market, foreign, index).");
  for (const auto& [name, settings] : config_.namespaces) {
    if (!settings.dedicatedEndpoint || name == config::kDefaultNamespace) continue;
    addSample(fixed, hub_.subscribers(name), {{"channel", name}});
  }
  MetricFamily refused = counterFamily(
      "wsrouter_channel_limit_refusals_total",
      "New channels refused at limits.max_channels (a subscription or a publication each).");
  addSample(refused, number(hub_.channelLimitRefusals()));
  for (MetricFamily* family : {&channels, &subscribers, &fixed, &published, &delivered, &dropped,
                               &disconnects, &gaps, &refused}) {
    out.push_back(std::move(*family));
  }
}

void HubCollector::collectLatencies(std::vector<MetricFamily>& out) const {
  stats::LatencyHistogram::Snapshot broadcast;
  for (const LocalHub* local : locals_)
    local->stats().broadcastDuration.addTo(broadcast);
  out.push_back(latencyFamily("wsrouter_broadcast_duration_seconds",
                              "From a publication's acceptance to its frame queued for the last "
                              "local subscriber, per worker.",
                              broadcast));
  stats::LatencyHistogram::Snapshot write;
  for (size_t w = 0; w < server_.workerCount(); ++w)
    server_.worker(w).stats().writeLatency.addTo(write);
  out.push_back(latencyFamily("wsrouter_publish_to_write_seconds",
                              "From a publication's acceptance to the write of its frame to a "
                              "client socket (the oldest frame of each write).",
                              write));
}

void HubCollector::collectQueues(std::vector<MetricFamily>& out) const {
  // Asked of each worker on its own thread: connections are its alone.
  std::vector<std::future<LocalHub::QueueGauges>> answers;
  for (size_t w = 0; w < locals_.size() && w < server_.workerCount(); ++w) {
    auto promise = std::make_shared<std::promise<LocalHub::QueueGauges>>();
    answers.push_back(promise->get_future());
    LocalHub* local = locals_[w];
    server_.worker(w).loop().post([promise, local] { promise->set_value(local->queueGauges()); });
  }
  LocalHub::QueueGauges total;
  const auto deadline = std::chrono::steady_clock::now() + workerTimeout_;
  for (auto& answer : answers) {
    if (answer.wait_until(deadline) != std::future_status::ready) continue;
    const LocalHub::QueueGauges gauges = answer.get();
    total.queuedBytes += gauges.queuedBytes;
    total.writeBlocked += gauges.writeBlocked;
    total.maxHeldBack = std::max(total.maxHeldBack, gauges.maxHeldBack);
  }
  MetricFamily queued =
      gaugeFamily("wsrouter_client_queued_bytes",
                  "Bytes queued to client sockets and not yet written, over all connections.");
  addSample(queued, number(total.queuedBytes));
  out.push_back(std::move(queued));
  MetricFamily depth = gaugeFamily("wsrouter_client_queue_depth_max",
                                   "The most messages held back for one slow client.");
  addSample(depth, number(total.maxHeldBack));
  out.push_back(std::move(depth));
  MetricFamily blocked = gaugeFamily("wsrouter_clients_write_blocked",
                                     "Connections whose socket is full, waiting for the client.");
  addSample(blocked, number(total.writeBlocked));
  out.push_back(std::move(blocked));
}

void HubCollector::collectBytes(std::vector<MetricFamily>& out) const {
  uint64_t read = 0;
  uint64_t written = 0;
  for (size_t w = 0; w < server_.workerCount(); ++w) {
    read += load(server_.worker(w).stats().bytesRead);
    written += load(server_.worker(w).stats().bytesWritten);
  }
  uint64_t compressedDeliveries = 0;
  for (const LocalHub* local : locals_)
    compressedDeliveries += load(local->stats().compressedDeliveries);
  auto counter = [&out](const char* name, const char* help, uint64_t value) {
    MetricFamily family = counterFamily(name, help);
    addSample(family, number(value));
    out.push_back(std::move(family));
  };
  counter("wsrouter_received_bytes_total", "Bytes read from client sockets.", read);
  counter("wsrouter_sent_bytes_total", "Bytes written to client sockets, after compression.",
          written);
  counter("wsrouter_compression_input_bytes_total",
          "Bytes of publications compressed with permessage-deflate, before compression.",
          hub_.compressionInputBytes());
  counter("wsrouter_compression_output_bytes_total",
          "Bytes of the same publications after compression.", hub_.compressionOutputBytes());
  counter("wsrouter_compressed_deliveries_total", "Deliveries sent compressed.",
          compressedDeliveries);
}

void HubCollector::collectLoops(std::vector<MetricFamily>& out) const {
  MetricFamily stall = gaugeFamily("wsrouter_event_loop_stall_seconds",
                                   "Time since each event loop last completed a pass.");
  const uint64_t now = net::EventLoop::monotonicMs();
  for (size_t w = 0; w < server_.workerCount(); ++w) {
    const uint64_t last = server_.worker(w).loop().lastPassMs();
    addSample(stall, now > last ? static_cast<double>(now - last) / 1000.0 : 0.0,
              {{"worker", std::to_string(w)}});
  }
  out.push_back(std::move(stall));
  MetricFamily inbox = gaugeFamily("wsrouter_worker_inbox_messages",
                                   "Publications waiting in each worker's inbox to be fanned out.");
  MetricFamily shed = counterFamily(
      "wsrouter_worker_inbox_shed_total",
      "Publications shed from each worker's inbox (full, or waiting past its max delay).");
  for (size_t w = 0; w < locals_.size(); ++w) {
    const telemetry::Labels labels{{"worker", std::to_string(w)}};
    addSample(inbox, number(locals_[w]->inboxDepth()), labels);
    addSample(shed, number(locals_[w]->inboxShed()), labels);
  }
  out.push_back(std::move(inbox));
  out.push_back(std::move(shed));
}

}  // namespace wsr::hub
