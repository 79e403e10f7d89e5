#include "app/RouterMetrics.h"

#include <array>
#include <string>
#include <string_view>

#include "telemetry/MetricFamilies.h"

namespace wsr::app {
namespace {

using prometheus::MetricFamily;
using telemetry::addSample;
using telemetry::counterFamily;
using telemetry::gaugeFamily;

struct NamedSecret {
  std::string_view name;
  const auth::SecretFile* file;  // null: not configured
};

}  // namespace

RouterCollector::RouterCollector(const config::Config& config, auth::Authenticator& authenticator,
                                 admin::AdminServer& admin, const telemetry::Logger& logger,
                                 const telemetry::Tracer* tracer, const broker::Broker& broker,
                                 std::function<bool()> ready)
    : config_(config),
      authenticator_(authenticator),
      admin_(admin),
      logger_(logger),
      tracer_(tracer),
      broker_(broker),
      ready_(std::move(ready)) {}

std::vector<MetricFamily> RouterCollector::Collect() const {
  std::vector<MetricFamily> out;

  MetricFamily rejected =
      counterFamily("wsrouter_publish_rejected_total", "Publications refused, by error code.");
  for (size_t i = 0; i < admin::PublishRejections::kCodes.size(); ++i) {
    addSample(rejected, static_cast<double>(admin_.publishRejections().value(i)),
              {{"code", std::string(admin::PublishRejections::kCodes[i])}});
  }
  out.push_back(std::move(rejected));

  // Every secret, configured or not (an unconfigured one stays at 0). The
  // client secrets are the authenticator's files, told apart by path.
  const std::vector<auth::SecretFile*> files = authenticator_.secretFiles();
  auto clientFile = [&files](bool configured, const std::string& path) {
    const auth::SecretFile* found = nullptr;
    for (const auth::SecretFile* file : files) {
      if (configured && !path.empty() && file->path() == path) found = file;
    }
    return found;
  };
  const config::JwtConfig& jwt = config_.auth.jwt;
  const bool tokenMode = config_.auth.mode == config::AuthMode::Token;
  const bool jwtMode = config_.auth.mode == config::AuthMode::Jwt;
  const std::array<NamedSecret, 5> secrets = {{
      {"client_tokens", clientFile(tokenMode, config_.auth.tokenFile)},
      {"publisher_tokens", admin_.publisherTokenFile()},
      {"jwt_hs256", clientFile(jwtMode, jwt.hs256SecretFile)},
      {"jwt_rs256", clientFile(jwtMode, jwt.rs256PublicKeyFile)},
      {"jwt_es256", clientFile(jwtMode, jwt.es256PublicKeyFile)},
  }};
  MetricFamily reloads = counterFamily("wsrouter_token_reloads_total",
                                       "Re-reads of a secret file, by secret and result.");
  for (const NamedSecret& secret : secrets) {
    const auth::SecretFile* file = secret.file;
    addSample(reloads, file != nullptr ? static_cast<double>(file->reloads()) : 0.0,
              {{"secret", std::string(secret.name)}, {"result", "success"}});
    addSample(reloads, file != nullptr ? static_cast<double>(file->failures()) : 0.0,
              {{"secret", std::string(secret.name)}, {"result", "failure"}});
  }
  out.push_back(std::move(reloads));

  MetricFamily ready = gaugeFamily("wsrouter_ready", "1 when /readyz answers 200.");
  addSample(ready, ready_() ? 1 : 0);
  out.push_back(std::move(ready));
  const broker::BrokerStats broker = broker_.stats();
  const std::string brokerName(broker_.name());
  MetricFamily up =
      gaugeFamily("wsrouter_broker_up", "1 while the broker is reachable (memory is always up).");
  addSample(up, broker.up ? 1 : 0, {{"broker", brokerName}});
  out.push_back(std::move(up));
  MetricFamily errors =
      counterFamily("wsrouter_broker_errors_total", "Broker operations that failed.");
  addSample(errors, static_cast<double>(broker.errors), {{"broker", brokerName}});
  out.push_back(std::move(errors));
  MetricFamily reconnects = counterFamily("wsrouter_broker_reconnects_total",
                                          "Broker connections made again after one was lost.");
  addSample(reconnects, static_cast<double>(broker.reconnects), {{"broker", brokerName}});
  out.push_back(std::move(reconnects));
  MetricFamily publishFailures =
      counterFamily("wsrouter_broker_publish_failures_total",
                    "Publications answered 503 UNAVAILABLE because of the broker.");
  addSample(publishFailures, static_cast<double>(broker.publishFailures), {{"broker", brokerName}});
  out.push_back(std::move(publishFailures));
  const std::pair<const char*, const char*> mirrorSeries[] = {
      {"wsrouter_broker_replayed_total",
       "Publications delivered from the stream while catching up after a reconnection."},
      {"wsrouter_broker_lost_total",
       "Seqs this instance never received from the broker (each announced with a gap)."},
      {"wsrouter_broker_epoch_changes_total",
       "Channel numberings that restarted under a new epoch (the broker lost the channel)."},
      {"wsrouter_broker_numbering_conflicts_total",
       "Seqs the broker numbered twice (a failover lost writes); each restarts the numbering."}};
  const uint64_t mirrorValues[] = {broker.replayed, broker.lost, broker.epochChanges,
                                   broker.numberingConflicts};
  for (size_t i = 0; i < std::size(mirrorValues); ++i) {
    MetricFamily family = counterFamily(mirrorSeries[i].first, mirrorSeries[i].second);
    addSample(family, static_cast<double>(mirrorValues[i]), {{"broker", brokerName}});
    out.push_back(std::move(family));
  }
  MetricFamily latency = telemetry::histogramFamily(
      "wsrouter_broker_command_duration_seconds",
      "Round trips of broker commands (a pipeline of publications, a channel read).");
  telemetry::addHistogram(latency, stats::LatencyHistogram::boundsSeconds(),
                          broker.commandLatency.counts, broker.commandLatency.sumSeconds(),
                          {{"broker", brokerName}});
  out.push_back(std::move(latency));

  MetricFamily suppressed =
      counterFamily("wsrouter_log_lines_suppressed_total",
                    "Log lines over log.client_events_per_second, counted instead of written.");
  addSample(suppressed, static_cast<double>(logger_.suppressed()));
  out.push_back(std::move(suppressed));

  MetricFamily exported =
      counterFamily("wsrouter_spans_exported_total", "Spans the OTLP exporter delivered.");
  addSample(exported, tracer_ != nullptr ? static_cast<double>(tracer_->exportedSpans()) : 0.0);
  out.push_back(std::move(exported));
  MetricFamily dropped = counterFamily("wsrouter_spans_dropped_total", "Spans lost, by reason.");
  for (size_t i = 0; i < telemetry::kDropReasonCount; ++i) {
    const auto reason = static_cast<telemetry::DropReason>(i);
    addSample(dropped,
              tracer_ != nullptr ? static_cast<double>(tracer_->droppedSpans(reason)) : 0.0,
              {{"reason", std::string(telemetry::dropReasonName(reason))}});
  }
  out.push_back(std::move(dropped));
  return out;
}

}  // namespace wsr::app
