#include "admin/AdminServer.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "admin/AdminRoutes.h"

namespace wsr::admin {
namespace {

// Requests one keep-alive connection may carry before it is closed; the
// library's default (5) would make busy publishers reconnect constantly.
// (cpp-httplib does not support HTTP pipelining: a publisher keeps one
// request in flight per connection; docs/admin-api.md says so.)
constexpr size_t kKeepAliveMaxRequests = 100000;
// cpp-httplib listens with a backlog of 5: publishers, probes and scrapers
// connecting at the same moment would see SYNs dropped and retried a second
// later. Calling listen() again on the bound socket raises it.
constexpr int kListenBacklog = 1024;
// An idle keep-alive connection holds a thread that stop() must wait for
// (cpp-httplib checks for shutdown only between requests): a short idle
// timeout keeps shutdown prompt; a busy publisher never idles that long.
constexpr time_t kKeepAliveTimeoutSeconds = 1;

// SO_REUSEADDR only. cpp-httplib's default also sets SO_REUSEPORT, which
// would let a second router bind the same admin port silently and receive
// half of the publications.
void adminSocketOptions(socket_t socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

AdminServer::AdminServer(const config::AdminConfig& config, hub::PublishSink& sink,
                         AdminBackend& backend)
    : config_(config), sink_(sink), backend_(backend) {}

AdminServer::~AdminServer() {
  stop();
}

bool AdminServer::start(std::string& error) {
  std::lock_guard lock(lifecycleMutex_);
  if (server_) {
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

  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  server->set_keep_alive_max_count(kKeepAliveMaxRequests);
  server->set_keep_alive_timeout(kKeepAliveTimeoutSeconds);
  // Small pipelined requests: no Nagle delay on the answers.
  server->set_tcp_nodelay(true);
  server->set_payload_max_length(config_.maxPublishBytes);
  auto listenFd = std::make_shared<socket_t>(INVALID_SOCKET);
  server->set_socket_options([listenFd](socket_t socket) {
    adminSocketOptions(socket);
    *listenFd = socket;
  });
  installRoutes(*server, AdminContext{&config_, &sink_, &backend_, tokens_.get(), &rejections_});

  int port = config_.port;
  errno = 0;
  if (port == 0) {
    port = server->bind_to_any_port(config_.host);
  } else if (!server->bind_to_port(config_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    const int savedErrno = errno;
    error = "cannot listen on admin address " + config_.host + ":" + std::to_string(config_.port);
    if (savedErrno != 0) error += std::string(": ") + std::strerror(savedErrno);
    return false;
  }
  port_ = static_cast<uint16_t>(port);
  if (*listenFd != INVALID_SOCKET) ::listen(*listenFd, kListenBacklog);

  server_ = std::move(server);
  listenerExited_ = false;
  listener_ = std::thread([this] {
    server_->listen_after_bind();
    listenerExited_ = true;
  });
  // httplib::Server::stop() does nothing until the accept loop has marked
  // itself running, so wait for that (microseconds) before returning:
  // a stop() right after start() must not be lost.
  while (!server_->is_running() && !listenerExited_)
    std::this_thread::yield();
  return true;
}

void AdminServer::stop() {
  std::lock_guard lock(lifecycleMutex_);
  if (!server_) return;
  server_->stop();
  if (listener_.joinable()) listener_.join();
}

bool AdminServer::reloadPublisherTokens(std::string& error) {
  if (!tokens_) {
    error = "no publisher token file is configured (admin.publisher_token_file)";
    return false;
  }
  return tokens_->reload(error);
}

}  // namespace wsr::admin
