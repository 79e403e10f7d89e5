#pragma once
// Raw loopback HTTP for the admin server's tests: what a well-behaved client
// library would hide (dribbling, pipelining, framing refusals).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "net/Fd.h"

namespace wsr::admin::test {

// A blocking loopback socket whose reads give up after `timeout`.
inline net::Fd connectTo(uint16_t port, std::chrono::milliseconds timeout) {
  net::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

inline bool sendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Everything the server sends until it closes (or the read timeout).
// `closed`: whether it did close.
inline std::string readToEnd(int fd, bool& closed) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
      continue;
    }
    closed = n == 0 || errno == ECONNRESET;
    return text;
  }
}

// Reads until `count` answers have arrived whole (Content-Length framed).
inline std::vector<std::string> readAnswers(int fd, size_t count) {
  std::vector<std::string> answers;
  std::string text;
  char buffer[4096];
  while (answers.size() < count) {
    const size_t headEnd = text.find("\r\n\r\n");
    if (headEnd != std::string::npos) {
      const size_t at = text.find("Content-Length: ");
      const size_t length = at < headEnd ? std::stoul(text.substr(at + 16)) : 0;
      if (text.size() >= headEnd + 4 + length) {
        answers.push_back(text.substr(0, headEnd + 4 + length));
        text.erase(0, headEnd + 4 + length);
        continue;
      }
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return answers;
}

}  // namespace wsr::admin::test
