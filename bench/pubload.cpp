// Publisher WebSocket load: the client side of the router's
// GET /api/v1/publish/ws on the admin port (bench/publish.sh, cell pubws).
//
// One epoll thread, libc only, its own minimal RFC 6455 client. Opens C
// connections with `Authorization: Bearer <token>`; each keeps W publish
// frames in flight: masked text frames
//   {"op":"publish","id":N,"channel":"bench","type":"bench","data":{"p":"xx..."}}
// whose data is --size bytes. The server answers each, in order, with
//   {"op":"published","id":N,"channel":"bench","seq":S}  or
//   {"op":"error","id":N,"code":"OVERLOADED","message":"..."}
// Every answer frees a slot; the slots freed by one recv() are refilled in
// one send(). Answers are checked: the id must be the next one sent on that
// connection (out_of_order otherwise), errors are counted by code. Latency
// is a frame's send to its answer, one clock reading per recv() and per
// send(), per connection a ring of send times (answers come in order).
//
// Counts are taken over --duration seconds after --warmup seconds. Output:
// one JSON line on stdout; a refused handshake prints {"error":"handshake
// refused: <status line>",...} and exits 1. Diagnostics on stderr.
//
// The server's Sec-WebSocket-Accept is not verified (it would need SHA-1,
// and the server under test is ours); its status line must be 101.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr size_t kReadSize = 256 * 1024;
constexpr size_t kLatencyBuckets = 1'000'000;  // 1 us each, up to 1 s; slower ones go to the last

uint64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/api/v1/publish/ws";
  std::string token;
  std::string channel = "bench";
  size_t connections = 4;
  size_t window = 256;
  size_t size = 200;
  double duration = 10;
  double warmup = 1;
};

struct Conn {
  int fd = -1;
  bool open = true;
  bool blocked = false;  // a short write: EPOLLOUT registered
  std::string in;        // a partial frame
  std::string out;       // frames not yet written
  size_t outPos = 0;
  uint64_t nextId = 1;           // id of the next frame to send
  uint64_t expectId = 1;         // id the next answer must carry
  std::vector<uint64_t> sentAt;  // ring of send times, indexed by id % window
};

struct Counts {
  uint64_t published = 0;
  uint64_t errors = 0;
  uint64_t outOfOrder = 0;
};

class PubLoad {
 public:
  explicit PubLoad(Options options) : o_(std::move(options)), latency_(kLatencyBuckets + 1) {}
  // Connects and upgrades every connection; on failure prints why (the JSON
  // error line) and returns false.
  bool connectAll();
  void run();
  void report() const;

 private:
  bool handshake(Conn& c, std::string& error);
  void appendFrames(Conn& c, size_t count, uint64_t now);
  void flush(Conn& c);
  void onReadable(Conn& c);
  size_t onFrames(Conn& c, const char* data, size_t len, uint64_t now, size_t& freed);
  void onAnswer(Conn& c, std::string_view text, uint64_t now);
  void lose(Conn& c, const std::string& why);
  void setWantOut(Conn& c, bool want);
  uint64_t nextRandom() {
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1DULL;
  }

  Options o_;
  int epoll_ = -1;
  std::vector<Conn> conns_;
  std::string payloadTail_;  // everything of a publish frame's payload after its id
  std::vector<char> buffer_ = std::vector<char>(kReadSize);
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
  bool measuring_ = false;
  bool sending_ = true;
  Counts total_;
  Counts window_;  // during the measured --duration
  std::vector<std::pair<std::string, uint64_t>> errorCodes_;
  std::vector<uint64_t> latency_;  // histogram of the measured window's answers, us
  uint64_t latencyMaxNs_ = 0;
  size_t lost_ = 0;
  std::string lostWhy_;
  double measuredS_ = 0;
};

