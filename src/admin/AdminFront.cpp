#include "admin/AdminFront.h"

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "admin/HttpResponseText.h"
#include "net/Socket.h"

namespace wsr::admin {
namespace {

// Connections accepted per readiness event, so a connection storm still
// lets the loop read the requests of the connections it has.
constexpr int kMaxAcceptsPerEvent = 64;
// How long stop() waits for answers already computed to be taken by slow
// clients before it closes them anyway.
constexpr uint64_t kStopGraceMs = 2000;

// A non-blocking listening socket with SO_REUSEADDR only: SO_REUSEPORT would
// let a second router bind the same admin port silently and receive half of
// the publications.
net::Fd listenAdmin(const std::string& host, uint16_t port, int backlog, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string where = "admin address " + host + ":" + std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(),
                           &hints, &found);
      rc != 0) {
    error = "cannot resolve " + where + ": " + gai_strerror(rc);
    return {};
  }
  net::Fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int savedErrno = errno;
  if (fd) {
    int on = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0 ||
        ::listen(fd.get(), backlog) != 0) {
      savedErrno = errno;
      fd.reset();
    }
  }
  freeaddrinfo(found);
  if (!fd) error = "cannot listen on " + where + ": " + std::strerror(savedErrno);
  return fd;
}

}  // namespace

AdminFront::AdminFront(Options options, Routes routes)
    : options_(std::move(options)),
      routes_(std::move(routes)),
      workers_(options_.threads),
      probeWorkers_(options_.probeThreads) {}

AdminFront::~AdminFront() {
  stop();
}

bool AdminFront::start(std::string& error) {
  listener_ = listenAdmin(options_.host, options_.port, options_.backlog, error);
  if (!listener_) return false;
  port_ = net::localPort(listener_.get());
  loop_.add(listener_.get(), EPOLLIN, this);
  loop_.setAfterPass([this] { closing_.clear(); });
  thread_ = std::thread([this] { loop_.run(); });
  return true;
}

void AdminFront::stop() {
  if (stopped_.exchange(true)) return;
  if (thread_.joinable()) {
    // Stop reading first, so nothing new reaches the workers once they stop.
    std::promise<void> begun;
    loop_.post([this, &begun] {
      beginStop();
      begun.set_value();
    });
    begun.get_future().wait();
  }
  // Runs the requests already read; their answers are posted to the loop.
  workers_.stop();
  probeWorkers_.stop();
  if (!thread_.joinable()) return;
  loop_.post([this] {
    workersStopped_ = true;
    exitWhenIdle();
  });
  thread_.join();
  connections_.clear();
  closing_.clear();
}

void AdminFront::beginStop() {
  stopping_ = true;
  loop_.remove(listener_.get());
  listener_.reset();
  std::vector<AdminConnection*> open;
  open.reserve(connections_.size());
  for (auto& [id, connection] : connections_)
    open.push_back(connection.get());
  for (AdminConnection* connection : open)
    connection->shutdown();  // may close it, changing connections_
  loop_.timers().schedule(stopTimer_, net::EventLoop::monotonicMs() + kStopGraceMs);
}

void AdminFront::exitWhenIdle() {
  if (stopping_ && workersStopped_ && connections_.empty()) loop_.stop();
}

void AdminFront::onTimer(net::Timer&) {
  loop_.stop();
}

void AdminFront::onIo(uint32_t) {
  for (int i = 0; i < kMaxAcceptsPerEvent && listener_; ++i) {
    net::PeerAddress peer;
    net::Fd fd = net::acceptConnection(listener_.get(), peer);
    if (!fd) {
      if (errno == ECONNABORTED || errno == EINTR) continue;
      return;  // none pending, or out of descriptors: the next pass retries
    }
    if (connections_.size() >= options_.maxConnections && !makeRoom()) continue;  // fd closes
    const uint64_t id = nextId_++;
    AdminConnection::Owner& owner = *this;
    auto connection =
        std::make_unique<AdminConnection>(id, std::move(fd), peer, loop_, options_.limits, owner);
    AdminConnection& started = *connection;
    connections_.emplace(id, std::move(connection));
    started.start();
  }
}

bool AdminFront::makeRoom() {
  for (auto& [id, connection] : connections_)
    if (connection->closeIfWaiting()) return true;  // the iteration ends with the erase
  return false;
}

void AdminFront::dispatch(AdminConnection& connection, AdminConnection::Request request) {
  if (routes_.upgrade) {
    if (std::optional<Upgrade> upgrade = routes_.upgrade(request, connection, workers_)) {
      connection.respond(upgrade->answer, upgrade->keepAlive);
      if (upgrade->stream) connection.switchTo(std::move(upgrade->stream));
      return;
    }
  }
  if (routes_.runsInline && routes_.runsInline(request.http)) {
    httplib::Response res;
    routes_.inlineHandler(request, res);
    connection.respond(responseText(res, request.framing), request.framing.keepAlive);
    return;
  }
  // Shared: std::function needs a copyable task, and a request can be 1 MiB.
  auto shared = std::make_shared<const AdminConnection::Request>(std::move(request));
  WorkerPool& pool = routes_.isProbe(shared->http) ? probeWorkers_ : workers_;
  pool.post([this, id = connection.id(), shared] {
    httplib::Response res;
    routes_.handler(*shared, res);
    std::string text = responseText(res, shared->framing);
    const bool keepAlive = shared->framing.keepAlive;
    loop_.post([this, id, text = std::move(text), keepAlive] { deliver(id, text, keepAlive); });
  });
}

void AdminFront::deliver(uint64_t id, std::string_view text, bool keepAlive) {
  const auto found = connections_.find(id);
  if (found == connections_.end()) return;  // closed while the handler worked
  found->second->respond(text, keepAlive);
}

void AdminFront::closed(AdminConnection& connection) {
  const auto found = connections_.find(connection.id());
  if (found == connections_.end()) return;
  // Not freed here: the connection is still on the call stack.
  closing_.push_back(std::move(found->second));
  connections_.erase(found);
  exitWhenIdle();
}

}  // namespace wsr::admin
