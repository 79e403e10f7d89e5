#pragma once
// The JSON bodies the admin server answers with. Every error, from any route
// and from cpp-httplib itself, has PROTOCOL.md's one shape:
// {"error":{"code":"...","message":"..."}}.

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/PublishSink.h"

namespace wsr::admin {

std::string errorJson(std::string_view code, std::string_view message);
// {"channel":"...","seq":N} when accepted, the error body otherwise.
std::string publishResultJson(const std::string& channel, const hub::PublishResult& result);

// The PROTOCOL.md code for an HTTP status cpp-httplib produced on its own
// (413 for a body over the limit, 400 for an unreadable request...).
std::string_view errorCodeForStatus(int status);

}  // namespace wsr::admin
