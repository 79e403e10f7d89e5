#include "ws/Worker.h"

#include <cerrno>
#include <random>

#include "net/Socket.h"
#include "ws/FrameWriter.h"
#include "ws/WebSocket.h"

namespace wsr::ws {
namespace {
constexpr size_t kReadBufferBytes = size_t{64} * 1024;
// Accepts per readiness event: enough to take a burst, few enough that a
// connection storm does not starve the connections already open.
constexpr int kMaxAcceptsPerEvent = 256;
// After EMFILE the listener rests this long instead of spinning on a
// connection it cannot accept.
constexpr uint64_t kAcceptRetryMs = 100;
}  // namespace

Worker::Worker(unsigned index, const ServerOptions& options)
    : index_(index),
      options_(options),
      readBuffer_(kReadBufferBytes, '\0'),
      pingFrame_(buildFrame(Opcode::Ping, {})),
      // Ids are unique across workers: the worker's index in the top bits.
      nextId_((static_cast<uint64_t>(index) << 48) + 1) {
  loop_.setAfterPass([this] { retired_.clear(); });
}

Worker::~Worker() = default;

bool Worker::listen(uint16_t port, std::string& error) {
  listener_ = net::listenTcp(options_.host, port, options_.backlog, error);
  if (!listener_) return false;
  port_ = net::localPort(listener_.get());
  loop_.add(listener_.get(), EPOLLIN, this);
  return true;
}

void Worker::stopAccepting() {
  loop_.timers().cancel(acceptRetry_);
  if (!listener_) return;
  loop_.remove(listener_.get());
  listener_.reset();
}

void Worker::closeAllSpread(uint16_t code, std::string_view reason, uint32_t windowMs) {
  std::mt19937_64 random(std::random_device{}() ^ (uint64_t{index_} << 32));
  std::uniform_int_distribution<uint64_t> delay(0, windowMs == 0 ? 0 : windowMs - 1);
  forEachConnection([&](WebSocket& socket) { socket.closeAfter(delay(random), code, reason); });
}

void Worker::onIo(uint32_t /*events*/) {
  acceptAll();
}

void Worker::onTimer(net::Timer& timer) {
  if (&timer == &batchTimer_) {
    // Each connection of the batch flushes at the end of this pass.
    std::vector<WebSocket*> due;
    due.swap(batch_);
    for (WebSocket* socket : due) {
      if (socket == nullptr) continue;
      socket->batched_ = false;
      socket->requestFlush();
    }
    return;
  }
  if (listener_) loop_.add(listener_.get(), EPOLLIN, this);
}

void Worker::flushInNextBatch(WebSocket& socket) {
  socket.batchSlot_ = batch_.size();
  batch_.push_back(&socket);
  if (!batchTimer_.scheduled()) {
    loop_.timers().schedule(batchTimer_, loop_.nowMs() + options_.flushIntervalMs);
  }
}

void Worker::leaveBatch(WebSocket& socket) {
  if (socket.batchSlot_ < batch_.size() && batch_[socket.batchSlot_] == &socket) {
    batch_[socket.batchSlot_] = nullptr;
  }
}

void Worker::acceptAll() {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    net::PeerAddress peer;
    net::Fd fd = net::acceptConnection(listener_.get(), peer);
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        loop_.remove(listener_.get());
        loop_.timers().schedule(acceptRetry_, loop_.nowMs() + kAcceptRetryMs);
      }
      // EAGAIN: none left. ECONNABORTED and the like: that one is gone.
      if (errno != ECONNABORTED && errno != EINTR) return;
      continue;
    }
    stats::singleWriterAdd(stats_.accepted);
    auto socket = std::make_unique<WebSocket>(*this, std::move(fd), peer, nextId_++);
    socket->slot_ = connections_.size();
    WebSocket& started = *socket;
    connections_.push_back(std::move(socket));
    started.start();
  }
}

void Worker::opened(WebSocket& /*socket*/) {
  ++openCount_;
  stats::singleWriterAdd(stats_.open);
  stats::singleWriterAdd(stats_.upgraded);
}

void Worker::retire(WebSocket& socket, bool wasOpen) {
  if (wasOpen) {
    --openCount_;
    stats::singleWriterSub(stats_.open);
  }
  const size_t slot = socket.slot_;
  std::unique_ptr<WebSocket> owned = std::move(connections_[slot]);
  if (slot + 1 != connections_.size()) {
    connections_[slot] = std::move(connections_.back());
    connections_[slot]->slot_ = slot;
  }
  connections_.pop_back();
  retired_.push_back(std::move(owned));
}

}  // namespace wsr::ws
