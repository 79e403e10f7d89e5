#pragma once
// One connection to the admin port, on the admin event loop's thread: reads
// a request's head and body without holding any thread while it waits, hands
// the complete request to its owner (the handler threads), writes the answer
// back and, keep-alive, waits for the next.
//
// A connection that is ready for a request (just accepted, or its previous
// answer written) has admin.request_timeout_ms for that whole request, head
// and body, to arrive: a client dribbling bytes (a header line a second)
// gets 408 and is closed when the time is up, instead of holding a handler
// thread as it would with a per-read timeout. A connection idle that long is
// closed without an answer. Pipelined requests are answered one at a time,
// in order.

#include <cstddef>
#include <cstdint>
#include <string>

#include <httplib.h>

#include "admin/HttpRequestHead.h"
#include "admin/HttpResponseText.h"
#include "net/EventLoop.h"
#include "net/Fd.h"
#include "net/Socket.h"
#include "net/TimerWheel.h"

namespace wsr::admin {

class AdminConnection final : public net::EventLoop::IoHandler, public net::Timer::Handler {
 public:
  struct Limits {
    size_t maxHeadBytes = 16384;        // request line and header fields; past it 431
    size_t maxBodyBytes = 1048576;      // a bigger body is read and dropped (TooLarge)
    uint64_t requestTimeoutMs = 10000;  // admin.request_timeout_ms
  };

  // A complete request for the routes.
  struct Request {
    httplib::Request http;             // the body in full, or empty when not Read
    BodyState body = BodyState::Read;  // read and dropped when too large or unwanted
    ResponseFraming framing;           // how the answer must be framed
  };

  class Owner {
   public:
    // Whether the body of the request with this head is worth storing (a
    // POST route, a valid token): an unauthenticated client cannot make the
    // server hold its bodies, only skip them.
    virtual bool wantsBody(const httplib::Request& head) = 0;
    // Answer with respond(), on the loop's thread, unless the connection has
    // closed meanwhile (the owner tracks that through closed()).
    virtual void dispatch(AdminConnection& connection, Request request) = 0;
    // The connection has closed; free it after the current loop pass.
    virtual void closed(AdminConnection& connection) = 0;

   protected:
    ~Owner() = default;
  };

  AdminConnection(uint64_t id, net::Fd fd, const net::PeerAddress& peer, net::EventLoop& loop,
                  const Limits& limits, Owner& owner);
  ~AdminConnection();
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  uint64_t id() const { return id_; }

  // Registers with the loop and starts the first request's deadline.
  void start();
  // The answer to the dispatched request: HTTP bytes from responseText().
  void respond(std::string text, bool keepAlive);
  // The server is stopping: closes now unless an answer is due, else right
  // after that answer is written.
  void shutdown();
  // Closes the connection if it is waiting for its client (for a request,
  // or lingering after a last answer), not for a handler or a write.
  // Whether it closed.
  bool closeIfWaiting();

  void onIo(uint32_t events) override;
  void onTimer(net::Timer& timer) override;

 private:
  enum class State { ReadingHead, ReadingBody, Dispatched, Writing, Lingering, Closed };

  void readSome();
  void process();
  bool sendContinue();
  // An answer made here, not by the routes: refusals and 408.
  void answer(int status, const std::string& message, bool keepAlive);
  void flush();
  void finishWrite();
  void linger();
  void close();
  void watch(uint32_t events);
  void arm(uint64_t ms);

  const uint64_t id_;
  net::Fd fd_;
  const std::string peerIp_;
  const int peerPort_;
  net::EventLoop& loop_;
  const Limits limits_;
  Owner& owner_;
  net::Timer deadline_{this};

  State state_ = State::ReadingHead;
  uint32_t watched_ = 0;
  bool stopping_ = false;
  std::string in_;  // received, not yet consumed
  Request pending_;
  size_t bodyRemaining_ = 0;
  int refuseStatus_ = 0;  // not 0: answer this once the body is read
  std::string refuseMessage_;
  std::string out_;
  size_t outOffset_ = 0;
  bool keepAlive_ = true;
};

}  // namespace wsr::admin
