// The engine under benchmark: the wsrouter WebSocket engine (src/ws) with a
// handler that broadcasts every text message it receives to every open
// connection, the sender included: the same behaviour as floor_server.cpp.
// The message is prepared once (one shared frame, and a compressed twin when
// deflate applies), then every worker queues it to each connection as one
// shared run entry, as the router's fan-out does. Heartbeats are off for runs.
//
// Flags: --port P (0: any free port), --host A (default 127.0.0.1),
// --workers N (default 1: the pinned run), --no-deflate,
// --compress-threshold BYTES. Prints "LISTENING <port>"; SIGTERM/SIGINT stop it.

#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "net/BufferRun.h"
#include "ws/FrameWriter.h"
#include "ws/PerMessageDeflate.h"
#include "ws/Server.h"

namespace {

using wsr::ws::Opcode;
using wsr::ws::PreparedMessage;
using wsr::ws::Server;
using wsr::ws::WebSocket;
using wsr::ws::Worker;

class BroadcastHandler final : public wsr::ws::WebSocketHandler {
 public:
  BroadcastHandler(Server& server, Worker& worker) : server_(server), worker_(worker) {}

  void onMessage(WebSocket& socket, std::string_view payload, bool binary) override {
    (void)socket;
    if (binary) return;
    // Built once, on this thread; every worker queues references to it.
    auto message = std::make_shared<PreparedMessage>(wsr::ws::prepareMessage(
        Opcode::Text, payload, server_.options().perMessageDeflate ? &worker_.deflater() : nullptr,
        server_.options().compressThreshold));
    server_.forEachWorker([message](Worker& worker) {
      // Runs are counted by one thread: each worker builds its own.
      const wsr::net::BufferRun plain({message->plain});
      const wsr::net::BufferRun deflated({message->frameFor(true)});
      worker.forEachConnection(
          [&](WebSocket& each) { each.send(each.deflate() ? deflated : plain, 0); });
    });
  }

 private:
  Server& server_;
  Worker& worker_;
};

uint32_t number(const char* value, const char* flag) {
  char* end = nullptr;
  const unsigned long parsed = std::strtoul(value, &end, 10);
  if (end == value || *end != '\0') {
    std::cerr << "bench_server: " << flag << " wants a number, got '" << value << "'\n";
    std::exit(2);
  }
  return static_cast<uint32_t>(parsed);
}

}  // namespace

int main(int argc, char** argv) {
  wsr::ws::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.workers = 1;
  options.pingIntervalMs = 0;  // no heartbeats during runs
  options.idleTimeoutMs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-deflate") {
      options.perMessageDeflate = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "bench_server: " << flag << " needs a value\n"
                << "usage: bench_server [--port P] [--host A] [--workers N] [--no-deflate]"
                   " [--compress-threshold BYTES]\n";
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--host")
      options.host = value;
    else if (flag == "--port")
      options.port = static_cast<uint16_t>(number(value, argv[i - 1]));
    else if (flag == "--workers")
      options.workers = number(value, argv[i - 1]);
    else if (flag == "--compress-threshold")
      options.compressThreshold = number(value, argv[i - 1]);
    else {
      std::cerr << "bench_server: unknown option " << flag << "\n";
      return 2;
    }
  }

  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);  // workers inherit the mask

  Server server(options, [](Server& owner, Worker& worker) {
    return std::make_unique<BroadcastHandler>(owner, worker);
  });
  std::string error;
  if (!server.listen(error)) {
    std::cerr << "bench_server: " << error << "\n";
    return 1;
  }
  server.start();
  std::cout << "LISTENING " << server.port() << std::endl;
  int signal = 0;
  sigwait(&stopSignals, &signal);
  server.stop();
  return 0;
}
