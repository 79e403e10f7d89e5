#include "admin/HttpResponseText.h"

#include <strings.h>

namespace wsr::admin {

const char* reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string responseText(const httplib::Response& res, const ResponseFraming& framing) {
  const int status = res.status < 0 ? 500 : res.status;
  std::string text;
  text.reserve(160 + res.body.size());
  text += "HTTP/1.1 ";
  text += std::to_string(status);
  text += ' ';
  text += reasonPhrase(status);
  text += "\r\n";
  for (const auto& [name, value] : res.headers) {
    // Framing is ours to write, whatever a handler set.
    if (strcasecmp(name.c_str(), "Content-Length") == 0 ||
        strcasecmp(name.c_str(), "Connection") == 0 ||
        strcasecmp(name.c_str(), "Transfer-Encoding") == 0) {
      continue;
    }
    text += name;
    text += ": ";
    text += value;
    text += "\r\n";
  }
  text += "Content-Length: ";
  text += std::to_string(res.body.size());
  text += "\r\n";
  if (!framing.keepAlive) {
    text += "Connection: close\r\n";
  } else if (framing.http10) {
    text += "Connection: keep-alive\r\n";
  }
  text += "\r\n";
  if (!framing.omitBody) text += res.body;
  return text;
}

}  // namespace wsr::admin
