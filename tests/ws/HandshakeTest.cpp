#include "ws/Handshake.h"

#include "text/HttpStatus.h"

#include <gtest/gtest.h>

#include <string>

namespace wsr::ws {
namespace {

constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

std::string request(const std::string& requestLine, const std::vector<std::string>& headers) {
  std::string out = requestLine + "\r\n";
  for (const auto& h : headers)
    out += h + "\r\n";
  return out + "\r\n";
}

std::vector<std::string> validHeaders() {
  return {"Host: server.example.com",   "Upgrade: websocket",
          "Connection: Upgrade",        std::string("Sec-WebSocket-Key: ") + kKey,
          "Origin: http://example.com", "Sec-WebSocket-Version: 13"};
}

std::vector<std::string> without(std::vector<std::string> headers, const std::string& prefix) {
  std::erase_if(headers, [&](const std::string& h) { return h.rfind(prefix, 0) == 0; });
  return headers;
}

std::vector<std::string> with(std::vector<std::string> headers, const std::string& prefix,
                              const std::string& replacement) {
  headers = without(std::move(headers), prefix);
  headers.push_back(replacement);
  return headers;
}

struct Outcome {
  bool ok;
  HandshakeError error;
};

Outcome parse(const std::string& head) {
  HandshakeRequest req;
  HandshakeError error;
  const bool ok = parseHandshake(head, req, error);
  return {ok, error};
}

void expectRejected(const std::string& head, int status, const std::string& messagePart) {
  Outcome o = parse(head);
  EXPECT_FALSE(o.ok) << head;
  EXPECT_EQ(o.error.status, status) << head;
  EXPECT_NE(o.error.message.find(messagePart), std::string::npos)
      << "message was: " << o.error.message;
}

TEST(HandshakeTest, AcceptKeyMatchesRfc6455Example) {
  // RFC 6455 section 1.3 (and 4.2.2).
  EXPECT_EQ(computeAcceptKey(kKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HandshakeTest, ParsesAValidRequest) {
  const std::string head = request("GET /ws/market?token=abc&x=1 HTTP/1.1",
                                   with(validHeaders(), "Origin", "Authorization:   Bearer t0k  "));
  HandshakeRequest req;
  HandshakeError error;
  ASSERT_TRUE(parseHandshake(head, req, error)) << error.message;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/ws/market?token=abc&x=1");
  EXPECT_EQ(req.path, "/ws/market");
  EXPECT_EQ(req.query, "token=abc&x=1");
  EXPECT_EQ(req.host, "server.example.com");
  EXPECT_EQ(req.key, kKey);
  EXPECT_EQ(req.origin, "");
  EXPECT_EQ(req.authorization, "Bearer t0k");  // trimmed of surrounding spaces
  ASSERT_EQ(req.headers.size(), 6u);
  EXPECT_EQ(req.headers[0].first, "Host");
  EXPECT_EQ(req.headers[5].first, "Authorization");
  EXPECT_EQ(req.header("sec-websocket-version"), "13");
  EXPECT_EQ(req.header("X-Absent"), "");
}

TEST(HandshakeTest, PathWithoutQuery) {
  const std::string head = request("GET /ws HTTP/1.1", validHeaders());
  HandshakeRequest req;
  HandshakeError error;
  ASSERT_TRUE(parseHandshake(head, req, error));
  EXPECT_EQ(req.path, "/ws");
  EXPECT_EQ(req.query, "");
  EXPECT_EQ(req.origin, "http://example.com");
}

TEST(HandshakeTest, HeaderNamesAndTokensAreCaseInsensitive) {
  const std::string head = request(
      "GET /ws HTTP/1.1", {"host: a", "UPGRADE: WebSocket", "connection: keep-alive, UPGRADE",
                           std::string("sec-websocket-key: ") + kKey, "SEC-WEBSOCKET-VERSION: 13"});
  EXPECT_TRUE(parse(head).ok) << parse(head).error.message;
}

TEST(HandshakeTest, ConnectionListWithUpgradeAccepted) {
  EXPECT_TRUE(parse(request("GET / HTTP/1.1",
                            with(validHeaders(), "Connection", "Connection: keep-alive, Upgrade")))
                  .ok);
}

TEST(HandshakeTest, RefusesPost) {
  expectRejected(request("POST /ws HTTP/1.1", validHeaders()), 400, "GET");
}

TEST(HandshakeTest, RefusesHttp10) {
  expectRejected(request("GET /ws HTTP/1.0", validHeaders()), 400, "HTTP/1.1");
}

TEST(HandshakeTest, RefusesMalformedRequestLines) {
  expectRejected(request("GET  /ws HTTP/1.1", validHeaders()), 400, "request line");
  expectRejected(request("GET /ws", validHeaders()), 400, "request line");
  expectRejected(request("GET /ws HTTP/1.1 x", validHeaders()), 400, "request line");
  expectRejected(request("GET http://a/ws HTTP/1.1", validHeaders()), 400, "target");
  expectRejected(request("GET /w\x01s HTTP/1.1", validHeaders()), 400, "target");
}

TEST(HandshakeTest, RefusesMissingHost) {
  expectRejected(request("GET /ws HTTP/1.1", without(validHeaders(), "Host")), 400, "Host");
}

TEST(HandshakeTest, RefusesTwoHosts) {
  auto headers = validHeaders();
  headers.push_back("Host: other");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "Host");
}

TEST(HandshakeTest, RefusesTwoAuthorizations) {
  auto headers = validHeaders();
  headers.push_back("Authorization: Bearer token-A");
  EXPECT_TRUE(parse(request("GET /ws HTTP/1.1", headers)).ok);
  headers.push_back("authorization: Bearer token-B");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "more than one Authorization");
  // Even when both carry the same credential.
  headers.back() = "Authorization: Bearer token-A";
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "Authorization");
}

TEST(HandshakeTest, RefusesUpgradeWithoutWebsocket) {
  expectRejected(request("GET /ws HTTP/1.1", with(validHeaders(), "Upgrade", "Upgrade: h2c")), 400,
                 "Upgrade");
  expectRejected(request("GET /ws HTTP/1.1", without(validHeaders(), "Upgrade")), 400, "Upgrade");
}

TEST(HandshakeTest, RefusesConnectionWithoutUpgradeToken) {
  expectRejected(
      request("GET /ws HTTP/1.1", with(validHeaders(), "Connection", "Connection: keep-alive")),
      400, "Connection");
  // "upgrade" must be a whole token, not a substring.
  expectRejected(
      request("GET /ws HTTP/1.1", with(validHeaders(), "Connection", "Connection: upgraded")), 400,
      "Connection");
}

TEST(HandshakeTest, RefusesBadKeys) {
  const auto bad = [](const std::string& key) {
    return request("GET /ws HTTP/1.1",
                   with(validHeaders(), "Sec-WebSocket-Key", "Sec-WebSocket-Key: " + key));
  };
  expectRejected(bad("dGhlIHNhbXBsZSBub25jZQ"), 400, "Sec-WebSocket-Key");  // 22 chars
  expectRejected(bad("dGhlIHNhbXBsZSBub25jZQ=="
                     "AAAA"),
                 400, "Sec-WebSocket-Key");                                   // too long
  expectRejected(bad("dGhlIHNhbXBsZSBub25j*Q=="), 400, "Sec-WebSocket-Key");  // not base64
  expectRejected(bad("dGhlIHNhbXBsZSBub25jZQA="), 400, "Sec-WebSocket-Key");  // 17 bytes
  expectRejected(bad("dGhlIHNhbXBsZSBub25jZQAA"), 400, "Sec-WebSocket-Key");  // 18 bytes
  expectRejected(bad("dGhlIHNhbXBsZSBub2 jZQ=="), 400, "Sec-WebSocket-Key");  // space
  expectRejected(request("GET /ws HTTP/1.1", without(validHeaders(), "Sec-WebSocket-Key")), 400,
                 "missing Sec-WebSocket-Key");
  auto twice = validHeaders();
  twice.push_back("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==");
  expectRejected(request("GET /ws HTTP/1.1", twice), 400, "Sec-WebSocket-Key");
  // Any 16 bytes are fine.
  EXPECT_TRUE(parse(bad("AQIDBAUGBwgJCgsMDQ4PEA==")).ok);
}

TEST(HandshakeTest, RefusesOtherVersionsWith426) {
  expectRejected(request("GET /ws HTTP/1.1", with(validHeaders(), "Sec-WebSocket-Version",
                                                  "Sec-WebSocket-Version: 12")),
                 426, "Sec-WebSocket-Version");
  expectRejected(request("GET /ws HTTP/1.1", without(validHeaders(), "Sec-WebSocket-Version")), 426,
                 "missing Sec-WebSocket-Version");
}

TEST(HandshakeTest, RefusesMalformedHeaderLines) {
  auto headers = validHeaders();
  headers.push_back("NoColonHere");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "colon");

