#pragma once
// The reason phrase of the HTTP statuses wsrouter answers with (RFC 9110),
// for both of its HTTP servers: the public port's handshake answers and the
// admin port.

#include <string_view>

namespace wsr::text {

std::string_view reasonPhrase(int status);

}  // namespace wsr::text
