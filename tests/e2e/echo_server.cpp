// The end-to-end tests' server: the engine with an echo handler. Test code,
// not part of wsrouter. Prints "LISTENING <port>" once every worker listens.
//
// Messages are echoed with their type. Text messages starting with '!' are
// commands, so tests can drive the server's side of each path:
//   !close <code> [reason]   the server starts the close handshake
//   !burst <count> <bytes>   the server sends <count> binary messages of <bytes>
//   !broadcast <text>        one prepared message to every open connection
//   !stats                   the worker's counters as text

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "ws/FrameWriter.h"
#include "ws/PerMessageDeflate.h"
#include "ws/Server.h"

namespace {

using wsr::ws::Opcode;
using wsr::ws::PreparedMessage;
using wsr::ws::Server;
using wsr::ws::WebSocket;
using wsr::ws::Worker;

class EchoHandler final : public wsr::ws::WebSocketHandler {
 public:
  EchoHandler(Server& server, Worker& worker) : server_(server), worker_(worker) {}

  void onMessage(WebSocket& socket, std::string_view payload, bool binary) override {
    if (binary || payload.empty() || payload[0] != '!') {
      socket.send(payload, binary);
      return;
    }
    command(socket, payload.substr(1));
  }

 private:
  void command(WebSocket& socket, std::string_view line) {
    const size_t space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    const std::string args(space == std::string_view::npos ? "" : line.substr(space + 1));
    if (name == "close") {
      char* rest = nullptr;
      const long code = std::strtol(args.c_str(), &rest, 10);
      while (*rest == ' ')
        ++rest;
      // Out-of-range codes pass through as 0 so the engine's own check shows.
      socket.close(code > 0 && code <= 65535 ? static_cast<uint16_t>(code) : 0, rest);
    } else if (name == "burst") {
      char* rest = nullptr;
      const unsigned long count = std::strtoul(args.c_str(), &rest, 10);
      const unsigned long bytes = std::strtoul(rest, nullptr, 10);
      const wsr::net::SharedBuffer frame =
          wsr::ws::buildFrame(Opcode::Binary, std::string(bytes, 'b'));
      for (unsigned long i = 0; i < count; ++i)
        socket.sendFrame(frame);
    } else if (name == "broadcast") {
      // Built once, on this thread; every worker queues references to it.
      auto message = std::make_shared<PreparedMessage>(wsr::ws::prepareMessage(
          Opcode::Text, args, &worker_.deflater(), server_.options().compressThreshold));
      server_.forEachWorker([message](Worker& worker) {
        worker.forEachConnection([&](WebSocket& each) { each.send(*message); });
      });
    } else if (name == "stats") {
      const auto& stats = worker_.stats();
      socket.send("open=" + std::to_string(stats.open.load()) +
                  " protocol_errors=" + std::to_string(stats.protocolErrors.load()) +
                  " refused=" + std::to_string(stats.refused.load()));
    } else {
      socket.send(line);
    }
  }

  Server& server_;
  Worker& worker_;
};

uint32_t number(const char* value, const char* flag) {
  char* end = nullptr;
  const unsigned long parsed = std::strtoul(value, &end, 10);
  if (end == value || *end != '\0') {
    std::cerr << "echo_server: " << flag << " wants a number, got '" << value << "'\n";
    std::exit(2);
  }
  return static_cast<uint32_t>(parsed);
}

}  // namespace

int main(int argc, char** argv) {
  wsr::ws::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.workers = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-deflate") {
      options.perMessageDeflate = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "echo_server: " << flag << " needs a value\n";
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--host")
      options.host = value;
    else if (flag == "--port")
      options.port = static_cast<uint16_t>(number(value, argv[i - 1]));
    else if (flag == "--workers")
      options.workers = number(value, argv[i - 1]);
    else if (flag == "--max-message")
      options.maxMessageBytes = number(value, argv[i - 1]);
    else if (flag == "--max-header")
      options.maxHeaderBytes = number(value, argv[i - 1]);
    else if (flag == "--compress-threshold")
      options.compressThreshold = number(value, argv[i - 1]);
    else if (flag == "--handshake-timeout-ms")
      options.handshakeTimeoutMs = number(value, argv[i - 1]);
    else if (flag == "--close-timeout-ms")
      options.closeTimeoutMs = number(value, argv[i - 1]);
    else if (flag == "--ping-interval-ms")
      options.pingIntervalMs = number(value, argv[i - 1]);
    else if (flag == "--pong-timeout-ms")
      options.pongTimeoutMs = number(value, argv[i - 1]);
    else if (flag == "--idle-timeout-ms")
      options.idleTimeoutMs = number(value, argv[i - 1]);
    else if (flag == "--flush-interval-ms")
      options.flushIntervalMs = number(value, argv[i - 1]);
    else if (flag == "--max-queued")
      options.maxQueuedBytes = number(value, argv[i - 1]);
    else {
      std::cerr << "echo_server: unknown option " << flag << "\n";
      return 2;
    }
  }

  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);  // workers inherit the mask

  Server server(options, [](Server& owner, Worker& worker) {
    return std::make_unique<EchoHandler>(owner, worker);
  });
  std::string error;
  if (!server.listen(error)) {
    std::cerr << "echo_server: " << error << "\n";
    return 1;
  }
  server.start();
  std::cout << "LISTENING " << server.port() << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  server.stop();
  return 0;
}
