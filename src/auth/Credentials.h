#pragma once
// Where a client's token comes from (PROTOCOL.md, "Connecting"), in this
// order of preference: `Authorization: Bearer <token>`; the subprotocol pair
// `wsrouter.v1, bearer.<token>` (browsers cannot set headers); `?token=` in
// the query (old clients). The query form puts the token in the request
// line, so every log line uses redactedTarget() instead.

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

// `target` with the value of every `token` query parameter replaced by
// "REDACTED": the form request targets take in logs.
std::string redactedTarget(std::string_view target);

std::string_view toString(Credential::Source source);

}  // namespace wsr::auth