bool PubLoad::handshake(Conn& c, std::string& error) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o_.port);
  if (inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1) {
    error = "--host must be a numeric IPv4 address";
    return false;
  }
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect to " + o_.host + ":" + std::to_string(o_.port) + ": " + std::strerror(errno);
    return false;
  }
  const int on = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  timeval timeout{5, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  unsigned char key[16];
  for (auto& b : key)
    b = static_cast<unsigned char>(nextRandom());
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string keyB64;
  for (size_t i = 0; i < 16; i += 3) {
    const uint32_t v = (uint32_t{key[i]} << 16) | (i + 1 < 16 ? uint32_t{key[i + 1]} << 8 : 0) |
                       (i + 2 < 16 ? uint32_t{key[i + 2]} : 0);
    keyB64 += kB64[(v >> 18) & 63];
    keyB64 += kB64[(v >> 12) & 63];
    keyB64 += i + 1 < 16 ? kB64[(v >> 6) & 63] : '=';
    keyB64 += i + 2 < 16 ? kB64[v & 63] : '=';
  }
  const std::string request =
      "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host + ":" + std::to_string(o_.port) +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: " +
      keyB64 + "\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer " + o_.token + "\r\n\r\n";
  if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    error = std::string("sending the handshake: ") + std::strerror(errno);
    return false;
  }
  std::string answer;
  size_t end = std::string::npos;
  while (end == std::string::npos) {
    const ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), 0);
    if (n <= 0) {
      error = n == 0 ? "handshake refused: the server closed the connection"
                     : std::string("handshake: no answer (") + std::strerror(errno) + ")";
      if (!answer.empty()) error += " after '" + answer.substr(0, answer.find("\r\n")) + "'";
      return false;
    }
    answer.append(buffer_.data(), static_cast<size_t>(n));
    end = answer.find("\r\n\r\n");
  }
  const std::string status = answer.substr(0, answer.find("\r\n"));
  if (status.rfind("HTTP/1.1 101", 0) != 0) {
    // What the server said, body included as far as it came: it names why.
    std::string body = answer.substr(end + 4, 200);
    for (char& ch : body)
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = '\'';
    error = "handshake refused: " + status + (body.empty() ? "" : " " + body);
    return false;
  }
  c.in = answer.substr(end + 4);
  timeout = {0, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return true;
}

bool PubLoad::connectAll() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) == sizeof seed && seed != 0) rng_ = seed;
  // data: {"p":"xxx"} of exactly --size bytes.
  const size_t pad = o_.size > 8 ? o_.size - 8 : 0;
  payloadTail_ = ",\"channel\":\"" + o_.channel + "\",\"type\":\"bench\",\"data\":{\"p\":\"" +
                 std::string(pad, 'x') + "\"}}";
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  conns_.resize(o_.connections);
  for (size_t i = 0; i < conns_.size(); ++i) {
    Conn& c = conns_[i];
    std::string error;
    if (!handshake(c, error)) {
      for (char& ch : error)
        if (ch == '"' || ch == '\\') ch = '\'';
      std::printf("{\"error\":\"%s\",\"connection\":%zu}\n", error.c_str(), i);
      std::fprintf(stderr, "pubload: connection %zu: %s\n", i, error.c_str());
      return false;
    }
    c.sentAt.assign(o_.window, 0);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }
  return true;
}

void PubLoad::appendFrames(Conn& c, size_t count, uint64_t now) {
  char head[48];
  for (size_t k = 0; k < count; ++k) {
    const uint64_t id = c.nextId++;
    const int headLen = std::snprintf(head, sizeof head, "{\"op\":\"publish\",\"id\":%llu",
                                      static_cast<unsigned long long>(id));
    const size_t len = static_cast<size_t>(headLen) + payloadTail_.size();
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = 0x81;  // FIN, text
    if (len < 126) {
      hdr[h++] = static_cast<unsigned char>(0x80 | len);
    } else if (len < 65536) {
      hdr[h++] = 0x80 | 126;
      hdr[h++] = static_cast<unsigned char>(len >> 8);
      hdr[h++] = static_cast<unsigned char>(len);
    } else {
      hdr[h++] = 0x80 | 127;
      for (int s = 56; s >= 0; s -= 8)
        hdr[h++] = static_cast<unsigned char>(static_cast<uint64_t>(len) >> s);
    }
    const auto mask = static_cast<uint32_t>(nextRandom());
    std::memcpy(hdr + h, &mask, 4);
    h += 4;
    c.out.append(reinterpret_cast<const char*>(hdr), h);
    const size_t start = c.out.size();
    c.out.append(head, static_cast<size_t>(headLen));
    c.out += payloadTail_;
    const auto* m = reinterpret_cast<const unsigned char*>(&mask);
    char* p = c.out.data() + start;
    for (size_t i = 0; i < len; ++i)
      p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ m[i & 3]);
    c.sentAt[id % o_.window] = now;
  }
}

