#pragma once
// The admin port's HTTP/1.1 front: the listening socket and one event-loop
// thread that accepts connections and reads every request in full
// (AdminConnection). The publish routes are answered right there, on the
// loop's thread, as the WebSocket workers answer their clients: no hand-off
// per request, pipelined requests answered in order, one write for the
// answers of a pass. The other routes (stats, metrics, disconnects: they
// ask the workers and wait) go to two worker pools: one for the probes
// alone and one for the rest.
//
// So a thread is held only while a handler works, never while a client is
// slow to send: slow or many publish connections cannot make /healthz and
// /readyz wait (issue 11, defect 11), and each request has a total deadline.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "admin/AdminConnection.h"
#include "admin/WorkerPool.h"
#include "net/EventLoop.h"
#include "net/Fd.h"
#include "net/TimerWheel.h"

namespace wsr::admin {

class AdminFront final : private AdminConnection::Owner,
                         private net::EventLoop::IoHandler,
                         private net::Timer::Handler {
 public:
  struct Options {
    std::string host;
    uint16_t port = 0;  // 0: a free port
    AdminConnection::Limits limits;
    size_t threads = 16;      // handler threads for every route but the probes
    size_t probeThreads = 2;  // handler threads for the probes alone
    // Connections open at once. At the cap a new connection closes the
    // oldest one that is waiting for its client, so a flood of idle or slow
    // connections cannot lock a probe out; with none such it is refused.
    size_t maxConnections = 1024;
    int backlog = 1024;
  };
  // Answers one complete request (a handler thread, or the loop's for
  // the routes that run inline).
  using Handler = std::function<void(const AdminConnection::Request&, httplib::Response&)>;
  // Of a request's head, on the loop's thread.
  using HeadPredicate = std::function<bool(const httplib::Request&)>;
  // Of every request, on the loop's thread: none when it is not for a
  // path that switches protocols; else the 101 and the stream that carries
  // the connection on, or the refusal (no stream) to answer instead.
  struct Upgrade {
    std::string answer;  // HTTP bytes
    bool keepAlive = true;
    std::unique_ptr<AdminConnection::Stream> stream;
  };
  using Upgrader = std::function<std::optional<Upgrade>(
      const AdminConnection::Request&, AdminConnection&, WorkerPool& handlerThreads)>;

  struct Routes {
    Handler handler;
    HeadPredicate isProbe;  // goes to the probe threads
    // Its body is worth storing (AdminConnection::Owner::wantsBody).
    std::function<bool(const httplib::Request&, std::string& memo)> wantsBody;
    // Answered on the loop's thread as it is read, by inlineHandler, with no
    // hand-off: the publish routes, whose work (validate, number, hand to
    // the workers) never waits. Null: none.
    HeadPredicate runsInline;
    Handler inlineHandler;
    Upgrader upgrade;  // null: Upgrade requests are routed like any other
  };

  AdminFront(Options options, Routes routes);
  ~AdminFront();  // stop()
  AdminFront(const AdminFront&) = delete;
  AdminFront& operator=(const AdminFront&) = delete;

  // Binds and listens (SO_REUSEADDR, not SO_REUSEPORT: a second router must
  // not share the port and half of the publications), then serves on its own
  // threads. False with the reason when the address cannot be used.
  bool start(std::string& error);
  uint16_t port() const { return port_; }
  // Stops accepting, closes the connections waiting for a request, answers
  // the requests already read, then joins every thread. Idempotent.
  void stop();

 private:
  void onIo(uint32_t events) override;       // the listening socket
  void onTimer(net::Timer& timer) override;  // stop()'s bound on unfinished answers
  bool wantsBody(const httplib::Request& head, std::string& memo) override {
    return routes_.wantsBody(head, memo);
  }
  void dispatch(AdminConnection& connection, AdminConnection::Request request) override;
  void closed(AdminConnection& connection) override;
  void deliver(uint64_t id, std::string_view text, bool keepAlive);
  bool makeRoom();
  void beginStop();
  void exitWhenIdle();

  const Options options_;
  const Routes routes_;
  uint16_t port_ = 0;

  net::EventLoop loop_;
  net::Fd listener_;
  // Owned by the loop's thread.
  // By id: oldest first.
  std::map<uint64_t, std::unique_ptr<AdminConnection>> connections_;
  std::vector<std::unique_ptr<AdminConnection>> closing_;  // freed after the pass
  uint64_t nextId_ = 1;
  bool stopping_ = false;
  bool workersStopped_ = false;
  net::Timer stopTimer_{this};

  WorkerPool workers_;
  WorkerPool probeWorkers_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace wsr::admin
