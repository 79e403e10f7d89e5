#include "net/Socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

namespace wsr::net {

PeerAddress PeerAddress::from(const sockaddr* address) {
  PeerAddress peer;
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(peer.bytes.data(), &in6->sin6_addr, 16);
    peer.port = ntohs(in6->sin6_port);
    peer.v6 = true;
  } else if (address->sa_family == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(address);
    std::memcpy(peer.bytes.data(), &in4->sin_addr, 4);
    peer.port = ntohs(in4->sin_port);
  }
  return peer;
}

std::string PeerAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

Fd listenTcp(const std::string& host, uint16_t port, int backlog, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    error =
        "listen address '" + host + "' is not a numeric IPv4 or IPv6 address: " + gai_strerror(rc);
    return Fd();
  }
  Fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  auto failWith = [&](const char* what) {
    error = std::string(what) + " " + host + ":" + service + ": " + std::strerror(errno);
    freeaddrinfo(found);
    return Fd();
  };
  if (!fd) return failWith("socket");
  int on = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    return failWith("SO_REUSEPORT on");
  }
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) return failWith("bind");
  if (::listen(fd.get(), backlog) != 0) return failWith("listen");
  freeaddrinfo(found);
  return fd;
}

uint16_t localPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return PeerAddress::from(reinterpret_cast<sockaddr*>(&address)).port;
}

Fd acceptConnection(int listenFd, PeerAddress& peer) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  Fd fd(accept4(listenFd, reinterpret_cast<sockaddr*>(&address), &length,
                SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!fd) return fd;
  // Frames are whole messages, coalesced by the send queue already: Nagle
  // would only add latency.
  int on = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  peer = PeerAddress::from(reinterpret_cast<sockaddr*>(&address));
  return fd;
}

}  // namespace wsr::net
