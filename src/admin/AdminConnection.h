#pragma once
// One connection to the admin port, on the admin event loop's thread: reads
// requests without holding any thread while it waits, hands each complete
// request to its owner, and writes the answers back in order.
//
// Pipelining: requests already received are handled one after another in
// the same pass. An owner that answers at once (the publish routes, on the
// loop's thread) lets the next request be handled straight away; one that
// answers later (a handler thread) holds the connection's later requests
// until its answer is in, so answers always leave in request order. The
// answers of one pass are written together, head and body in one send.
//
// A connection that is ready for a request (just accepted, or its previous
// request answered) has admin.request_timeout_ms for that whole request,
// head and body, to arrive: a client dribbling bytes (a header line a
// second) gets 408 and is closed when the time is up, instead of holding a
// handler thread as it would with a per-read timeout. A connection idle that
// long is closed without an answer.
//
// After a 101 the connection can carry another protocol (switchTo): its
// bytes go to a Stream (the publisher WebSocket), which answers with send().

#include <cstddef>
#include <cstdint>
#include <memory>
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
    // Room reserved past a body that is kept, for the parser that reads it
    // to parse it where it lies (PublishParser::kBodyPadding).
    size_t bodyPadding = 0;
  };

  // A complete request for the routes.
  struct Request {
    httplib::Request http;             // the body in full, or empty when not Read
    BodyState body = BodyState::Read;  // read and dropped when too large or unwanted
    ResponseFraming framing;           // how the answer must be framed
    // Its publisher token was checked when the head arrived (to keep the
    // body): the routes need not check it again.
    bool publisherVerified = false;
  };

  class Owner {
   public:
    // Whether the body of the request with this head is worth storing (a
    // POST route, a valid token): an unauthenticated client cannot make the
    // server hold its bodies, only skip them. `memo` is the connection's,
    // kept between its requests (a credential already checked).
    virtual bool wantsBody(const httplib::Request& head, std::string& memo) = 0;
    // Answer with respond(), on the loop's thread: within this call, or
    // later unless the connection has closed meanwhile (the owner tracks
    // that through closed()). No later request is handled until then.
    virtual void dispatch(AdminConnection& connection, Request request) = 0;
    // The connection has closed; free it after the current loop pass.
    virtual void closed(AdminConnection& connection) = 0;

   protected:
    ~Owner() = default;
  };

  // The protocol a connection carries after a 101 (switchTo).
  class Stream {
   public:
    virtual ~Stream() = default;
    // Bytes received, appended to `in`: consumes what it can (erasing it
    // from `in`) and answers with the connection's send(). It may pause()
    // the connection while an answer is computed elsewhere.
    virtual void received(AdminConnection& connection, std::string& in) = 0;
    // The server is stopping: say goodbye and finish(), now or once the
    // answer being computed is sent.
    virtual void stopping(AdminConnection& connection) = 0;
  };

  AdminConnection(uint64_t id, net::Fd fd, const net::PeerAddress& peer, net::EventLoop& loop,
                  const Limits& limits, Owner& owner);
  ~AdminConnection();
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  uint64_t id() const { return id_; }
  net::EventLoop& loop() { return loop_; }

  // Registers with the loop and starts the first request's deadline.
  void start();
  // The answer to the dispatched request: HTTP bytes from responseText().
  // keepAlive false: the connection closes once it is written.
  void respond(std::string_view text, bool keepAlive);
  // After respond() with a 101 answer: from the next byte on, the
  // connection's input goes to `stream`. The request deadline no longer
  // applies (a stream may be quiet for as long as it likes).
  void switchTo(std::unique_ptr<Stream> stream);
  // For the stream: bytes to write, in order with everything sent before.
  void send(std::string_view bytes);
  // For the stream: no more input is handed over until resume() (an
  // answer being computed on another thread); resume() goes on with what
  // was received meanwhile.
  void pause();
  void resume();
  // For the stream: close once what was sent is written (a close frame).
  void finish();
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
  enum class State {
    ReadingHead,  // waiting for (or in) a request's head
    ReadingBody,
    Dispatched,  // the owner has the request; nothing more is handled
    Finishing,   // the last answer is queued; the connection closes after it
    Streaming,   // switched to a Stream
    Lingering,   // after the last answer: reading and dropping, then closing
    Closed
  };

  void readSome();
  // Handles every complete request (or stream input) buffered, as far as
  // the state allows, then writes what was answered.
  void process();
  void handleRequests();
  bool sendContinue();
  // An answer made here, not by the routes: refusals and 408.
  void answer(int status, const std::string& message, bool keepAlive);
  void nextRequest();
  void flush();
  void afterWrite(bool wasBlocked);
  void updateWatch();
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
  bool dispatching_ = false;   // within owner_.dispatch or stream_->received
  bool processing_ = false;    // within process(): it writes when done
  bool paused_ = false;        // a stream waits for an answer (pause)
  bool writeBlocked_ = false;  // out_ waits for the socket to take it
  std::string in_;             // received, not yet consumed
  Request pending_;
  size_t bodyRemaining_ = 0;
  int refuseStatus_ = 0;  // not 0: answer this once the body is read
  std::string refuseMessage_;
  std::string out_;  // answers not yet written, in order
  size_t outOffset_ = 0;
  std::unique_ptr<Stream> stream_;
  std::string memo_;  // the owner's, for wantsBody()
};

}  // namespace wsr::admin
