// wsrouter: loads config.yaml (with WSROUTER_* overrides), starts the router
// and, on SIGTERM or SIGINT, shuts it down gracefully (see Router::shutdown).

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "app/Router.h"
#include "config/CheckConfig.h"
#include "config/Config.h"
#include "telemetry/Logger.h"

namespace {

constexpr const char* kUsage =
    "usage: wsrouter [--config FILE]      start (default FILE: config.yaml)\n"
    "       wsrouter --check-config FILE  validate FILE (with WSROUTER_* overrides), exit 0 or 1\n";

// SIGINT (Ctrl-C) is someone at a terminal: the same sequence, faster.
constexpr uint32_t kInterruptCloseWindowMs = 500;

wsr::telemetry::LogLevel logLevelOf(wsr::config::LogLevel level) {
  switch (level) {
    case wsr::config::LogLevel::Debug:
      return wsr::telemetry::LogLevel::Debug;
    case wsr::config::LogLevel::Info:
      return wsr::telemetry::LogLevel::Info;
    case wsr::config::LogLevel::Warn:
      return wsr::telemetry::LogLevel::Warn;
    case wsr::config::LogLevel::Error:
      return wsr::telemetry::LogLevel::Error;
  }
  return wsr::telemetry::LogLevel::Info;
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
    if (arg == "--check-config" && i + 1 < argc) return wsr::config::checkConfigMain(argv[i + 1]);
    if (arg == "--config" && i + 1 < argc) {
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
    for (const auto& error : errors)
      std::cerr << "wsrouter: " << error.message() << "\n";
    std::cerr << "wsrouter: not started: " << errors.size() << " configuration error(s)\n";
    return 1;
  }

  // Signals are taken by sigwait() below, never by a handler, so every
  // thread started from here on must block them too: they inherit the mask.
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  // JSON lines on stdout, from the first ("serving", with both addresses)
  // to the last ("stopped"); errors before the logger exists go to stderr.
  wsr::telemetry::Logger logger(logLevelOf(config.log.level), 1, config.log.clientEventsPerSecond);
  wsr::app::Router router(config, logger);
  std::string error;
  if (!router.start(error)) {
    std::cerr << "wsrouter: cannot start: " << error << "\n";
    return 1;
  }
  const std::string wsUrl =
      "ws://" + config.server.host + ":" + std::to_string(router.publicPort()) + "/ws";
  const std::string adminUrl =
      "http://" + config.admin.host + ":" + std::to_string(router.adminPort());
  logger.log(
      wsr::telemetry::LogLevel::Info, "serving",
      {{"ws", wsUrl}, {"admin", adminUrl}, {"demo_feed", config.feed.enabled ? "on" : "off"}});

  int signal = 0;
  sigwait(&stopSignals, &signal);
  const bool interrupted = signal == SIGINT;
  logger.log(wsr::telemetry::LogLevel::Info, "shutting_down",
             {{"signal", interrupted ? "SIGINT" : "SIGTERM"}});
  if (interrupted) {
    router.shutdown(0, kInterruptCloseWindowMs);
  } else {
    router.shutdown(config.shutdown.drainDelayMs, config.shutdown.closeWindowMs);
  }
  logger.log(wsr::telemetry::LogLevel::Info, "stopped");
  return 0;
}
