#pragma once
// A WebSocket client for the hub's tests: a plain TCP socket to 127.0.0.1
// that does the RFC 6455 client handshake, sends masked frames and reads the
// server's frames with a deadline. Every failure (timeout, EOF, a refusal, a
// frame it did not expect) throws std::runtime_error naming what happened;
// GoogleTest reports it as the test's failure.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../ws/WsTestUtil.h"

namespace wsr::hub::test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How long any single wait may take before the test fails (normally a few ms).
inline constexpr std::chrono::milliseconds kTimeout{5000};

struct Frame {
  uint8_t opcode = 0;
  std::string payload;
};

class WsClient {
 public:
  // Connects to 127.0.0.1:port and sends the upgrade request for `path`.
  // rcvbuf > 0 sets SO_RCVBUF before connecting (a small TCP window: a
  // client that stops reading soon blocks the server's writes).
  WsClient(uint16_t port, const std::string& path = "/ws", int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket()");
    if (rcvbuf > 0 && ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
      fail("setsockopt(SO_RCVBUF)");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      fail("connect()");
    }
    writeAll("GET " + path +
             " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const auto deadline = Clock::now() + kTimeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!readSome(deadline)) break;
    }
    if (end == std::string::npos) {
      throw std::runtime_error("no complete upgrade answer: '" + buffer_ + "'");
    }
    response_ = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    status_ = response_.size() > 12 ? std::atoi(response_.c_str() + 9) : 0;
  }
  ~WsClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // The HTTP answer to the upgrade: 101, or a refusal (its body follows in body()).
  int status() const { return status_; }
  const std::string& response() const { return response_; }
  // A refusal's body, read until the server ends the connection.
  std::string body() {
    const auto deadline = Clock::now() + kTimeout;
    while (readSome(deadline)) {
    }
    return buffer_;
  }
  void expectUpgraded() const {
    if (status_ != 101 ||
        response_.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) {
      throw std::runtime_error("upgrade refused or malformed: '" + response_ + "'");
    }
  }

  int fd() const { return fd_; }
  uint16_t localPort() const {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
  }

  void sendText(std::string_view text) { writeAll(ws::test::clientFrame(0x81, text)); }
  void sendBinary(std::string_view data) { writeAll(ws::test::clientFrame(0x82, data)); }
  void sendJson(const json& message) { sendText(message.dump()); }
  void sendClose(uint16_t code) {
    const std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
    writeAll(ws::test::clientFrame(0x88, payload));
  }

  // The next frame (server frames are unmasked and, here, never compressed).
  Frame recvFrame(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      Frame frame;
      if (takeFrame(frame)) return frame;
      if (!readSome(deadline)) {
        throw std::runtime_error(eof_ ? "connection ended by the server"
                                      : "no frame within the timeout");
      }
    }
  }

  // The next message, which must be a JSON text message.
  json recvJson(std::chrono::milliseconds timeout = kTimeout) {
    Frame frame = recvFrame(timeout);
    if (frame.opcode == 0x8) {
      throw std::runtime_error("close frame (code " + std::to_string(closeCode(frame)) +
                               ") where a message was expected");
    }
    if (frame.opcode != 0x1) {
      throw std::runtime_error("frame with opcode " + std::to_string(frame.opcode) +
                               " where a text message was expected");
    }
    json message = json::parse(frame.payload, nullptr, false);
    if (message.is_discarded()) throw std::runtime_error("not JSON: " + frame.payload);
    return message;
  }

  // The next message, which must have this type.
  json expect(std::string_view type, std::chrono::milliseconds timeout = kTimeout) {
    json message = recvJson(timeout);
    if (message.value("type", "") != type) {
      throw std::runtime_error("expected a '" + std::string(type) + "' message, got " +
                               message.dump().substr(0, 300));
    }
    return message;
  }

  // True when the server ended the TCP connection before the deadline;
  // anything it sent first is skipped.
  bool waitEof(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    while (readSome(deadline)) {
      buffer_.clear();
    }
    return eof_;
  }

  static uint16_t closeCode(const Frame& frame) {
    if (frame.payload.size() < 2) return 1005;
    return static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                                 static_cast<uint8_t>(frame.payload[1]));
  }

 private:
  [[noreturn]] static void fail(const char* what) {
    throw std::runtime_error(std::string(what) + " failed: " + std::strerror(errno));
  }

  void writeAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("send()");
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads what is there, waiting until the deadline; false on timeout or EOF.
  bool readSome(Clock::time_point deadline) {
    if (eof_) return false;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) fail("poll()");
      if (ready == 0) return false;
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        eof_ = true;  // EOF, or a reset: either way nothing more comes
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  // One complete frame from the buffer, if there is one.
  bool takeFrame(Frame& frame) {
    if (buffer_.size() < 2) return false;
    const auto* b = reinterpret_cast<const uint8_t*>(buffer_.data());
    if ((b[0] & 0x70) != 0 || (b[1] & 0x80) != 0 || (b[0] & 0x80) == 0) {
      throw std::runtime_error("unexpected frame header (reserved bits, mask or fragment)");
    }
    uint64_t length = b[1] & 0x7f;
    size_t header = 2;
    if (length == 126) {
      if (buffer_.size() < 4) return false;
      length = (uint64_t{b[2]} << 8) | b[3];
      header = 4;
    } else if (length == 127) {
      if (buffer_.size() < 10) return false;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | b[2 + i];
      header = 10;
    }
    if (buffer_.size() < header + length) return false;
    frame.opcode = b[0] & 0x0f;
    frame.payload = buffer_.substr(header, length);
    buffer_.erase(0, header + length);
    return true;
  }

  int fd_ = -1;
  int status_ = 0;
  bool eof_ = false;
  std::string response_;
  std::string buffer_;
};

// Reads one client's messages on its own thread until done(message) says
// so, or a read fails (finish() then throws what failed).
class Reader {
 public:
  Reader(WsClient& client, std::function<bool(const json&)> done)
      : client_(client), thread_([this, done = std::move(done)] {
          try {
            while (true) {
              messages_.push_back(client_.recvJson());
              if (done(messages_.back())) return;
            }
          } catch (const std::exception& e) {
            error_ = e.what();
          }
        }) {}
  ~Reader() {
    if (thread_.joinable()) {
      ::shutdown(client_.fd(), SHUT_RDWR);  // a test that failed early: stop waiting
      thread_.join();
    }
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  std::vector<json> finish() {
    thread_.join();
    if (!error_.empty()) {
      throw std::runtime_error("reader: " + error_ + " after " + std::to_string(messages_.size()) +
                               " messages");
    }
    return messages_;
  }

 private:
  WsClient& client_;
  std::vector<json> messages_;
  std::string error_;
  std::thread thread_;  // last: starts once the rest is built
};

// The file descriptor, in this process, of the server's end of the TCP
// connection from 127.0.0.1:clientPort to serverPort; -1 when none.
inline int serverSideFd(uint16_t serverPort, uint16_t clientPort) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    sockaddr_in local{};
    sockaddr_in peer{};
    socklen_t localLength = sizeof local;
    socklen_t peerLength = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &localLength) != 0) continue;
    if (local.sin_family != AF_INET || ntohs(local.sin_port) != serverPort) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peerLength) != 0) continue;
    if (ntohs(peer.sin_port) == clientPort) found = fd;
  }
  ::closedir(dir);
  return found;
}

// Polls `condition` until it holds or the deadline passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = kTimeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace wsr::hub::test