  headers = validHeaders();
  headers.push_back("X-Long: part one");
  headers.push_back(" part two");  // obs-fold
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "folding");

  headers = validHeaders();
  headers.push_back("X-Space : v");  // space before the colon
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "header name");

  headers = validHeaders();
  headers.push_back(": empty name");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "header name");

  headers = validHeaders();
  headers.push_back(std::string("X-Nul: a\0b", 10));
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "NUL");

  headers = validHeaders();
  headers.push_back("X-Cr: a\rb");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "CR");

  headers = validHeaders();
  headers.push_back("X-Ctl: a\x01z");
  expectRejected(request("GET /ws HTTP/1.1", headers), 400, "header value");
}

TEST(HandshakeTest, RefusesBareLfLines) {
  std::string head = request("GET /ws HTTP/1.1", validHeaders());
  std::string lfOnly;
  for (char c : head) {
    if (c != '\r') lfOnly += c;
  }
  ASSERT_EQ(findRequestHeadEnd(lfOnly), lfOnly.size());
  expectRejected(lfOnly, 400, "CRLF");
  // One bare LF in the middle.
  std::string mixed = head;
  mixed.erase(mixed.find("\r\nUpgrade"), 1);
  expectRejected(mixed, 400, "CRLF");
}

TEST(HandshakeTest, FindsTheEndOfTheHead) {
  EXPECT_EQ(findRequestHeadEnd(""), 0u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n"), 0u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\nHost: a\n\nrest"), 24u);
  EXPECT_EQ(findRequestHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n\n"), 26u);
}

