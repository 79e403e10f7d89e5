#include "admin/AdminConnection.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "admin/HttpRequestHead.h"
#include "admin/JsonBody.h"

namespace wsr::admin {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr size_t kReadChunk = 65536;
// Reads per readiness event: one fast sender cannot keep the loop to itself.
constexpr int kMaxReadsPerEvent = 16;
// After an answer with "Connection: close", what the client still sends is
// read and dropped for this long before closing: closing with unread bytes
// would reset the connection and could destroy the answer before it is read.
constexpr uint64_t kLingerMs = 1000;

}  // namespace

AdminConnection::AdminConnection(uint64_t id, net::Fd fd, const net::PeerAddress& peer,
                                 net::EventLoop& loop, const Limits& limits, Owner& owner)
    : id_(id),
      fd_(std::move(fd)),
      peerIp_(peer.ip()),
      peerPort_(peer.port),
      loop_(loop),
      limits_(limits),
      owner_(owner) {}

AdminConnection::~AdminConnection() {
  if (fd_) loop_.remove(fd_.get());
}

void AdminConnection::start() {
  loop_.add(fd_.get(), EPOLLIN, this);
  watched_ = EPOLLIN;
  arm(limits_.requestTimeoutMs);
}

void AdminConnection::watch(uint32_t events) {
  if (events == watched_ || !fd_) return;
  loop_.modify(fd_.get(), events, this);
  watched_ = events;
}

// Reading stops while answers wait for the socket: a client that pipelines
// without reading cannot make the server hold its answers without end.
void AdminConnection::updateWatch() {
  uint32_t events = 0;
  if (writeBlocked_) {
    events = EPOLLOUT;
  } else if (state_ == State::ReadingHead || state_ == State::ReadingBody ||
             state_ == State::Lingering || (state_ == State::Streaming && !paused_)) {
    events = EPOLLIN;
  }
  watch(events);
}

void AdminConnection::arm(uint64_t ms) {
  loop_.timers().schedule(deadline_, net::EventLoop::monotonicMs() + ms);
}

void AdminConnection::onIo(uint32_t events) {
  if (state_ == State::Closed) return;
  if (writeBlocked_) {
    if (events & (EPOLLERR | EPOLLHUP)) {
      close();
    } else if (events & EPOLLOUT) {
      flush();
    }
    return;
  }
  if (state_ == State::Dispatched || state_ == State::Finishing ||
      (state_ == State::Streaming && paused_)) {
    // Nothing is watched while an answer is computed, but errors and
    // hang-ups are reported anyway: the answer has nowhere to go.
    if (events & (EPOLLERR | EPOLLHUP)) close();
    return;
  }
  readSome();
}

void AdminConnection::onTimer(net::Timer&) {
  if (writeBlocked_) {
    close();  // the client does not read its answers
    return;
  }
  switch (state_) {
    case State::ReadingHead:
    case State::ReadingBody:
      if (state_ == State::ReadingBody || !in_.empty()) {
        answer(408,
               "the request did not arrive in full within admin.request_timeout_ms (" +
                   std::to_string(limits_.requestTimeoutMs) + " ms)",
               false);
      } else {
        close();  // an idle keep-alive connection: nothing to answer
      }
      return;
    case State::Lingering:
      close();
      return;
    case State::Dispatched:
    case State::Finishing:
    case State::Streaming:
    case State::Closed:
      return;
  }
}

void AdminConnection::readSome() {
  char buffer[kReadChunk];
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    const bool reading = state_ == State::ReadingHead || state_ == State::ReadingBody ||
                         state_ == State::Lingering || (state_ == State::Streaming && !paused_);
    if (!reading || writeBlocked_) return;
    const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      if (state_ == State::Lingering) continue;
      in_.append(buffer, static_cast<size_t>(n));
      process();
      if (static_cast<size_t>(n) < sizeof buffer) return;  // drained: skip the EAGAIN call
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      close();  // end of stream or a reset: nothing more to read or answer
      return;
    }
  }
}

void AdminConnection::process() {
  if (processing_ || state_ == State::Closed) return;
  processing_ = true;
  handleRequests();
  processing_ = false;
  if (state_ != State::Closed) flush();
}

void AdminConnection::handleRequests() {
  while (!writeBlocked_) {
    if (state_ == State::Streaming) {
      if (paused_ || in_.empty()) return;
      dispatching_ = true;
      stream_->received(*this, in_);
      dispatching_ = false;
      return;
    }
    if (state_ == State::ReadingHead) {
      const size_t end = in_.find(kHeadEnd);
      if (end == std::string::npos || end > limits_.maxHeadBytes) {
        if (end != std::string::npos || in_.size() > limits_.maxHeadBytes + kHeadEnd.size()) {
          answer(
              431,
              "the request head is larger than " + std::to_string(limits_.maxHeadBytes) + " bytes",
              false);
        }
        return;
      }
      RequestHead head = parseRequestHead(std::string_view(in_).substr(0, end));
      in_.erase(0, end + kHeadEnd.size());
      pending_ = Request{};
      pending_.framing = {head.keepAlive, head.http10, head.request.method == "HEAD"};
      if (head.refused() && head.refuseAndClose) {
        answer(head.refuseStatus, head.refuseMessage, false);
        return;
      }
      pending_.http = std::move(head.request);
      pending_.http.remote_addr = peerIp_;
      pending_.http.remote_port = peerPort_;
      if (head.contentLength > limits_.maxBodyBytes) {
        pending_.body = BodyState::TooLarge;
      } else if (head.contentLength > 0) {
        pending_.publisherVerified = owner_.wantsBody(pending_.http, memo_);
        if (!pending_.publisherVerified) pending_.body = BodyState::Unwanted;
      }
      if (pending_.body == BodyState::Read && head.contentLength > 0 && head.refuseStatus == 0) {
        pending_.http.body.reserve(head.contentLength + limits_.bodyPadding);
      }
      refuseStatus_ = head.refuseStatus;
      refuseMessage_ = std::move(head.refuseMessage);
      bodyRemaining_ = head.contentLength;
      state_ = State::ReadingBody;
      if (head.expectContinue && bodyRemaining_ > 0 && !sendContinue()) return;
    }
    if (state_ != State::ReadingBody) return;
    const size_t take = std::min(bodyRemaining_, in_.size());
    if (pending_.body == BodyState::Read && refuseStatus_ == 0) {
      pending_.http.body.append(in_, 0, take);
    }
    in_.erase(0, take);
    bodyRemaining_ -= take;
    if (bodyRemaining_ > 0) return;

    if (refuseStatus_ != 0) {
      answer(refuseStatus_, refuseMessage_, pending_.framing.keepAlive);
      continue;
    }
    state_ = State::Dispatched;
    loop_.timers().cancel(deadline_);
    dispatching_ = true;
    owner_.dispatch(*this, std::move(pending_));  // pending_ is made anew for the next request
    dispatching_ = false;
    if (state_ == State::Dispatched) {
      updateWatch();  // answered later, on another thread
      return;
    }
  }
}

