#include "ws/Handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>

#include "text/HttpStatus.h"
#include "text/JsonString.h"

namespace wsr::ws {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char asciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && isOws(s.back()))
    s.remove_suffix(1);
  return s;
}

// RFC 7230 3.2.6 tchar.
bool isTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// field-content: visible characters, obs-text, spaces and tabs. Any other
// control character (NUL, bare CR, DEL...) is refused outright rather than
// passed on to code that may treat it as a terminator.
bool isValidFieldValue(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

bool isValidTarget(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

bool isBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A Sec-WebSocket-Key is base64 of exactly 16 bytes: 22 alphabet characters
// and "==". EVP_DecodeBlock then confirms; it reports whole 3-byte groups, so
// the real length is its result minus the padding.
bool isValidKey(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!isBase64Char(key[i])) return false;
  }
  std::array<unsigned char, 18> decoded{};
  int n = EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<int>(key.size()));
  const int padding = (key[22] == '=') + (key[23] == '=');
  return n - padding == 16;
}

bool fail(HandshakeError& error, int status, const char* message) {
  error.status = status;
  error.message = message;
  return false;
}

bool hasToken(const HandshakeRequest& request, std::string_view header, std::string_view token) {
  for (std::string_view t : request.headerTokens(header)) {
    if (equalsIgnoreCase(t, token)) return true;
  }
  return false;
}

size_t countHeader(const HandshakeRequest& request, std::string_view name) {
  size_t n = 0;
  for (const auto& [k, v] : request.headers)
    n += equalsIgnoreCase(k, name) ? 1 : 0;
  return n;
}

// Upgrades are GET only (RFC 6455 4.1); a plain request may also be a HEAD.
enum class Methods { GetOnly, GetOrHead };

bool parseRequestLine(std::string_view line, HandshakeRequest& request, HandshakeError& error,
                      Methods methods) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(error, 400, "malformed request line");
  }
  request.method = line.substr(0, sp1);
  request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (request.method != "GET" && (methods == Methods::GetOnly || request.method != "HEAD")) {
    return fail(error, 400,
                methods == Methods::GetOnly ? "method must be GET" : "method must be GET or HEAD");
  }
  if (version != "HTTP/1.1") return fail(error, 400, "HTTP version must be HTTP/1.1");
  if (!isValidTarget(request.target)) return fail(error, 400, "invalid request target");
  size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  request.query = q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1);
  return true;
}

bool parseHeaderLine(std::string_view line, HandshakeRequest& request, HandshakeError& error) {
  if (isOws(line.front())) return fail(error, 400, "obsolete line folding in header");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(error, 400, "header line without colon");
  std::string_view name = line.substr(0, colon);
  // RFC 7230 3.2.4: whitespace before the colon must be refused.
  if (!isToken(name)) return fail(error, 400, "invalid header name");
  std::string_view value = trimOws(line.substr(colon + 1));
  if (!isValidFieldValue(value)) return fail(error, 400, "invalid character in header value");
  request.headers.emplace_back(name, value);
  return true;
}

bool parseLines(std::string_view head, HandshakeRequest& request, HandshakeError& error,
                Methods methods) {
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") {
    return fail(error, 400, "request head must end with CRLF CRLF");
  }
  if (head.find('\0') != std::string_view::npos) return fail(error, 400, "NUL in request head");
  std::string_view rest = head.substr(0, head.size() - 2);  // keep the last line's CRLF
  bool first = true;
  while (!rest.empty()) {
    size_t lf = rest.find('\n');
    if (lf == 0 || rest[lf - 1] != '\r') return fail(error, 400, "line not ended by CRLF");
    std::string_view line = rest.substr(0, lf - 1);
    rest.remove_prefix(lf + 1);
    if (line.find('\r') != std::string_view::npos) return fail(error, 400, "bare CR in request");
    if (first) {
      if (!parseRequestLine(line, request, error, methods)) return false;
      first = false;
    } else if (line.empty()) {
      return fail(error, 400, "empty header line");
    } else if (!parseHeaderLine(line, request, error)) {
      return false;
    }
  }
  return true;
}

bool checkHost(HandshakeRequest& request, HandshakeError& error) {
  size_t hosts = countHeader(request, "Host");
  if (hosts == 0) return fail(error, 400, "missing Host");
  if (hosts > 1) return fail(error, 400, "more than one Host");
  request.host = request.header("Host");
  return true;
}

