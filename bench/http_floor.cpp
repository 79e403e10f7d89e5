// The HTTP floor: the least an HTTP/1.1 publish endpoint can do, to measure
// the router's publish API against (bench/publish.sh).
//
// Single thread, level-triggered epoll, libc only. Per connection an input
// buffer: the request line and header fields are parsed as far as the
// answer needs them (Content-Length, Connection, Transfer-Encoding, matched
// case-insensitively), then the body is read whole and not looked at, except
// that a request whose target ends in /batch is answered with one result per
// `"channel"` in its body (a byte scan), so its answer is as long as the
// router's. Every request is answered 200 with a small JSON body like the
// router's, {"channel":"bench","seq":N} with N counting from 1. Keep-alive;
// pipelined requests are answered in order, and all the answers to what one
// recv() brought go out in one send(). A short write leaves the rest for
// EPOLLOUT, and the connection reads nothing more until it is written (the
// client's pipeline waits in the socket, as it would on any server).
//
// Bad input gets an answer naming what was wrong (400, 413, 501), then the
// connection is closed.
//
// Flags: --port P (0: any free port), --host A (default 127.0.0.1).
// Prints "LISTENING <port>" once listening. SIGTERM/SIGINT: exit.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
constexpr size_t kMaxBody = 64u << 20;

struct Conn {
  int fd = -1;
  bool wantOut = false;     // blocked on a short write: EPOLLOUT registered
  bool closeAfter = false;  // close once `out` is written (Connection: close, or an error)
  bool closing = false;
  std::string in;   // unparsed bytes: a partial request
  std::string out;  // answers not yet written
  size_t outPos = 0;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value holds `token` (any case).
bool hasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (equalsIgnoreCase(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

size_t countOf(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (const char* p = haystack.data(); p < haystack.data() + haystack.size(); p += needle.size()) {
    const void* hit = memmem(p, static_cast<size_t>(haystack.data() + haystack.size() - p),
                             needle.data(), needle.size());
    if (hit == nullptr) break;
    p = static_cast<const char*>(hit);
    ++n;
  }
  return n;
}

class HttpFloor {
 public:
  bool listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  void run();

 private:
  // What the head of one request says. `error` set: answer it and close.
  struct Head {
    size_t headBytes = 0;
    size_t contentLength = 0;
    bool batch = false;
    bool close = false;
    int errorStatus = 0;
    std::string error;
  };

  void acceptAll();
  void onReadable(Conn* c);
  void onWritable(Conn* c);
  // Answers the complete requests at the start of [data, data+len); returns
  // the bytes consumed (a partial request is left).
  size_t onRequests(Conn* c, const char* data, size_t len);
  static Head parseHead(std::string_view head);
  void answer(Conn* c, size_t results);
  void answerError(Conn* c, int status, const std::string& message);
  void flush(Conn* c);
  void setWantOut(Conn* c, bool want);
  void closeConn(Conn* c);

  int listener_ = -1;
  int epoll_ = -1;
  uint16_t port_ = 0;
  uint64_t seq_ = 0;
  std::vector<Conn*> dead_;
  std::vector<char> buffer_ = std::vector<char>(kReadSize);
};

bool HttpFloor::listen(const std::string& host, uint16_t port) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener_ < 0) return false;
  const int on = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "http_floor: --host must be a numeric IPv4 address, not %s\n",
                 host.c_str());
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

void HttpFloor::acceptAll() {
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

HttpFloor::Head HttpFloor::parseHead(std::string_view head) {
  Head h;
  const size_t lineEnd = head.find("\r\n");
  const std::string_view requestLine = head.substr(0, lineEnd);
  const size_t sp1 = requestLine.find(' ');
  const size_t sp2 = requestLine.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    h.errorStatus = 400;
    h.error = "request line is not 'METHOD TARGET VERSION'";
    return h;
  }
  const std::string_view target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = requestLine.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    h.close = true;  // unless Connection: keep-alive, below
  } else if (version != "HTTP/1.1") {
    h.errorStatus = 400;
    h.error = "HTTP version must be HTTP/1.1 or HTTP/1.0";
    return h;
  }
  constexpr std::string_view kBatch = "/batch";
  h.batch =
      target.size() >= kBatch.size() && target.substr(target.size() - kBatch.size()) == kBatch;
  bool sawLength = false;
  for (size_t pos = lineEnd + 2; pos < head.size();) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    const std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      h.errorStatus = 400;
      h.error = "header field without a name and ':'";
      return h;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (equalsIgnoreCase(name, "content-length")) {
      size_t n = 0;
      if (value.empty() || value.size() > 12 ||
          !std::all_of(value.begin(), value.end(),
                       [](char ch) { return ch >= '0' && ch <= '9'; })) {
        h.errorStatus = 400;
        h.error = "Content-Length is not a decimal number";
        return h;
      }
      for (char ch : value)
        n = n * 10 + static_cast<size_t>(ch - '0');
      if (sawLength && n != h.contentLength) {
        h.errorStatus = 400;
        h.error = "two different Content-Length fields";
        return h;
      }
      sawLength = true;
      h.contentLength = n;
    } else if (equalsIgnoreCase(name, "connection")) {
      if (hasToken(value, "close")) h.close = true;
      if (hasToken(value, "keep-alive")) h.close = false;
    } else if (equalsIgnoreCase(name, "transfer-encoding")) {
      h.errorStatus = 501;
      h.error = "Transfer-Encoding is not supported: send Content-Length";
      return h;
    }
  }
  if (h.contentLength > kMaxBody) {
    h.errorStatus = 413;
    h.error = "body larger than " + std::to_string(kMaxBody) + " bytes";
  }
  return h;
}

