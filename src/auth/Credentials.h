#pragma once
// Where a client's token comes from (PROTOCOL.md, "Connecting"), in this
// order of preference: `Authorization: Bearer <token>`; the subprotocol pair
// `wsrouter.v1, bearer.<token>` (browsers cannot set headers); `?token=` in
// the query (old clients). The query form puts the token in the request
// line, so every log line uses loggableTarget() instead.

#include <string>
#include <string_view>
#include <vector>

namespace wsr::auth {

inline constexpr std::string_view kSubprotocol = "wsrouter.v1";

struct Credential {
  enum class Source { None, Header, Subprotocol, Query };

  std::string_view token;  // a view into the request; empty when none was sent
  Source source = Source::None;
  // Whether the client offered `wsrouter.v1`: the answer must then name it,
  // or browsers fail the connection.
  bool offeredSubprotocol = false;
};

// Finds the credential of a handshake. `authorization` is the header's value,
// `protocols` the offered subprotocols, `query` the target after '?'.
// A malformed Authorization header (not "Bearer <token>") is a credential
// with an empty token from Source::Header, so the refusal can say so.
Credential findCredential(std::string_view authorization,
                          const std::vector<std::string_view>& protocols, std::string_view query);

// What a log line may say of a request target: the path and the names of
// the query parameters, never a value. Redacting only `token=` missed the
// near misses (`?TOKEN=`, `?%74oken=`, `?x=1;token=`, `/ws/<token>`), so
// nothing a client chose is kept unless it cannot be a secret:
// - the path only when `knownPath` (an endpoint the server serves), else
//   kUnknownPath: a client may put its token in the path;
// - each query parameter as its name ("/ws?x&token"); a name longer than
//   kMaxLoggedNameBytes, or an item without '=' (a bare value), is written
//   "*", since it may be a secret pasted in; at most kMaxLoggedNames names.
// Bytes that are not UTF-8 stay (the logger's escaper replaces them).
inline constexpr std::string_view kUnknownPath = "(unknown path)";
inline constexpr size_t kMaxLoggedNameBytes = 32;
inline constexpr size_t kMaxLoggedNames = 16;
std::string loggableTarget(std::string_view path, std::string_view query, bool knownPath);

std::string_view toString(Credential::Source source);

}  // namespace wsr::auth