TEST(HandshakeTest, HeaderTokensSplitsAndTrims) {
  const std::string head = request(
      "GET /ws HTTP/1.1",
      {"Host: a", "Upgrade: websocket", "Connection: Upgrade",
       std::string("Sec-WebSocket-Key: ") + kKey, "Sec-WebSocket-Version: 13",
       "Sec-WebSocket-Protocol: wsrouter.v1 ,\tbearer.abc,, ,", "sec-websocket-protocol: third",
       "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-webkit"});
  HandshakeRequest req;
  HandshakeError error;
  ASSERT_TRUE(parseHandshake(head, req, error)) << error.message;
  const auto protocols = req.headerTokens("Sec-WebSocket-Protocol");
  ASSERT_EQ(protocols.size(), 3u);
  EXPECT_EQ(protocols[0], "wsrouter.v1");
  EXPECT_EQ(protocols[1], "bearer.abc");
  EXPECT_EQ(protocols[2], "third");
  const auto extensions = req.headerTokens("sec-websocket-extensions");
  ASSERT_EQ(extensions.size(), 2u);
  EXPECT_EQ(extensions[0], "permessage-deflate; client_max_window_bits");
  EXPECT_EQ(extensions[1], "x-webkit");
  EXPECT_TRUE(req.headerTokens("X-None").empty());
}

TEST(HandshakeTest, UpgradeResponseIsExact) {
  EXPECT_EQ(buildUpgradeResponse(kKey, "", ""),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  EXPECT_EQ(buildUpgradeResponse(kKey, "wsrouter.v1", "permessage-deflate"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: wsrouter.v1\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            "\r\n");
}

TEST(HandshakeTest, ErrorResponseIsExact) {
  const std::string body = R"({"error":{"code":"BAD_HANDSHAKE","message":"missing Host"}})";
  EXPECT_EQ(buildErrorResponse(400, "BAD_HANDSHAKE", "missing Host"),
            "HTTP/1.1 400 Bad Request\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "Connection: close\r\n"
                "\r\n" +
                body);
}

TEST(HandshakeTest, ErrorResponseCarriesExtraHeadersAndVersionOn426) {
  const std::string r = buildErrorResponse(429, "RATE_LIMITED", "slow down", {"Retry-After: 5"});
  EXPECT_EQ(r.rfind("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\n", 0), 0u);
  EXPECT_EQ(r.find("Sec-WebSocket-Version"), std::string::npos);
  const std::string v = buildErrorResponse(426, "BAD_HANDSHAKE", "unsupported version");
  EXPECT_EQ(v.rfind("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n", 0), 0u);
}

TEST(HandshakeTest, ErrorResponseEscapesJson) {
  const std::string r =
      buildErrorResponse(400, "BAD_HANDSHAKE", std::string("a\"b\\c\nd\x01\x1f\xc3\xa9", 11));
  const std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(body,
            "{\"error\":{\"code\":\"BAD_HANDSHAKE\",\"message\":"
            "\"a\\\"b\\\\c\\nd\\u0001\\u001f\xc3\xa9\"}}");
  const size_t lengthAt = r.find("Content-Length: ") + 16;
  EXPECT_EQ(std::stoul(r.substr(lengthAt)), body.size());
  // Not UTF-8: U+FFFD (text/JsonString.h), so the body stays valid JSON.
  const std::string latin = buildErrorResponse(400, "X", "caf\xe9");
  EXPECT_NE(latin.find("\"caf\xef\xbf\xbd\""), std::string::npos) << latin;
}

TEST(HandshakeTest, ReasonPhrases) {
  EXPECT_EQ(text::reasonPhrase(400), "Bad Request");
  EXPECT_EQ(text::reasonPhrase(401), "Unauthorized");
  EXPECT_EQ(text::reasonPhrase(403), "Forbidden");
  EXPECT_EQ(text::reasonPhrase(404), "Not Found");
  EXPECT_EQ(text::reasonPhrase(426), "Upgrade Required");
  EXPECT_EQ(text::reasonPhrase(429), "Too Many Requests");
  EXPECT_EQ(text::reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(text::reasonPhrase(503), "Service Unavailable");
}

}  // namespace
}  // namespace wsr::ws
