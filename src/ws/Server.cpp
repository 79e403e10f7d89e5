#include "ws/Server.h"

namespace wsr::ws {

Server::Server(ServerOptions options, const HandlerFactory& factory)
    : options_(std::move(options)) {
  unsigned count = options_.workers;
  if (count == 0) count = std::thread::hardware_concurrency();
  if (count == 0) count = 1;
  options_.workers = count;
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, options_);
    worker->setHandler(factory(*this, *worker));
    workers_.push_back(std::move(worker));
  }
}

Server::~Server() {
  stop();
}

bool Server::listen(std::string& error) {
  uint16_t port = options_.port;
  for (auto& worker : workers_) {
    if (!worker->listen(port, error)) return false;
    port = worker->port();
  }
  return true;
}

void Server::start() {
  for (auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] { w->run(); });
  }
}

void Server::stop() {
  for (auto& worker : workers_)
    worker->loop().stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void Server::forEachWorker(const std::function<void(Worker&)>& fn) {
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().post([w, fn] { fn(*w); });
  }
}

}  // namespace wsr::ws
