// wsrouter entry point.
//
// The router (channels, publish API, demo feed) is the next milestone; until
// it lands this binary loads and validates the configuration and serves the
// WebSocket engine as an echo server on server.host:server.port, so
// `make run` shows the engine working: every message comes back.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "config/CheckConfig.h"
#include "config/Config.h"
#include "ws/Server.h"

namespace {

constexpr const char* kUsage =
    "usage: wsrouter [--config FILE]     start (default FILE: config.yaml)\n"
    "       wsrouter --check-config FILE validate FILE (with WSROUTER_* overrides), exit 0 or 1\n";

class EchoHandler final : public wsr::ws::WebSocketHandler {
 public:
  void onMessage(wsr::ws::WebSocket& socket, std::string_view payload, bool binary) override {
    socket.send(payload, binary);
  }
};

wsr::ws::ServerOptions serverOptions(const wsr::config::Config& config) {
  wsr::ws::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.workers = config.server.workers;
  options.backlog = static_cast<int>(config.server.backlog);
  options.maxMessageBytes = config.server.maxMessageBytes;
  options.maxHeaderBytes = config.server.maxHeaderBytes;
  options.handshakeTimeoutMs = config.server.handshakeTimeoutMs;
  options.perMessageDeflate = config.server.perMessageDeflate;
  options.compressThreshold = config.server.compressionThresholdBytes;
  options.pingIntervalMs = config.heartbeat.intervalMs;
  options.pongTimeoutMs = config.heartbeat.pongTimeoutMs;
  options.idleTimeoutMs = config.heartbeat.idleTimeoutMs;
  options.closeTimeoutMs = config.heartbeat.closeTimeoutMs;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath = "config.yaml";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((arg == "--check-config" || arg == "--config") && i + 1 < argc) {
      if (arg == "--check-config") return wsr::config::checkConfigMain(argv[i + 1]);
      configPath = argv[++i];
      continue;
    }
    std::cerr << "wsrouter: unexpected argument '" << arg << "'\n" << kUsage;
    return 2;
  }

  wsr::config::Config config;
  std::vector<wsr::config::ConfigError> errors;
  if (!wsr::config::loadConfigFile(configPath, wsr::config::Environment::fromProcess(), config,
                                   errors)) {
    for (const auto& error : errors) std::cerr << "wsrouter: " << error.message() << "\n";
    std::cerr << "wsrouter: not started: " << errors.size() << " configuration error(s)\n";
    return 1;
  }

  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);  // worker threads inherit the mask

  const wsr::ws::ServerOptions options = serverOptions(config);
  wsr::ws::Server server(options, [](wsr::ws::Server&, wsr::ws::Worker&) {
    return std::make_unique<EchoHandler>();
  });
  std::string error;
  if (!server.listen(error)) {
    std::cerr << "wsrouter: cannot listen: " << error << "\n";
    return 1;
  }
  server.start();
  std::cout << "wsrouter engine preview: config " << configPath << " OK; echo server on ws://"
            << options.host << ":" << server.port() << "/ with " << server.workerCount()
            << " workers (the router arrives with the next milestone; Ctrl-C stops)"
            << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  server.stop();
  return 0;
}
