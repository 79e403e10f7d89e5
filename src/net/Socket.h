#pragma once
// TCP socket plumbing: listening sockets shared by every worker through
// SO_REUSEPORT, accepting, and the peer's address in a compact form.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "net/Fd.h"

namespace wsr::net {

// An IPv4 or IPv6 address and port, 20 bytes instead of a sockaddr_storage's 128.
struct PeerAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;
  bool v6 = false;

  static PeerAddress from(const sockaddr* address);
  std::string ip() const;  // "127.0.0.1", "::1"
  bool operator==(const PeerAddress&) const = default;
};

// A non-blocking listening socket on host:port with SO_REUSEADDR and
// SO_REUSEPORT, so each worker can open its own on the same port and the
// kernel spreads connections between them. Port 0 picks a free port. On
// failure returns an invalid Fd and sets `error` to what failed and why.
Fd listenTcp(const std::string& host, uint16_t port, int backlog, std::string& error);

// The port a bound socket got.
uint16_t localPort(int fd);

// Accepts one pending connection as a non-blocking, close-on-exec socket with
// TCP_NODELAY. Invalid Fd with errno set when none is pending (EAGAIN) or on error.
Fd acceptConnection(int listenFd, PeerAddress& peer);

}  // namespace wsr::net