bool checkUpgradeHeaders(HandshakeRequest& request, HandshakeError& error) {
  if (!checkHost(request, error)) return false;
  if (!hasToken(request, "Upgrade", "websocket")) {
    return fail(error, 400, "Upgrade header must contain websocket");
  }
  if (!hasToken(request, "Connection", "upgrade")) {
    return fail(error, 400, "Connection header must contain upgrade");
  }
  size_t keys = countHeader(request, "Sec-WebSocket-Key");
  if (keys == 0) return fail(error, 400, "missing Sec-WebSocket-Key");
  if (keys > 1) return fail(error, 400, "more than one Sec-WebSocket-Key");
  request.key = request.header("Sec-WebSocket-Key");
  if (!isValidKey(request.key)) return fail(error, 400, "invalid Sec-WebSocket-Key");
  if (countHeader(request, "Sec-WebSocket-Version") == 0) {
    return fail(error, 426, "missing Sec-WebSocket-Version");
  }
  if (request.header("Sec-WebSocket-Version") != "13") {
    return fail(error, 426, "unsupported Sec-WebSocket-Version");
  }
  request.origin = request.header("Origin");
  // Two credentials are ambiguous: an application reading the first and a
  // proxy or log reading the last would disagree on who this is.
  if (countHeader(request, "Authorization") > 1)
    return fail(error, 400, "more than one Authorization");
  request.authorization = request.header("Authorization");
  return true;
}

}  // namespace

size_t findRequestHeadEnd(std::string_view buffered) {
  size_t from = 0;
  while (true) {
    const void* hit = std::memchr(buffered.data() + from, '\n', buffered.size() - from);
    if (hit == nullptr) return 0;
    size_t lf = static_cast<const char*>(hit) - buffered.data();
    if (lf + 1 < buffered.size() && buffered[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < buffered.size() && buffered[lf + 1] == '\r' && buffered[lf + 2] == '\n') {
      return lf + 3;
    }
    from = lf + 1;
  }
}

std::string_view HandshakeRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (equalsIgnoreCase(k, name)) return v;
  }
  return {};
}

std::vector<std::string_view> HandshakeRequest::headerTokens(std::string_view name) const {
  std::vector<std::string_view> tokens;
  for (const auto& [k, v] : headers) {
    if (!equalsIgnoreCase(k, name)) continue;
    std::string_view rest = v;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view token = trimOws(rest.substr(0, comma));
      if (!token.empty()) tokens.push_back(token);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return tokens;
}

bool parseHandshake(std::string_view head, HandshakeRequest& request, HandshakeError& error) {
  request = HandshakeRequest{};
  request.headers.reserve(16);
  return parseLines(head, request, error, Methods::GetOnly) && checkUpgradeHeaders(request, error);
}

bool parsePlainRequest(std::string_view head, HandshakeRequest& request, HandshakeError& error) {
  request = HandshakeRequest{};
  request.headers.reserve(16);
  return parseLines(head, request, error, Methods::GetOrHead) && checkHost(request, error);
}

bool asksForUpgrade(const HandshakeRequest& request) {
  return countHeader(request, "Upgrade") > 0 || countHeader(request, "Sec-WebSocket-Key") > 0;
}

std::string buildHttpResponse(const HttpResponse& response, bool headOnly) {
  const bool bodyless = response.status == 204 || response.status == 304;
  std::string out = "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += text::reasonPhrase(response.status);
  out += "\r\n";
  for (const std::string& header : response.headers)
    out.append(header).append("\r\n");
  if (!bodyless)
    out.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  out += "Connection: close\r\n\r\n";
  if (!bodyless && !headOnly) out += response.body;
  return out;
}

std::string computeAcceptKey(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kAcceptGuid.size());
  input.append(key).append(kAcceptGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  // 20 bytes -> 28 base64 characters, plus the NUL EVP_EncodeBlock writes.
  std::array<unsigned char, 29> encoded{};
  int n = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest.size()));
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<size_t>(n));
}

std::string buildUpgradeResponse(std::string_view key, std::string_view protocol,
                                 std::string_view extensions) {
  std::string out;
  out.reserve(160 + protocol.size() + extensions.size());
  out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: ";
  out += computeAcceptKey(key);
  out += "\r\n";
  if (!protocol.empty()) out.append("Sec-WebSocket-Protocol: ").append(protocol).append("\r\n");
  if (!extensions.empty()) {
    out.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
  }
  out += "\r\n";
  return out;
}

std::string buildErrorResponse(int status, std::string_view code, std::string_view message,
                               const std::vector<std::string>& extraHeaders) {
  std::string body = "{\"error\":{\"code\":";
  text::appendJsonString(body, code);
  body += ",\"message\":";
  text::appendJsonString(body, message);
  body += "}}";

  std::string out = "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += text::reasonPhrase(status);
  out += "\r\n";
  for (const std::string& header : extraHeaders)
    out.append(header).append("\r\n");
  if (status == 426) out += "Sec-WebSocket-Version: 13\r\n";
  out += "Content-Type: application/json\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace wsr::ws
