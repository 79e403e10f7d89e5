#pragma once
// The JSON bodies the admin server answers with. Every error, from any route
// and from the HTTP front itself, has PROTOCOL.md's one shape:
// {"error":{"code":"...","message":"..."}}.

#include <cstdint>
#include <string>
#include <string_view>

#include "hub/PublishSink.h"

namespace wsr::admin {

std::string errorJson(std::string_view code, std::string_view message);
// {"channel":"...","seq":N} when accepted, the error body otherwise.
std::string publishResultJson(const std::string& channel, const hub::PublishResult& result);
// The same, appended to `out` (a batch's results, without a string each).
void appendPublishResultJson(std::string& out, const std::string& channel,
                             const hub::PublishResult& result);

// The PROTOCOL.md code for an HTTP status the admin front answers on its own
// (408 for a request too slow to arrive, 411 for a chunked body, 431 for a
// head over the limit...): those about the request are BAD_REQUEST.
std::string_view errorCodeForStatus(int status);

}  // namespace wsr::admin
