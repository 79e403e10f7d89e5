// The floor: the least a broadcast server can do, to measure the engine against.
//
// Single thread, level-triggered epoll. Minimal WebSocket: the opening
// handshake (Sec-WebSocket-Key -> Sec-WebSocket-Accept) and small, unfragmented
// masked client frames. Every text or binary message received from any client
// is framed ONCE as a server frame (one reference-counted buffer) and queued
// to EVERY open connection, the sender included. Frames queued during an
// event-loop pass are written at the end of the pass: per socket, all pending
// frames in one gathered write (sendmsg with an iovec per frame, up to
// IOV_MAX); a short write leaves the rest for EPOLLOUT. No per-connection copy of any frame, no
// per-frame system call.
//
// Flags: --port P (0: any free port), --host A (default 127.0.0.1).
// Prints "LISTENING <port>" once listening. SIGTERM/SIGINT: exit.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr size_t kReadSize = 64 * 1024;
constexpr size_t kMaxHead = 8192;
constexpr size_t kMaxIov = 1024;  // IOV_MAX on Linux

// A frame built once and shared by every queue it is on. Single-threaded:
// a plain reference count.
struct Frame {
  uint32_t refs;
  uint32_t size;
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
};

Frame* newFrame(size_t size) {
  auto* f = static_cast<Frame*>(std::malloc(sizeof(Frame) + size));
  if (f == nullptr) std::abort();
  f->refs = 0;
  f->size = static_cast<uint32_t>(size);
  return f;
}
inline void release(Frame* f) {
  if (--f->refs == 0) std::free(f);
}

struct Conn {
  int fd = -1;
  bool open = false;     // handshake done
  bool dirty = false;    // on the end-of-pass flush list
  bool wantOut = false;  // blocked: EPOLLOUT registered
  bool closing = false;
  size_t slot = 0;  // index in the open list
  std::string in;   // handshake bytes, or a partial frame
  std::vector<Frame*> queue;
  size_t queueHead = 0;   // first unwritten frame
  size_t headOffset = 0;  // bytes of it already written
};

class FloorServer {
 public:
  bool listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void run();

 private:
  void acceptAll();
  void onReadable(Conn* c);
  void onHandshake(Conn* c, const char* data, size_t len);
  // Consumes complete frames from [data, data+len); returns bytes consumed.
  size_t onFrames(Conn* c, const char* data, size_t len);
  void broadcast(unsigned opcode, const char* maskedPayload, size_t len, const unsigned char* mask);
  void enqueue(Conn* c, Frame* f);
  void flush(Conn* c);
  void setWantOut(Conn* c, bool want);
  void closeConn(Conn* c);

  int listener_ = -1;
  int epoll_ = -1;
  uint16_t port_ = 0;
  std::vector<Conn*> openConns_;
  std::vector<Conn*> dirty_;
  std::vector<Conn*> dead_;
  std::vector<char> buffer_ = std::vector<char>(kReadSize);
  std::vector<iovec> iov_ = std::vector<iovec>(kMaxIov);
};

bool FloorServer::listen(const std::string& host, uint16_t port) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener_ < 0) return false;
  const int on = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "floor_server: --host must be a numeric IPv4 address\n");
    return false;
  }
  if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  if (::listen(listener_, 4096) != 0) return false;
  socklen_t len = sizeof addr;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  return epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &ev) == 0;
}

void FloorServer::acceptAll() {
  for (;;) {
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or EMFILE (the backlog waits)
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto* c = new Conn;
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = c;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }
}

std::string acceptKey(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  char out[64];
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), digest, static_cast<int>(len));
  return std::string(out, static_cast<size_t>(n));
}

