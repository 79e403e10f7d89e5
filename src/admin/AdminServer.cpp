#include "admin/AdminServer.h"

#include <httplib.h>

#include "admin/AdminFront.h"
#include "admin/AdminRoutes.h"
#include "admin/PublisherStream.h"

namespace wsr::admin {
namespace {

// Publishers, probes and scrapers connecting at the same moment must not see
// SYNs dropped and retried a second later.
constexpr int kListenBacklog = 1024;
// A request head (request line and header fields) over this answers 431.
constexpr size_t kMaxHeadBytes = 16384;
// Connections open at once; at the cap a new one closes the oldest that waits
// for its client (AdminFront), so a flood of idle ones cannot lock the
// kubelet out.
constexpr size_t kMaxConnections = 1024;

}  // namespace

AdminServer::AdminServer(const config::AdminConfig& config, hub::PublishSink& sink,
                         AdminBackend& backend, telemetry::Tracer* tracer)
    : config_(config), sink_(sink), backend_(backend), tracer_(tracer) {}

AdminServer::~AdminServer() {
  stop();
}

bool AdminServer::start(std::string& error) {
  std::lock_guard lock(lifecycleMutex_);
  if (front_) {
    error = "admin server already started";
    return false;
  }
  if (!config_.publisherTokenFile.empty()) {
    // A configured file that cannot be used stops the start: serving an
    // open, or silently closed, publish API would both be wrong.
    auto tokens = std::make_unique<PublisherTokens>(config_.publisherTokenFile);
    if (!tokens->reload(error)) return false;
    tokens_ = std::move(tokens);
  }
  routes_ = std::make_unique<AdminRoutes>(
      AdminContext{&config_, &sink_, &backend_, tokens_.get(), &rejections_, tracer_});

  AdminFront::Options options;
  options.host = config_.host;
  options.port = config_.port;
  options.limits.maxHeadBytes = kMaxHeadBytes;
  options.limits.maxBodyBytes = config_.maxPublishBytes;
  options.limits.requestTimeoutMs = config_.requestTimeoutMs;
  options.limits.bodyPadding = PublishParser::kBodyPadding;
  options.threads = kThreads;
  options.probeThreads = kProbeThreads;
  options.maxConnections = kMaxConnections;
  options.backlog = kListenBacklog;
  const AdminRoutes* routes = routes_.get();
  AdminFront::Routes frontRoutes;
  frontRoutes.handler = [routes](const AdminConnection::Request& request, httplib::Response& res) {
    routes->handle(request.http, request.body, res, request.publisherVerified);
  };
  frontRoutes.isProbe = &AdminRoutes::isProbe;
  frontRoutes.wantsBody = [routes](const httplib::Request& head, std::string& memo) {
    return routes->wantsBody(head, memo);
  };
  frontRoutes.runsInline = [routes](const httplib::Request& head) {
    return routes->runsInline(head);
  };
  // On the admin loop's thread only: its parser is reused request after request.
  loopParser_ = std::make_unique<PublishParser>();
  frontRoutes.inlineHandler = [routes, parser = loopParser_.get()](
                                  const AdminConnection::Request& request, httplib::Response& res) {
    routes->handle(request.http, request.body, res, request.publisherVerified, parser);
  };
  frontRoutes.upgrade = [routes](const AdminConnection::Request& request, AdminConnection&,
                                 WorkerPool& handlerThreads) -> std::optional<AdminFront::Upgrade> {
    if (request.http.path != kPublisherSocketPath) return std::nullopt;
    PublisherHandshake handshake = acceptPublisherSocket(routes->context(), request);
    AdminFront::Upgrade upgrade;
    upgrade.answer = std::move(handshake.answer);
    upgrade.keepAlive = handshake.accepted || request.framing.keepAlive;
    if (handshake.accepted) {
      upgrade.stream = std::make_unique<PublisherStream>(routes->context(), handlerThreads);
    }
    return upgrade;
  };
  auto front = std::make_unique<AdminFront>(options, std::move(frontRoutes));
  if (!front->start(error)) return false;
  port_ = front->port();
  front_ = std::move(front);
  return true;
}

void AdminServer::stop() {
  std::lock_guard lock(lifecycleMutex_);
  if (front_) front_->stop();
}

bool AdminServer::reloadPublisherTokens(std::string& error) {
  if (!tokens_) {
    error = "no publisher token file is configured (admin.publisher_token_file)";
    return false;
  }
  return tokens_->reload(error);
}

}  // namespace wsr::admin