void PubLoad::setWantOut(Conn& c, bool want) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
  ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void PubLoad::flush(Conn& c) {
  while (c.outPos < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!c.blocked) setWantOut(c, true);
        c.blocked = true;
        return;
      }
      lose(c, std::string("send: ") + std::strerror(errno));
      return;
    }
    c.outPos += static_cast<size_t>(n);
  }
  c.out.clear();
  c.outPos = 0;
  if (c.blocked) setWantOut(c, false);
  c.blocked = false;
}

void PubLoad::lose(Conn& c, const std::string& why) {
  if (!c.open) return;
  c.open = false;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  ++lost_;
  if (lostWhy_.empty()) lostWhy_ = why;
  std::fprintf(stderr, "pubload: connection %zu lost: %s\n",
               static_cast<size_t>(&c - conns_.data()), why.c_str());
}

// The value of top-level-looking field `name` in a JSON object, unquoted if a
// string; empty if absent. Enough for the answers' flat objects, in any spacing.
std::string_view field(std::string_view text, std::string_view name) {
  for (size_t at = 0; (at = text.find(name, at)) != std::string_view::npos; at += name.size()) {
    if (at == 0 || text[at - 1] != '"' || at + name.size() >= text.size() ||
        text[at + name.size()] != '"')
      continue;
    size_t i = at + name.size() + 1;
    while (i < text.size() && text[i] == ' ')
      ++i;
    if (i >= text.size() || text[i] != ':') continue;
    ++i;
    while (i < text.size() && text[i] == ' ')
      ++i;
    if (i < text.size() && text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      return text.substr(i + 1, close == std::string_view::npos ? 0 : close - i - 1);
    }
    const size_t stop = text.find_first_of(",} ", i);
    return text.substr(i, stop == std::string_view::npos ? text.size() - i : stop - i);
  }
  return {};
}

void PubLoad::onAnswer(Conn& c, std::string_view text, uint64_t now) {
  Counts& w = window_;
  const std::string_view idText = field(text, "id");
  uint64_t id = 0;
  for (char ch : idText)
    id = ch >= '0' && ch <= '9' ? id * 10 + static_cast<uint64_t>(ch - '0') : 0;
  if (id != c.expectId) {
    ++total_.outOfOrder;
    if (measuring_) ++w.outOfOrder;
    if (total_.outOfOrder <= 3)
      std::fprintf(stderr, "pubload: expected the answer to id %llu, got: %.*s\n",
                   static_cast<unsigned long long>(c.expectId), static_cast<int>(text.size()),
                   text.data());
  }
  const uint64_t sent = c.sentAt[c.expectId % o_.window];
  ++c.expectId;
  const std::string_view op = field(text, "op");
  if (op == "published") {
    ++total_.published;
    if (measuring_) {
      ++w.published;
      const uint64_t ns = now - sent;
      latencyMaxNs_ = std::max(latencyMaxNs_, ns);
      ++latency_[std::min<uint64_t>(ns / 1000, kLatencyBuckets)];
    }
    return;
  }
  ++total_.errors;
  if (measuring_) ++w.errors;
  // Not an error answer at all (no "code"): counted as the op it named.
  std::string code(field(text, "code"));
  if (code.empty()) code = op.empty() ? "no op" : "op " + std::string(op);
  for (auto& [name, n] : errorCodes_) {
    if (name == code) {
      ++n;
      return;
    }
  }
  errorCodes_.emplace_back(code, 1);
  std::fprintf(stderr, "pubload: first %s answer: %.*s\n", code.c_str(),
               static_cast<int>(text.size()), text.data());
}

