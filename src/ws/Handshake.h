#pragma once
// RFC 6455 section 4.2: the server side of the opening handshake. Parsing
// works on one complete request head (everything up to and including the
// blank line); the connection buffers bytes until findRequestHeadEnd() finds
// that end, and answers 431 itself when the head outgrows its limit.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::ws {

struct HandshakeRequest {
  // Views into the request head the caller passed to parseHandshake(): valid
  // while that buffer is.
  std::string_view method;
  std::string_view target;  // as sent: "/ws/market?token=abc"
  std::string_view path;    // target before '?': "/ws/market"
  std::string_view query;   // target after '?', without it: "token=abc" (may be empty)
  std::string_view host;
  std::string_view key;            // Sec-WebSocket-Key, validated: base64 of 16 bytes
  std::string_view origin;         // empty when absent
  std::string_view authorization;  // empty when absent
  // Every header line, in order, names as sent (compare case-insensitively).
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  // The first header of that name (ASCII case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  // Every value of a header that may repeat or be a comma list
  // (Sec-WebSocket-Protocol, Sec-WebSocket-Extensions), split on commas,
  // trimmed of spaces and tabs, empty elements skipped.
  std::vector<std::string_view> headerTokens(std::string_view name) const;
};

struct HandshakeError {
  int status = 400;     // 400 bad request, 426 wrong version
  std::string message;  // names what was wrong: "missing Sec-WebSocket-Key"
};

// The length of the request head including the final CRLFCRLF, or 0 when the
// blank line has not arrived yet. A bare LF LF also ends a head (then parsing
// rejects it: RFC 7230 lines end in CRLF).
size_t findRequestHeadEnd(std::string_view buffered);

// Validates a complete head: request line "GET <target> HTTP/1.1" (origin-form
// target starting with '/'), well-formed header lines (name is a token, no
// obs-fold, no NUL or bare CR), Host present, Upgrade containing the token
// "websocket" and Connection containing the token "upgrade" (both
// case-insensitive, comma lists allowed), Sec-WebSocket-Key present once and
// decoding to exactly 16 bytes, Sec-WebSocket-Version "13" (other or missing:
// status 426), Authorization at most once (400). Returns false and fills
// `error` on the first violation.
bool parseHandshake(std::string_view head, HandshakeRequest& request, HandshakeError& error);

// Validates a complete head as a plain HTTP request, one that may be answered
// without an upgrade: request line "GET|HEAD <target> HTTP/1.1", well-formed
// header lines (as above) and exactly one Host. Fills method, target, path,
// query, host and headers; key, origin and authorization stay empty.
bool parsePlainRequest(std::string_view head, HandshakeRequest& request, HandshakeError& error);

// Whether a parsed request asks for a WebSocket at all (it has an Upgrade or
// a Sec-WebSocket-Key header): such a request that fails parseHandshake() is
// a broken upgrade, answered 400 or 426, never a plain request.
bool asksForUpgrade(const HandshakeRequest& request);

// A complete answer to a plain HTTP request (WebSocketHandler::onHttpRequest).
struct HttpResponse {
  int status = 200;
  std::vector<std::string> headers;  // header lines without CRLF: "Content-Type: text/html"
  std::string body;
};

// The bytes of `response`: status line, its header lines, Content-Length
// (except for 204 and 304, which have no body), Connection: close, the blank
// line, and the body unless `headOnly` (the answer to a HEAD keeps the
// Content-Length of the GET's body).
std::string buildHttpResponse(const HttpResponse& response, bool headOnly);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string computeAcceptKey(std::string_view key);

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection,
// Sec-WebSocket-Accept, and Sec-WebSocket-Protocol / Sec-WebSocket-Extensions
// when the arguments are not empty.
std::string buildUpgradeResponse(std::string_view key, std::string_view protocol,
                                 std::string_view extensions);

// A complete plain HTTP answer that refuses the upgrade: status line, the
// extra header lines given (each without CRLF, for example "Retry-After: 5"),
// Content-Type: application/json, Content-Length, Connection: close, and a
// JSON body {"error":{"code":"<code>","message":"<message>"}} escaped by
// text::appendJsonString (invalid UTF-8 becomes U+FFFD). A 426 also carries
// "Sec-WebSocket-Version: 13".
std::string buildErrorResponse(int status, std::string_view code, std::string_view message,
                               const std::vector<std::string>& extraHeaders = {});

}  // namespace wsr::ws
