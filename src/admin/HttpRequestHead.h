#pragma once
// Reading an HTTP/1.x request head (RFC 9112): the request line and the
// header fields, up to the blank line. A pure function of the bytes, so every
// refusal is tested without a socket. The admin front (AdminConnection) reads
// the bytes and the body; this decides what they mean.
//
// What is supported is what publishers, Prometheus and the kubelet send:
// HTTP/1.1 and 1.0, keep-alive, bodies framed by Content-Length, and
// "Expect: 100-continue". Chunked bodies are refused with 411 (framing the
// request needs a length); compressed bodies with 415.

#include <httplib.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace wsr::admin {

// What became of a request's body by the time its handler runs.
enum class BodyState {
  Read,      // whole, in the request
  TooLarge,  // over the size limit: read and dropped, never stored
  Unwanted,  // no route would use it (no valid token, no such route): read and dropped
};

// Most header fields in one request; more answers 431.
inline constexpr size_t kMaxHeaderFields = 100;

struct RequestHead {
  // method, target, path (decoded), params, version, headers.
  httplib::Request request;
  size_t contentLength = 0;
  bool keepAlive = true;        // the connection may carry another request after this one
  bool expectContinue = false;  // the client waits for "100 Continue" before the body
  bool http10 = false;

  // Not 0: the request is refused with this status and message.
  int refuseStatus = 0;
  std::string refuseMessage;
  // The refusal cannot keep the connection in step (no trustworthy framing):
  // answer at once, without reading a body, and close.
  bool refuseAndClose = false;

  bool refused() const { return refuseStatus != 0; }
};

// Whether a comma-separated header value (Connection: keep-alive, Upgrade)
// has `item`, compared case-insensitively.
bool headerListHas(std::string_view list, std::string_view item);

// `head`: the bytes before the blank line ("\r\n\r\n") that ends the head.
RequestHead parseRequestHead(std::string_view head);

}  // namespace wsr::admin