bool AdminConnection::sendContinue() {
  // After the answers to the requests before it, and now: the client waits
  // for it before sending the body.
  out_.append(kContinue);
  flush();
  return state_ != State::Closed;
}

void AdminConnection::answer(int status, const std::string& message, bool keepAlive) {
  httplib::Response res;
  res.status = status;
  res.set_content(errorJson(errorCodeForStatus(status), message), "application/json");
  ResponseFraming framing = pending_.framing;
  framing.keepAlive = keepAlive;
  respond(responseText(res, framing), keepAlive);
}

void AdminConnection::respond(std::string_view text, bool keepAlive) {
  if (state_ == State::Closed) return;
  out_.append(text);
  if (!keepAlive || stopping_) {
    state_ = State::Finishing;
    loop_.timers().cancel(deadline_);
  } else {
    nextRequest();
  }
  // An answer from a handler thread: go on with what was received
  // meanwhile, and write.
  if (!dispatching_) process();
}

void AdminConnection::nextRequest() {
  state_ = State::ReadingHead;
  arm(limits_.requestTimeoutMs);
}

void AdminConnection::switchTo(std::unique_ptr<Stream> stream) {
  if (state_ == State::Closed) return;
  stream_ = std::move(stream);
  state_ = State::Streaming;
  loop_.timers().cancel(deadline_);
  updateWatch();
}

void AdminConnection::send(std::string_view bytes) {
  if (state_ == State::Closed) return;
  out_.append(bytes);
  if (!dispatching_ && !processing_) flush();
}

void AdminConnection::pause() {
  paused_ = true;
  updateWatch();
}

void AdminConnection::resume() {
  if (state_ == State::Closed) return;
  paused_ = false;
  updateWatch();
  if (!dispatching_) process();
}

void AdminConnection::finish() {
  if (state_ == State::Closed) return;
  state_ = State::Finishing;
  in_.clear();
  if (!dispatching_ && !processing_) flush();
}

void AdminConnection::flush() {
  while (outOffset_ < out_.size()) {
    const ssize_t n =
        ::send(fd_.get(), out_.data() + outOffset_, out_.size() - outOffset_, MSG_NOSIGNAL);
    if (n > 0) {
      outOffset_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The client reads slowly: it gets the request deadline to take its answers.
      if (!writeBlocked_) arm(limits_.requestTimeoutMs);
      writeBlocked_ = true;
      updateWatch();
      return;
    } else {
      close();
      return;
    }
  }
  out_.clear();
  outOffset_ = 0;
  const bool wasBlocked = writeBlocked_;
  writeBlocked_ = false;
  afterWrite(wasBlocked);
}

void AdminConnection::afterWrite(bool wasBlocked) {
  if (state_ == State::Finishing) {
    if (stopping_) {
      close();
    } else {
      linger();
    }
    return;
  }
  if (!wasBlocked) {
    updateWatch();
    return;
  }
  // Writable again: the request deadline is the next request's, and what
  // was received before the socket blocked is handled now.
  if (state_ == State::ReadingHead || state_ == State::ReadingBody) {
    arm(limits_.requestTimeoutMs);
  } else {
    loop_.timers().cancel(deadline_);
  }
  updateWatch();
  if (!in_.empty()) process();
}

void AdminConnection::linger() {
  ::shutdown(fd_.get(), SHUT_WR);
  state_ = State::Lingering;
  in_.clear();
  updateWatch();
  arm(std::min(kLingerMs, limits_.requestTimeoutMs));
}

void AdminConnection::shutdown() {
  stopping_ = true;
  if (state_ == State::Streaming && stream_) {
    stream_->stopping(*this);  // says goodbye (a close frame), or waits for an answer
    return;
  }
  if (state_ != State::Dispatched && state_ != State::Finishing && !writeBlocked_) close();
}

bool AdminConnection::closeIfWaiting() {
  if (writeBlocked_) return false;
  if (state_ != State::ReadingHead && state_ != State::ReadingBody && state_ != State::Lingering) {
    return false;
  }
  close();
  return true;
}

void AdminConnection::close() {
  if (state_ == State::Closed) return;
  state_ = State::Closed;
  loop_.timers().cancel(deadline_);
  loop_.remove(fd_.get());
  fd_.reset();
  in_.clear();
  out_.clear();
  writeBlocked_ = false;
  owner_.closed(*this);
}

}  // namespace wsr::admin
