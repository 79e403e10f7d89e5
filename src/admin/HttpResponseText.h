#pragma once
// An httplib::Response as the bytes of an HTTP/1.1 answer: status line,
// its header fields, Content-Length and Connection, then the body.

#include <httplib.h>

#include <string>

namespace wsr::admin {

struct ResponseFraming {
  bool keepAlive = true;  // false: "Connection: close", the connection closes after it
  bool http10 = false;    // an HTTP/1.0 client keeps the connection only when told so
  bool omitBody = false;  // the answer to HEAD: the length of the body, not the body
};

std::string responseText(const httplib::Response& res, const ResponseFraming& framing);

}  // namespace wsr::admin
