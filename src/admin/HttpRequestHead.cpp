#include "admin/HttpRequestHead.h"

#include <charconv>
#include <string>

#include "text/Trim.h"

namespace wsr::admin {
namespace {

constexpr std::string_view kCrlf = "\r\n";

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!isTokenChar(c)) return false;
  return true;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

RequestHead refuse(RequestHead head, int status, std::string message, bool close) {
  head.refuseStatus = status;
  head.refuseMessage = std::move(message);
  head.refuseAndClose = close;
  if (close) head.keepAlive = false;
  return head;
}

// "METHOD SP request-target SP HTTP-version".
bool parseRequestLine(std::string_view line, RequestHead& head, std::string& problem) {
  const size_t firstSpace = line.find(' ');
  const size_t lastSpace = line.rfind(' ');
  if (firstSpace == std::string_view::npos || firstSpace == lastSpace) {
    problem = "malformed request line";
    return false;
  }
  const std::string_view method = line.substr(0, firstSpace);
  const std::string_view target = line.substr(firstSpace + 1, lastSpace - firstSpace - 1);
  const std::string_view version = line.substr(lastSpace + 1);
  if (!isToken(method)) {
    problem = "malformed request method";
    return false;
  }
  if (target.empty() || target.front() != '/' ||
      target.find_first_of(" \t") != std::string_view::npos) {
    problem = "the request target must be a path starting with '/'";
    return false;
  }
  httplib::Request& req = head.request;
  req.method = std::string(method);
  req.target = std::string(target);
  req.version = std::string(version);
  const size_t query = target.find('?');
  req.path = httplib::detail::decode_url(std::string(target.substr(0, query)), false);
  if (query != std::string_view::npos) {
    httplib::detail::parse_query_text(std::string(target.substr(query + 1)), req.params);
  }
  return true;
}

}  // namespace

// Whether a comma-separated list (Connection: keep-alive, Upgrade) has `item`.
bool headerListHas(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (equalsIgnoringCase(text::trimSpaces(list.substr(0, comma)), item)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

RequestHead parseRequestHead(std::string_view text) {
  RequestHead head;
  const size_t lineEnd = text.find(kCrlf);
  const std::string_view requestLine = text.substr(0, lineEnd);
  std::string problem;
  if (!parseRequestLine(requestLine, head, problem)) {
    return refuse(std::move(head), 400, problem, true);
  }
  if (head.request.version == "HTTP/1.0") {
    head.http10 = true;
    head.keepAlive = false;
  } else if (head.request.version != "HTTP/1.1") {
    const bool http = head.request.version.starts_with("HTTP/");
    return refuse(std::move(head), http ? 505 : 400,
                  http ? "only HTTP/1.1 and HTTP/1.0 are supported" : "malformed HTTP version",
                  true);
  }

  std::string_view rest =
      lineEnd == std::string_view::npos ? std::string_view{} : text.substr(lineEnd + kCrlf.size());
  bool sawLength = false;
  bool chunked = false;
  bool encoded = false;
  size_t fields = 0;
  while (!rest.empty()) {
    const size_t end = rest.find(kCrlf);
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + kCrlf.size());
    if (++fields > kMaxHeaderFields) {
      return refuse(std::move(head), 431,
                    "more than " + std::to_string(kMaxHeaderFields) + " header fields", true);
    }
    // Obsolete line folding (a line starting with a space) is refused, as
    // RFC 9112 allows: a folded Content-Length would be read two ways.
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
      return refuse(std::move(head), 400, "malformed header field", true);
    }
    const std::string name(line.substr(0, colon));
    const std::string_view value = text::trimSpaces(line.substr(colon + 1));
    if (equalsIgnoringCase(name, "Content-Length")) {
      size_t length = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      const bool valid =
          !value.empty() && error == std::errc() && end == value.data() + value.size();
      // Two different lengths would frame the body two ways (request smuggling).
      if (!valid || (sawLength && length != head.contentLength)) {
        return refuse(std::move(head), 400, "invalid Content-Length", true);
      }
      sawLength = true;
      head.contentLength = length;
    } else if (equalsIgnoringCase(name, "Transfer-Encoding")) {
      chunked = true;
    } else if (equalsIgnoringCase(name, "Content-Encoding")) {
      encoded = encoded || !equalsIgnoringCase(value, "identity");
    } else if (equalsIgnoringCase(name, "Connection")) {
      if (headerListHas(value, "close")) head.keepAlive = false;
      if (head.http10 && headerListHas(value, "keep-alive")) head.keepAlive = true;
    } else if (equalsIgnoringCase(name, "Expect")) {
      head.expectContinue = equalsIgnoringCase(value, "100-continue");
    }
    head.request.headers.emplace(name, std::string(value));
  }

  if (chunked) {
    // Refused before any body byte is read: without a length the body
    // cannot be skipped, so the connection closes.
    return refuse(std::move(head), 411,
                  "chunked request bodies are not supported: send the body with a Content-Length "
                  "header",
                  true);
  }
  if (encoded) {
    // The body is read (its length is known) and dropped: the connection stays usable.
    return refuse(std::move(head), 415,
                  "compressed request bodies (Content-Encoding) are not supported", false);
  }
  return head;
}

}  // namespace wsr::admin
