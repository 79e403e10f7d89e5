#pragma once
// The WebSocket server: one Worker (event loop, listener, connections) per
// thread, all listening on one port through SO_REUSEPORT. The application
// supplies a handler per worker and reaches workers only through post().

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ws/ServerOptions.h"
#include "ws/WebSocketHandler.h"
#include "ws/Worker.h"

namespace wsr::ws {

class Server {
 public:
  // Called once per worker, during construction: a handler may keep both references.
  using HandlerFactory = std::function<std::unique_ptr<WebSocketHandler>(Server&, Worker&)>;

  Server(ServerOptions options, const HandlerFactory& factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens every worker's listener on options.port (port 0: the first worker
  // picks a free port, the others join it). False with `error` on failure.
  bool listen(std::string& error);
  uint16_t port() const { return workers_.empty() ? 0 : workers_.front()->port(); }

  // Starts one thread per worker.
  void start();
  // Stops every loop and joins the threads; connections are dropped.
  void stop();

  size_t workerCount() const { return workers_.size(); }
  Worker& worker(size_t index) { return *workers_[index]; }
  // Runs fn on each worker's own thread (fan-out, draining, stats).
  void forEachWorker(const std::function<void(Worker&)>& fn);
  const ServerOptions& options() const { return options_; }

 private:
  ServerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace wsr::ws
