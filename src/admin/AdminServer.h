#pragma once
// The admin HTTP server (PROTOCOL.md "Publishing (admin port)", docs/admin-api.md):
// the publish API, the read-only stats routes, disconnects and the probes, on
// threads of its own, apart from the WebSocket workers. AdminFront reads each
// request in full, within admin.request_timeout_ms, before a handler thread
// runs it (AdminRoutes); the probes have handler threads of their own.
//
// POST routes need a publisher token (Authorization: Bearer); GET routes are
// open, for Prometheus and the kubelet on the internal admin port.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "admin/AdminBackend.h"
#include "admin/PublishRejections.h"
#include "admin/PublisherTokens.h"
#include "config/Config.h"
#include "hub/PublishSink.h"

namespace wsr::telemetry {
class Tracer;
}

namespace wsr::admin {

class AdminFront;
class AdminRoutes;
class PublishParser;

class AdminServer {
 public:
  // Threads running handlers. A thread is held only while a handler runs (a
  // publish or a stats answer), never while a client is slow to send; the
  // probes have kProbeThreads of their own, so they answer however busy or
  // slow the publishers are.
  static constexpr size_t kThreads = 16;
  static constexpr size_t kProbeThreads = 2;

  // sink, backend and tracer (may be null: publish requests are not traced)
  // must outlive the server.
  AdminServer(const config::AdminConfig& config, hub::PublishSink& sink, AdminBackend& backend,
              telemetry::Tracer* tracer = nullptr);
  ~AdminServer();  // stop()

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Loads the publisher token file (a configured file that is missing or
  // lists no token fails the start, naming the file), binds host:port (0: a
  // free port) and serves on its own threads. Returns once the listener is
  // bound and accepting. Call once.
  bool start(std::string& error);

  // The bound port, once started.
  uint16_t port() const { return port_.load(); }

  // Stops accepting, finishes the requests in progress and joins the threads.
  // Idempotent; any thread but the server's own.
  void stop();

  // Re-reads admin.publisher_token_file (rotation), from any thread once
  // start() has returned. On failure the tokens loaded before stay valid.
  // False with an error when no file is configured.
  bool reloadPublisherTokens(std::string& error);
  // The publisher token file, for the app's SecretWatcher; null when none.
  auth::SecretFile* publisherTokenFile() { return tokens_ ? &tokens_->secretFile() : nullptr; }
  // Publications the publish API refused, by code (for the metrics).
  const PublishRejections& publishRejections() const { return rejections_; }

 private:
  config::AdminConfig config_;
  hub::PublishSink& sink_;
  AdminBackend& backend_;
  telemetry::Tracer* const tracer_;
  std::unique_ptr<PublisherTokens> tokens_;  // null: no file configured, publishing refused
  PublishRejections rejections_;

  std::unique_ptr<AdminRoutes> routes_;
  std::unique_ptr<PublishParser> loopParser_;  // the admin loop's

  std::mutex lifecycleMutex_;  // start() and stop()
  std::unique_ptr<AdminFront> front_;
  std::atomic<uint16_t> port_{0};
};

}  // namespace wsr::admin