size_t PubLoad::onFrames(Conn& c, const char* data, size_t len, uint64_t now, size_t& freed) {
  size_t pos = 0;
  while (len - pos >= 2) {
    const auto* p = reinterpret_cast<const unsigned char*>(data + pos);
    const unsigned opcode = p[0] & 0x0F;
    if ((p[1] & 0x80) != 0) {
      lose(c, "masked frame from the server");
      return len;
    }
    uint64_t payloadLen = p[1] & 0x7F;
    size_t header = 2;
    if (payloadLen == 126) {
      if (len - pos < 4) break;
      payloadLen = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (payloadLen == 127) {
      if (len - pos < 10) break;
      payloadLen = 0;
      for (int i = 0; i < 8; ++i)
        payloadLen = (payloadLen << 8) | p[2 + i];
      header = 10;
    }
    if (len - pos - header < payloadLen) break;
    const std::string_view payload(data + pos + header, static_cast<size_t>(payloadLen));
    pos += header + static_cast<size_t>(payloadLen);
    if (opcode == 0x1) {
      onAnswer(c, payload, now);
      ++freed;
    } else if (opcode == 0x8) {
      unsigned code = payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) |
                                                static_cast<unsigned char>(payload[1])
                                          : 0;
      lose(c, "closed by the server, code " + std::to_string(code) + " " +
                  std::string(payload.size() > 2 ? payload.substr(2) : std::string_view()));
      return len;
    } else if (opcode == 0x9) {
      // Ping: a masked pong with the same payload, ahead of nothing (frames
      // are whole in `out`, so appending keeps them intact).
      const auto mask = static_cast<uint32_t>(nextRandom());
      const auto* m = reinterpret_cast<const unsigned char*>(&mask);
      c.out += static_cast<char>(0x8A);
      c.out += static_cast<char>(0x80 | payload.size());
      c.out.append(reinterpret_cast<const char*>(&mask), 4);
      for (size_t i = 0; i < payload.size(); ++i)
        c.out += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ m[i & 3]);
    }
    // Pongs and anything else: nothing to count.
  }
  return pos;
}

void PubLoad::onReadable(Conn& c) {
  const ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    lose(c, n == 0 ? "closed by the server" : std::string("recv: ") + std::strerror(errno));
    return;
  }
  const uint64_t now = nowNs();
  size_t freed = 0;
  const auto len = static_cast<size_t>(n);
  if (c.in.empty()) {
    const size_t used = onFrames(c, buffer_.data(), len, now, freed);
    if (c.open && used < len) c.in.assign(buffer_.data() + used, len - used);
  } else {
    c.in.append(buffer_.data(), len);
    const size_t used = onFrames(c, c.in.data(), c.in.size(), now, freed);
    if (c.open) c.in.erase(0, used);
  }
  if (!c.open) return;
  if (sending_ && freed > 0) appendFrames(c, freed, now);
  if (!c.out.empty() && !c.blocked) flush(c);
}

void PubLoad::run() {
  const uint64_t start = nowNs();
  for (Conn& c : conns_) {
    appendFrames(c, o_.window, start);
    flush(c);
    // Bytes that came with the 101 (none expected): answers already.
    if (!c.in.empty()) {
      size_t freed = 0;
      std::string early;
      early.swap(c.in);
      const size_t used = onFrames(c, early.data(), early.size(), start, freed);
      c.in = early.substr(used);
    }
  }
  const uint64_t measureFrom = start + static_cast<uint64_t>(o_.warmup * 1e9);
  const uint64_t measureTo = measureFrom + static_cast<uint64_t>(o_.duration * 1e9);
  std::vector<epoll_event> events(256);
  uint64_t began = 0;
  for (;;) {
    const uint64_t now = nowNs();
    if (!measuring_ && now >= measureFrom && began == 0) {
      measuring_ = true;
      began = now;
    }
    if (now >= measureTo) break;
    if (lost_ == conns_.size()) break;
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 5);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::perror("epoll_wait");
      break;
    }
    for (int i = 0; i < n; ++i) {
      Conn& c = conns_[events[i].data.u64];
      if (!c.open) continue;
      if ((events[i].events & EPOLLOUT) != 0 && c.blocked) flush(c);
      if (c.open && (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        onReadable(c);
    }
  }
  measuredS_ = began == 0 ? 0 : static_cast<double>(nowNs() - began) / 1e9;
  measuring_ = false;
  sending_ = false;
}

