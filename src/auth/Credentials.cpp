#include "auth/Credentials.h"

#include <cctype>

#include "text/Trim.h"

namespace wsr::auth {
namespace {

constexpr std::string_view kBearerProtocolPrefix = "bearer.";
constexpr std::string_view kQueryName = "token";

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The value of the first `token=` parameter of a query, undecoded: tokens
// (JWTs, hex or base64url secrets) need no percent-encoding.
std::string_view queryToken(std::string_view query) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t equals = pair.find('=');
    if (equals != std::string_view::npos && pair.substr(0, equals) == kQueryName) {
      return pair.substr(equals + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

Credential findCredential(std::string_view authorization,
                          const std::vector<std::string_view>& protocols, std::string_view query) {
  Credential credential;
  std::string_view fromProtocol;
  for (std::string_view protocol : protocols) {
    if (protocol == kSubprotocol) credential.offeredSubprotocol = true;
    if (fromProtocol.empty() && protocol.starts_with(kBearerProtocolPrefix)) {
      fromProtocol = protocol.substr(kBearerProtocolPrefix.size());
    }
  }
  authorization = text::trimSpaces(authorization);
  if (!authorization.empty()) {
    credential.source = Credential::Source::Header;
    const size_t space = authorization.find(' ');
    if (space != std::string_view::npos && equalsNoCase(authorization.substr(0, space), "Bearer")) {
      credential.token = text::trimSpaces(authorization.substr(space + 1));
    }
    return credential;
  }
  if (!fromProtocol.empty()) {
    credential.source = Credential::Source::Subprotocol;
    credential.token = fromProtocol;
    return credential;
  }
  if (const std::string_view token = queryToken(query); !token.empty()) {
    credential.source = Credential::Source::Query;
    credential.token = token;
  }
  return credential;
}

std::string loggableTarget(std::string_view path, std::string_view query, bool knownPath) {
  std::string out(knownPath ? path : kUnknownPath);
  size_t names = 0;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    out += names == 0 ? '?' : '&';
    if (++names > kMaxLoggedNames) {
      out += "...";
      break;
    }
    const size_t equals = item.find('=');
    const std::string_view name = item.substr(0, equals);
    if (equals == std::string_view::npos || name.size() > kMaxLoggedNameBytes) {
      out += '*';
    } else {
      out.append(name);
    }
  }
  return out;
}

std::string_view toString(Credential::Source source) {
  switch (source) {
    case Credential::Source::None:
      return "none";
    case Credential::Source::Header:
      return "header";
    case Credential::Source::Subprotocol:
      return "subprotocol";
    case Credential::Source::Query:
      return "query";
  }
  return "none";
}

}  // namespace wsr::auth