void HttpFloor::answer(Conn* c, size_t results) {
  // The router's answers: {"channel":"bench","seq":N}, and a batch's
  // {"results":[{"channel":"bench","seq":N},...]}.
  char one[64];
  std::string body;
  if (results == 0) {
    const int n = std::snprintf(one, sizeof one, "{\"channel\":\"bench\",\"seq\":%llu}",
                                static_cast<unsigned long long>(++seq_));
    body.assign(one, static_cast<size_t>(n));
  } else {
    body.reserve(16 + results * 36);
    body = "{\"results\":[";
    for (size_t i = 0; i < results; ++i) {
      const int n = std::snprintf(one, sizeof one, "%s{\"channel\":\"bench\",\"seq\":%llu}",
                                  i == 0 ? "" : ",", static_cast<unsigned long long>(++seq_));
      body.append(one, static_cast<size_t>(n));
    }
    body += "]}";
  }
  char head[128];
  const int n = std::snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              body.size());
  c->out.append(head, static_cast<size_t>(n));
  c->out += body;
}

void HttpFloor::answerError(Conn* c, int status, const std::string& message) {
  const char* reason = status == 413   ? "Payload Too Large"
                       : status == 501 ? "Not Implemented"
                                       : "Bad Request";
  const char* code = status == 413 ? "TOO_LARGE" : "BAD_REQUEST";
  const std::string body =
      std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + message + "\"}}";
  c->out += "HTTP/1.1 " + std::to_string(status) + " " + reason +
            "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
  c->closeAfter = true;
}

size_t HttpFloor::onRequests(Conn* c, const char* data, size_t len) {
  size_t pos = 0;
  while (pos < len && !c->closeAfter) {
    const std::string_view rest(data + pos, len - pos);
    const size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (rest.size() > kMaxHead) answerError(c, 400, "request head longer than 8192 bytes");
      break;
    }
    if (end > kMaxHead) {
      answerError(c, 400, "request head longer than 8192 bytes");
      break;
    }
    Head h = parseHead(rest.substr(0, end + 2));
    if (h.errorStatus != 0) {
      answerError(c, h.errorStatus, h.error);
      break;
    }
    const size_t total = end + 4 + h.contentLength;
    if (rest.size() < total) break;  // the body is still coming
    const std::string_view body = rest.substr(end + 4, h.contentLength);
    answer(c, h.batch ? std::max<size_t>(1, countOf(body, "\"channel\"")) : 0);
    if (h.close) c->closeAfter = true;
    pos += total;
  }
  return pos;
}

void HttpFloor::onReadable(Conn* c) {
  const ssize_t n = ::recv(c->fd, buffer_.data(), buffer_.size(), 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    closeConn(c);
    return;
  }
  const auto len = static_cast<size_t>(n);
  if (c->in.empty()) {
    // Common case: whole requests parsed in place, only a partial tail kept.
    const size_t used = onRequests(c, buffer_.data(), len);
    if (used < len) c->in.assign(buffer_.data() + used, len - used);
  } else {
    c->in.append(buffer_.data(), len);
    const size_t used = onRequests(c, c->in.data(), c->in.size());
    c->in.erase(0, used);
  }
  if (!c->out.empty()) flush(c);
}

void HttpFloor::onWritable(Conn* c) {
  flush(c);
}

void HttpFloor::setWantOut(Conn* c, bool want) {
  if (c->wantOut == want) return;
  c->wantOut = want;
  epoll_event ev{};
  // While answers wait, stop reading: a client pipelining without reading
  // its answers must not grow `out` without bound. No EPOLLRDHUP then
  // either: level-triggered, a peer's half-close would wake every pass.
  ev.events = want ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
}

void HttpFloor::flush(Conn* c) {
  while (c->outPos < c->out.size()) {
    const ssize_t n = ::send(c->fd, c->out.data() + c->outPos, c->out.size() - c->outPos,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        setWantOut(c, true);
        return;
      }
      closeConn(c);
      return;
    }
    c->outPos += static_cast<size_t>(n);
  }
  c->out.clear();  // keeps its capacity
  c->outPos = 0;
  if (c->closeAfter) {
    closeConn(c);
    return;
  }
  setWantOut(c, false);
  // Requests that arrived while the answers waited are in `in`, whole.
  if (!c->in.empty() && c->in.find("\r\n\r\n") != std::string::npos) {
    const size_t used = onRequests(c, c->in.data(), c->in.size());
    c->in.erase(0, used);
    if (!c->out.empty()) flush(c);
  }
}

void HttpFloor::closeConn(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  c->fd = -1;
  dead_.push_back(c);  // freed at the end of the pass: events may still name it
}

void HttpFloor::run() {
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
      if (c->wantOut) {
        if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) onWritable(c);
      } else if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        onReadable(c);
      }
    }
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
                   "http_floor: %s needs a value\nusage: http_floor [--port P] [--host A]\n",
                   flag.c_str());
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--port") {
      char* end = nullptr;
      const unsigned long p = std::strtoul(value, &end, 10);
      if (*value == '\0' || *end != '\0' || p > 65535) {
        std::fprintf(stderr, "http_floor: --port must be 0 to 65535, not %s\n", value);
        return 2;
      }
      port = static_cast<uint16_t>(p);
    } else if (flag == "--host") {
      host = value;
    } else {
      std::fprintf(stderr, "http_floor: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  HttpFloor server;
  if (!server.listen(host, port)) {
    std::fprintf(stderr, "http_floor: listen on %s:%u: %s\n", host.c_str(), port,
                 std::strerror(errno));
    return 1;
  }
  std::printf("LISTENING %u\n", server.port());
  std::fflush(stdout);
  server.run();
  return 0;
}