void PubLoad::report() const {
  uint64_t count = 0;
  for (uint64_t v : latency_)
    count += v;
  auto quantile = [&](double q) -> double {
    if (count == 0) return 0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(count - 1));
    uint64_t seen = 0;
    for (size_t i = 0; i < latency_.size(); ++i) {
      seen += latency_[i];
      if (seen > rank) return static_cast<double>(i);
    }
    return static_cast<double>(latency_.size() - 1);
  };
  std::string codes;
  for (const auto& [name, n] : errorCodes_)
    codes += (codes.empty() ? "\"" : ",\"") + name + "\":" + std::to_string(n);
  std::string lost;
  if (lost_ > 0) {
    std::string why = lostWhy_;
    for (char& ch : why)
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = '\'';
    lost = ",\"error\":\"" + std::to_string(lost_) + " connection(s) lost: " + why + "\"";
  }
  const double seconds = measuredS_ > 0 ? measuredS_ : 1;
  std::printf(
      "{\"connections\":%zu,\"window\":%zu,\"size\":%zu,\"duration_s\":%.3f,"
      "\"published\":%llu,\"error_answers\":%llu,\"out_of_order\":%llu,"
      "\"publications_per_s\":%.1f,\"answers_per_s\":%.1f,\"total_published\":%llu,"
      "\"total_error_answers\":%llu,\"error_codes\":{%s},"
      "\"latency_us\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%.0f},\"lost\":%zu%s}\n",
      o_.connections, o_.window, o_.size, measuredS_,
      static_cast<unsigned long long>(window_.published),
      static_cast<unsigned long long>(window_.errors),
      static_cast<unsigned long long>(total_.outOfOrder),
      static_cast<double>(window_.published) / seconds,
      static_cast<double>(window_.published + window_.errors) / seconds,
      static_cast<unsigned long long>(total_.published),
      static_cast<unsigned long long>(total_.errors), codes.c_str(), quantile(0.5), quantile(0.99),
      quantile(0.999), static_cast<double>(latencyMaxNs_) / 1000, lost_, lost.c_str());
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "pubload: %s\nusage: pubload --port ADMIN_PORT --token T [--host 127.0.0.1] "
               "[--path /api/v1/publish/ws] [--channel bench] [--connections 4] [--window 256] "
               "[--size 200] [--duration 10] [--warmup 1]\n",
               why);
  std::exit(2);
}

double number(const std::string& flag, const char* value, double min, double max) {
  char* end = nullptr;
  const double v = std::strtod(value, &end);
  if (*value == '\0' || *end != '\0' || !(v >= min && v <= max)) {
    const std::string why = flag + " must be a number from " + std::to_string(min) + " to " +
                            std::to_string(max) + ", not '" + value + "'";
    usage(why.c_str());
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage((flag + " needs a value").c_str());
    const char* value = argv[++i];
    if (flag == "--port") {
      o.port = static_cast<uint16_t>(number(flag, value, 1, 65535));
    } else if (flag == "--host") {
      o.host = value;
    } else if (flag == "--path") {
      o.path = value;
    } else if (flag == "--token") {
      o.token = value;
    } else if (flag == "--channel") {
      o.channel = value;
    } else if (flag == "--connections") {
      o.connections = static_cast<size_t>(number(flag, value, 1, 10000));
    } else if (flag == "--window") {
      o.window = static_cast<size_t>(number(flag, value, 1, 1'000'000));
    } else if (flag == "--size") {
      o.size = static_cast<size_t>(number(flag, value, 8, 16'000'000));
    } else if (flag == "--duration") {
      o.duration = number(flag, value, 0.1, 86400);
    } else if (flag == "--warmup") {
      o.warmup = number(flag, value, 0, 3600);
    } else {
      usage(("unknown option " + flag).c_str());
    }
  }
  if (o.port == 0) usage("--port (the router's admin port) is required");
  if (o.token.empty()) usage("--token (a publisher token) is required");
  std::signal(SIGPIPE, SIG_IGN);
  PubLoad load(o);
  if (!load.connectAll()) return 1;
  load.run();
  load.report();
  return 0;
}
