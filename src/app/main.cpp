// wsrouter entry point.
//
// The router (channels, publish API, demo feed) is the next milestone; until
// it lands this binary serves the WebSocket engine as an echo server, so
// `make run` shows the engine working: connect to ws://localhost:8080/ and
// every message comes back.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "ws/Server.h"

namespace {

class EchoHandler final : public wsr::ws::WebSocketHandler {
 public:
  void onMessage(wsr::ws::WebSocket& socket, std::string_view payload, bool binary) override {
    socket.send(payload, binary);
  }
};

}  // namespace

int main(int argc, char** argv) {
  wsr::ws::ServerOptions options;
  if (argc > 1) {
    const std::string arg = argv[1];
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: wsrouter [PORT]\n"
                   "Serves the wsrouter WebSocket engine as an echo server on PORT "
                   "(default 8080).\nThe router itself arrives with the next milestone.\n";
      return 0;
    }
    char* end = nullptr;
    const unsigned long port = std::strtoul(arg.c_str(), &end, 10);
    if (end == arg.c_str() || *end != '\0' || port > 65535) {
      std::cerr << "wsrouter: PORT must be a number from 0 to 65535, got '" << arg << "'\n";
      return 2;
    }
    options.port = static_cast<uint16_t>(port);
  }

  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);  // worker threads inherit the mask

  wsr::ws::Server server(options, [](wsr::ws::Server&, wsr::ws::Worker&) {
    return std::make_unique<EchoHandler>();
  });
  std::string error;
  if (!server.listen(error)) {
    std::cerr << "wsrouter: cannot listen: " << error << "\n";
    return 1;
  }
  server.start();
  std::cout << "wsrouter engine preview: echo server on ws://" << options.host << ":"
            << server.port() << "/ with " << server.workerCount()
            << " workers (the router arrives with the next milestone; Ctrl-C stops)"
            << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  server.stop();
  return 0;
}