void FloorServer::onHandshake(Conn* c, const char* data, size_t len) {
  c->in.append(data, len);
  const size_t end = c->in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c->in.size() > kMaxHead) closeConn(c);
    return;
  }
  std::string_view key;
  const std::string_view head(c->in.data(), end + 2);
  for (size_t pos = head.find("\r\n") + 2; pos < head.size();) {
    const size_t eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    constexpr std::string_view kName = "sec-websocket-key:";
    if (line.size() > kName.size() &&
        std::equal(kName.begin(), kName.end(), line.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      key = line.substr(kName.size());
      while (!key.empty() && key.front() == ' ')
        key.remove_prefix(1);
      while (!key.empty() && key.back() == ' ')
        key.remove_suffix(1);
    }
    pos = eol + 2;
  }
  if (key.empty()) {
    static constexpr char kBad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    [[maybe_unused]] ssize_t n = ::send(c->fd, kBad, sizeof kBad - 1, MSG_NOSIGNAL);
    closeConn(c);
    return;
  }
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      acceptKey(key) + "\r\n\r\n";
  if (::send(c->fd, response.data(), response.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(response.size())) {
    closeConn(c);
    return;
  }
  std::string rest = c->in.substr(end + 4);
  c->in.clear();
  c->open = true;
  c->slot = openConns_.size();
  openConns_.push_back(c);
  if (!rest.empty()) {
    const size_t used = onFrames(c, rest.data(), rest.size());
    if (!c->closing) c->in.assign(rest, used, std::string::npos);
  }
}

void FloorServer::broadcast(unsigned opcode, const char* maskedPayload, size_t len,
                            const unsigned char* mask) {
  const size_t header = len < 126 ? 2 : len < 65536 ? 4 : 10;
  Frame* f = newFrame(header + len);
  char* p = f->bytes();
  p[0] = static_cast<char>(0x80 | opcode);
  if (header == 2) {
    p[1] = static_cast<char>(len);
  } else if (header == 4) {
    p[1] = 126;
    p[2] = static_cast<char>(len >> 8);
    p[3] = static_cast<char>(len & 0xff);
  } else {
    p[1] = 127;
    for (int i = 0; i < 8; ++i)
      p[2 + i] = static_cast<char>((static_cast<uint64_t>(len) >> (56 - 8 * i)) & 0xff);
  }
  for (size_t i = 0; i < len; ++i)
    p[header + i] = static_cast<char>(maskedPayload[i] ^ mask[i & 3]);
  f->refs = 1;  // held by this function until every queue has it
  for (Conn* c : openConns_)
    enqueue(c, f);
  release(f);
}

void FloorServer::enqueue(Conn* c, Frame* f) {
  if (c->closing) return;
  ++f->refs;
  c->queue.push_back(f);
  if (!c->dirty && !c->wantOut) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

size_t FloorServer::onFrames(Conn* c, const char* data, size_t len) {
  size_t pos = 0;
  while (len - pos >= 2 && !c->closing) {
    const auto b0 = static_cast<unsigned char>(data[pos]);
    const auto b1 = static_cast<unsigned char>(data[pos + 1]);
    if ((b1 & 0x80) == 0) {  // clients must mask
      closeConn(c);
      return len;
    }
    size_t header = 2;
    uint64_t payloadLen = b1 & 0x7f;
    if (payloadLen == 126) {
      if (len - pos < 4) break;
      payloadLen = (static_cast<uint64_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
                   static_cast<unsigned char>(data[pos + 3]);
      header = 4;
    } else if (payloadLen == 127) {
      if (len - pos < 10) break;
      payloadLen = 0;
      for (int i = 0; i < 8; ++i)
        payloadLen = (payloadLen << 8) | static_cast<unsigned char>(data[pos + 2 + i]);
      header = 10;
    }
    if (payloadLen > (16u << 20)) {
      closeConn(c);
      return len;
    }
    if (len - pos < header + 4 + payloadLen) break;
    const auto* mask = reinterpret_cast<const unsigned char*>(data + pos + header);
    const char* payload = data + pos + header + 4;
    const unsigned opcode = b0 & 0x0f;
    pos += header + 4 + payloadLen;
    if (opcode == 0x1 || opcode == 0x2) {
      broadcast(opcode, payload, static_cast<size_t>(payloadLen), mask);
    } else if (opcode == 0x8) {
      // Answer with an empty close frame, then drop the connection.
      static constexpr char kClose[] = {static_cast<char>(0x88), 0};
      [[maybe_unused]] ssize_t n =
          ::send(c->fd, kClose, sizeof kClose, MSG_NOSIGNAL | MSG_DONTWAIT);
      closeConn(c);
      return len;
    }
    // Pings, pongs and continuations: ignored (the load generator sends none).
  }
  return pos;
}

void FloorServer::onReadable(Conn* c) {
  const ssize_t n = ::recv(c->fd, buffer_.data(), buffer_.size(), 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    closeConn(c);
    return;
  }
  const auto len = static_cast<size_t>(n);
  if (!c->open) {
    onHandshake(c, buffer_.data(), len);
    return;
  }
  if (c->in.empty()) {
    // Common case: frames parsed in place, only a partial tail kept.
    const size_t used = onFrames(c, buffer_.data(), len);
    if (!c->closing && used < len) c->in.assign(buffer_.data() + used, len - used);
  } else {
    c->in.append(buffer_.data(), len);
    const size_t used = onFrames(c, c->in.data(), c->in.size());
    if (!c->closing) c->in.erase(0, used);
  }
}

void FloorServer::setWantOut(Conn* c, bool want) {
  if (c->wantOut == want) return;
  c->wantOut = want;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
  ev.data.ptr = c;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
}

void FloorServer::flush(Conn* c) {
  while (c->queueHead < c->queue.size()) {
    const size_t count = std::min(kMaxIov, c->queue.size() - c->queueHead);
    size_t total = 0;
    for (size_t i = 0; i < count; ++i) {
      Frame* f = c->queue[c->queueHead + i];
      const size_t skip = i == 0 ? c->headOffset : 0;
      iov_[i].iov_base = f->bytes() + skip;
      iov_[i].iov_len = f->size - skip;
      total += f->size - skip;
    }
    // sendmsg() rather than writev(): the same gather, but the socket path
    // skips writev's file-position lock (fdget_pos) and VFS layer, measurably
    // cheaper per call (and what the engine uses).
    msghdr message{};
    message.msg_iov = iov_.data();
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(c->fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        setWantOut(c, true);
        return;
      }
      closeConn(c);
      return;
    }
    auto left = static_cast<size_t>(n);
    while (left > 0) {
      Frame* f = c->queue[c->queueHead];
      const size_t remaining = f->size - c->headOffset;
      if (left < remaining) {
        c->headOffset += left;
        break;
      }
      left -= remaining;
      c->headOffset = 0;
      ++c->queueHead;
      release(f);
    }
    if (static_cast<size_t>(n) < total) {  // short write: the socket buffer is full
      setWantOut(c, true);
      return;
    }
  }
  c->queue.clear();  // keeps its capacity
  c->queueHead = 0;
  setWantOut(c, false);
}

void FloorServer::closeConn(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  c->fd = -1;
  if (c->open) {
    Conn* last = openConns_.back();
    openConns_[c->slot] = last;
    last->slot = c->slot;
    openConns_.pop_back();
  }
  for (size_t i = c->queueHead; i < c->queue.size(); ++i)
    release(c->queue[i]);
  c->queue.clear();
  c->queueHead = 0;
  dead_.push_back(c);  // freed at the end of the pass: events may still name it
}

void FloorServer::run() {
  std::vector<epoll_event> events(1024);
  for (;;) {
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      return;
    }
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      const uint32_t ev = events[i].events;
      if (c == nullptr) {
        acceptAll();
        continue;
      }
      if (c->closing) continue;
      if ((ev & EPOLLOUT) != 0 && c->wantOut) {
        // Writable again: back on the flush list for the end of this pass
        // (flush() drops the EPOLLOUT interest once drained).
        if (!c->dirty) {
          c->dirty = true;
          dirty_.push_back(c);
        }
      }
      if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) onReadable(c);
    }
    // End of pass: one gathered write per socket with pending frames.
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Conn* c = dirty_[i];
      c->dirty = false;
      if (!c->closing) flush(c);
    }
    dirty_.clear();
    for (Conn* c : dead_)
      delete c;
    dead_.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "floor_server: %s needs a value\nusage: floor_server [--port P] [--host A]\n",
                   flag.c_str());
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--port") {
      port = static_cast<uint16_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--host") {
      host = value;
    } else {
      std::fprintf(stderr, "floor_server: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  FloorServer server;
  if (!server.listen(host, port)) {
    std::fprintf(stderr, "floor_server: listen on %s:%u: %s\n", host.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  std::printf("LISTENING %u\n", server.port());
  std::fflush(stdout);
  server.run();
  return 0;
}
