#include "admin/HttpResponseText.h"

#include <strings.h>

#include "text/HttpStatus.h"

namespace wsr::admin {

std::string responseText(const httplib::Response& res, const ResponseFraming& framing) {
  const int status = res.status < 0 ? 500 : res.status;
  std::string text;
  text.reserve(160 + res.body.size());
  text += "HTTP/1.1 ";
  text += std::to_string(status);
  text += ' ';
  text += wsr::text::reasonPhrase(status);
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
