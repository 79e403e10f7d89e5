#include "admin/JsonBody.h"

#include <charconv>

#include "text/JsonString.h"

#include <nlohmann/json.hpp>

namespace wsr::admin {
namespace {

// Messages may quote what a publisher sent, which need not be valid UTF-8:
// replace bad bytes instead of throwing.
std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string errorJson(std::string_view code, std::string_view message) {
  return dump({{"error", {{"code", code}, {"message", message}}}});
}

std::string publishResultJson(const std::string& channel, const hub::PublishResult& result) {
  std::string out;
  appendPublishResultJson(out, channel, result);
  return out;
}

void appendPublishResultJson(std::string& out, const std::string& channel,
                             const hub::PublishResult& result) {
  if (!result.ok()) {
    out += errorJson(hub::errorCodeOf(result.error),
                     result.message.empty() ? "publication refused" : result.message);
    return;
  }
  // Every accepted publication is answered: written directly, not through
  // a JSON object.
  out += "{\"channel\":";
  text::appendJsonString(out, channel);
  out += ",\"seq\":";
  char digits[24];
  const auto [end, error] = std::to_chars(digits, digits + sizeof digits, result.seq);
  out.append(digits, end);
  out += '}';
}

std::string_view errorCodeForStatus(int status) {
  switch (status) {
    case 400:
    case 408:
    case 411:
    case 414:
    case 415:
    case 431:
    case 505:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 413:
      return "TOO_LARGE";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "BAD_REQUEST";
  }
}

}  // namespace wsr::admin
