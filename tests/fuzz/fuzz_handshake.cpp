// libFuzzer target: the opening handshake, from raw bytes to the response.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ws/Handshake.h"
#include "ws/PerMessageDeflate.h"
#include "ws/Utf8Validator.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void checkNegotiation(const std::vector<std::string_view>& tokens) {
  wsr::ws::DeflateAgreement agreement;
  if (wsr::ws::negotiatePerMessageDeflate(tokens, agreement)) {
    check(agreement.clientNoContextTakeover);
    check(agreement.responseHeader.rfind("permessage-deflate", 0) == 0);
  } else {
    check(agreement.responseHeader.empty());
  }
}

// The JSON body must never carry a raw control character or quote from the
// message, whatever the message holds.
void checkErrorResponse(int status, std::string_view message) {
  const std::string response = wsr::ws::buildErrorResponse(status, "BAD_HANDSHAKE", message);
  const size_t bodyAt = response.find("\r\n\r\n");
  check(bodyAt != std::string::npos);
  const std::string_view body = std::string_view(response).substr(bodyAt + 4);
  check(wsr::ws::isValidUtf8(body));
  size_t quotes = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    check(c >= 0x20);
    if (c == '\\') {
      ++i;  // skip the escaped character
    } else if (c == '"') {
      ++quotes;
    }
  }
  check(quotes == 10);  // {"error":{"code":"...","message":"..."}}
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t end = wsr::ws::findRequestHeadEnd(input);
  check(end <= input.size());
  const std::string_view head = end != 0 ? input.substr(0, end) : input;

  wsr::ws::HandshakeRequest request;
  wsr::ws::HandshakeError error;
  if (wsr::ws::parseHandshake(head, request, error)) {
    check(request.method == "GET");
    check(!request.path.empty() && request.path.front() == '/');
    check(request.target.substr(0, request.path.size()) == request.path);
    check(request.key.size() == 24);
    check(!request.host.empty() || request.header("Host").empty());
    check(wsr::ws::computeAcceptKey(request.key).size() == 28);
    checkNegotiation(request.headerTokens("Sec-WebSocket-Extensions"));
    const std::string response = wsr::ws::buildUpgradeResponse(request.key, "", "");
    check(response.size() > 4 && response.substr(response.size() - 4) == "\r\n\r\n");
  } else {
    check(error.status == 400 || error.status == 426);
    check(!error.message.empty());
    checkErrorResponse(error.status, error.message);
  }

  // The same head as a plain request (the demo page, /client.js): a parse
  // that succeeds is a GET or a HEAD with one Host, and an upgrade and a
  // plain request are never both.
  wsr::ws::HandshakeRequest plain;
  if (wsr::ws::parsePlainRequest(head, plain, error)) {
    check(plain.method == "GET" || plain.method == "HEAD");
    check(!plain.path.empty() && plain.path.front() == '/');
    check(!plain.host.empty() || plain.header("Host").empty());
    check(!wsr::ws::parseHandshake(head, request, error) || wsr::ws::asksForUpgrade(plain));
    wsr::ws::HttpResponse answer;
    answer.body = std::string(plain.path);
    const bool headOnly = plain.method == "HEAD";
    const std::string bytes = wsr::ws::buildHttpResponse(answer, headOnly);
    check(bytes.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    // A HEAD is answered with the head alone (its Content-Length still the
    // body's), a GET with the head and the body.
    const std::string length = "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
    check(bytes.find(length) != std::string::npos);
    check(headOnly ? bytes.ends_with("\r\n\r\n") : bytes.ends_with("\r\n\r\n" + answer.body));
  }

  // The negotiation and the JSON escaping see arbitrary text too, not only
  // what survives the request parser.
  std::vector<std::string_view> offers;
  std::string_view rest = input;
  while (true) {
    const size_t comma = rest.find(',');
    offers.push_back(rest.substr(0, comma));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  checkNegotiation(offers);
  checkErrorResponse(400, input.substr(0, 512));
  return 0;
}
