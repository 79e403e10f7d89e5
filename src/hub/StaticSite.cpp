#include "hub/StaticSite.h"

#include <openssl/sha.h>

#include <array>

namespace wsr::hub {
namespace {

// The browser client is for every application; the other files are the demo page's.
constexpr std::string_view kClientFiles[] = {"client.js", "client.d.ts"};
constexpr std::string_view kIndexFile = "index.html";
// Hex digits of the SHA-256 kept in an ETag: 128 bits, plenty to tell versions apart.
constexpr size_t kEtagHexDigits = 32;

// The page may load only what the router serves and talk only to it
// (DESIGN.md: no request outside the router).
constexpr std::string_view kPageSecurityPolicy =
    "Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

std::string strongEtag(std::string_view bytes) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string etag = "\"";
  for (size_t i = 0; i < kEtagHexDigits / 2; ++i) {
    etag += kHex[digest[i] >> 4];
    etag += kHex[digest[i] & 0xF];
  }
  etag += '"';
  return etag;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags, compared
// weakly (a W/ prefix is ignored).
bool noneMatchHits(const ws::HandshakeRequest& request, std::string_view etag) {
  for (std::string_view tag : request.headerTokens("If-None-Match")) {
    tag = trimmed(tag);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

ws::HttpResponse notFound(std::string_view message) {
  ws::HttpResponse response;
  response.status = 404;
  response.headers = {"Content-Type: application/json", "Cache-Control: no-store",
                      "X-Content-Type-Options: nosniff"};
  // The messages are constants of this file: nothing to escape.
  response.body = "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"";
  response.body.append(message).append("\"}}");
  return response;
}

}  // namespace

std::string_view StaticSite::contentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".ts")) return "application/typescript; charset=utf-8";
  if (name.ends_with(".json")) return "application/json";
  if (name.ends_with(".png")) return "image/png";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

StaticSite::StaticSite(std::span<const EmbeddedFile> files, bool demoPage) : demoPage_(demoPage) {
  for (const EmbeddedFile& embedded : files) {
    File file;
    // Built by appending: g++ 12 misreads "/" + std::string (-Wrestrict).
    file.path = "/";
    if (embedded.name != kIndexFile) file.path.append(embedded.name);
    file.bytes = embedded.bytes;
    file.contentType = contentTypeOf(embedded.name);
    file.etag = strongEtag(embedded.bytes);
    file.isPage = true;
    for (std::string_view client : kClientFiles) {
      if (embedded.name == client) file.isPage = false;
    }
    files_.push_back(std::move(file));
  }
}

const StaticSite::File* StaticSite::find(std::string_view path) const {
  for (const File& file : files_) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

std::optional<ws::HttpResponse> StaticSite::answer(const ws::HandshakeRequest& request) const {
  const std::string_view path = request.path;
  if (path == "/ws" || path.starts_with("/ws/")) return std::nullopt;
  const File* file = find(path);
  if (file == nullptr) {
    return notFound(
        "no page or file at this path; the WebSocket endpoints are /ws and /ws/<channel>");
  }
  if (file->isPage && !demoPage_) {
    return notFound("the demo page is turned off (server.demo_page: false); /client.js is served");
  }

  ws::HttpResponse response;
  response.headers.reserve(5);
  response.headers.push_back("Content-Type: " + std::string(file->contentType));
  // no-cache: stored, but revalidated with the ETag before each use.
  response.headers.push_back("Cache-Control: no-cache");
  response.headers.push_back("ETag: " + file->etag);
  response.headers.push_back("X-Content-Type-Options: nosniff");
  if (file->path == "/") response.headers.emplace_back(kPageSecurityPolicy);
  // Pages of other origins import the client as a module, which takes CORS;
  // it is public and carries no credential.
  if (!file->isPage) response.headers.emplace_back("Access-Control-Allow-Origin: *");
  if (noneMatchHits(request, file->etag)) {
    response.status = 304;
    return response;
  }
  response.body.assign(file->bytes);
  return response;
}

}  // namespace wsr::hub
