// The public port's files (hub/StaticSite): paths, types, caching headers,
// ETag revalidation, server.demo_page, and the files embedded at build time
// being exactly those of web/.

#include "hub/StaticSite.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace wsr::hub {
namespace {

const EmbeddedFile kFiles[] = {
    {"index.html", "<!doctype html><title>demo</title>"},
    {"demo.js", "console.log('page')"},
    {"demo.css", "body{}"},
    {"client.js", "export class WsRouterClient {}"},
    {"client.d.ts", "export declare class WsRouterClient {}"},
};

// A request as the engine parses it; the head must outlive the request.
struct Request {
  explicit Request(std::string path, std::vector<std::string> headers = {},
                   std::string method = "GET") {
    head = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
    for (const std::string& header : headers)
      head += header + "\r\n";
    head += "\r\n";
    ws::HandshakeError error;
    EXPECT_TRUE(ws::parsePlainRequest(head, parsed, error)) << error.message;
  }
  std::string head;
  ws::HandshakeRequest parsed;
};

std::string headerOf(const ws::HttpResponse& response, std::string_view name) {
  for (const std::string& line : response.headers) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ':') {
      return line.substr(name.size() + 2);
    }
  }
  return {};
}

ws::HttpResponse answer(const StaticSite& site, const Request& request) {
  std::optional<ws::HttpResponse> response = site.answer(request.parsed);
  EXPECT_TRUE(response.has_value()) << request.head;
  return response.value_or(ws::HttpResponse{});
}

TEST(StaticSite, ServesEachFileWithItsTypeAndCachingHeaders) {
  const StaticSite site(kFiles, true);
  const struct {
    const char* path;
    const char* type;
    std::string_view body;
  } cases[] = {
      {"/", "text/html; charset=utf-8", kFiles[0].bytes},
      {"/demo.js", "text/javascript; charset=utf-8", kFiles[1].bytes},
      {"/demo.css", "text/css; charset=utf-8", kFiles[2].bytes},
      {"/client.js", "text/javascript; charset=utf-8", kFiles[3].bytes},
      {"/client.d.ts", "application/typescript; charset=utf-8", kFiles[4].bytes},
  };
  for (const auto& c : cases) {
    const ws::HttpResponse response = answer(site, Request(c.path));
    EXPECT_EQ(response.status, 200) << c.path;
    EXPECT_EQ(headerOf(response, "Content-Type"), c.type) << c.path;
    EXPECT_EQ(headerOf(response, "Cache-Control"), "no-cache") << c.path;
    EXPECT_EQ(headerOf(response, "X-Content-Type-Options"), "nosniff") << c.path;
    EXPECT_EQ(response.body, c.body) << c.path;
  }
  // The page may talk to its own router only.
  const std::string policy = headerOf(answer(site, Request("/")), "Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  // Pages of other origins may import the client as a module (CORS); the page is not shared.
  EXPECT_EQ(headerOf(answer(site, Request("/client.js")), "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(headerOf(answer(site, Request("/")), "Access-Control-Allow-Origin"), "");
  // A query does not change the file.
  EXPECT_EQ(answer(site, Request("/client.js?v=3")).body, kFiles[3].bytes);
}

TEST(StaticSite, EtagsAreStrongAndDifferPerContent) {
  const StaticSite site(kFiles, true);
  const std::string page = headerOf(answer(site, Request("/")), "ETag");
  const std::string client = headerOf(answer(site, Request("/client.js")), "ETag");
  ASSERT_EQ(page.size(), 34u) << page;  // quotes and 32 hex digits
  EXPECT_EQ(page.front(), '"');
  EXPECT_EQ(page.back(), '"');
  EXPECT_NE(page, client);
  // Same content, same tag: a restart or another replica validates the cache.
  const StaticSite again(kFiles, false);
  EXPECT_EQ(headerOf(answer(again, Request("/client.js")), "ETag"), client);
  const EmbeddedFile changed[] = {{"client.js", "export class WsRouterClient { }"}};
  EXPECT_NE(headerOf(answer(StaticSite(changed, true), Request("/client.js")), "ETag"), client);
}

TEST(StaticSite, AMatchingIfNoneMatchAnswers304WithoutABody) {
  const StaticSite site(kFiles, true);
  const std::string etag = headerOf(answer(site, Request("/client.js")), "ETag");
  for (const std::string& value :
       {etag, "W/" + etag, "\"other\", " + etag, std::string("*"), "\"a\",W/" + etag}) {
    const ws::HttpResponse response =
        answer(site, Request("/client.js", {"If-None-Match: " + value}));
    EXPECT_EQ(response.status, 304) << value;
    EXPECT_TRUE(response.body.empty()) << value;
    EXPECT_EQ(headerOf(response, "ETag"), etag) << value;
    EXPECT_EQ(headerOf(response, "Cache-Control"), "no-cache") << value;
  }
  // A stale tag gets the whole file.
  const ws::HttpResponse stale = answer(site, Request("/client.js", {"If-None-Match: \"old\""}));
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, kFiles[3].bytes);
  // Another file's tag is not this one's.
  EXPECT_EQ(answer(site, Request("/", {"If-None-Match: " + etag})).status, 200);
}

TEST(StaticSite, UnknownPathsAre404WithTheProtocolsErrorBody) {
  const StaticSite site(kFiles, true);
  for (const char* path : {"/index.html", "/favicon.ico", "/client", "/web/client.js", "/../x"}) {
    const ws::HttpResponse response = answer(site, Request(path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(headerOf(response, "Content-Type"), "application/json") << path;
    EXPECT_TRUE(response.body.starts_with("{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\""))
        << response.body;
  }
}

TEST(StaticSite, TheWebSocketPathsAreLeftToTheEngine) {
  const StaticSite site(kFiles, true);
  EXPECT_FALSE(site.answer(Request("/ws").parsed).has_value());
  EXPECT_FALSE(site.answer(Request("/ws/market").parsed).has_value());
  EXPECT_FALSE(site.answer(Request("/ws?token=x").parsed).has_value());
  EXPECT_TRUE(site.answer(Request("/wsx").parsed).has_value());  // a 404
}

TEST(StaticSite, DemoPageOffLeavesOnlyTheClient) {
  const StaticSite site(kFiles, false);
  for (const char* path : {"/", "/demo.js", "/demo.css"}) {
    const ws::HttpResponse response = answer(site, Request(path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find("server.demo_page"), std::string::npos) << response.body;
  }
  EXPECT_EQ(answer(site, Request("/client.js")).status, 200);
  EXPECT_EQ(answer(site, Request("/client.d.ts")).status, 200);
}

std::string readSourceFile(const std::string& relative) {
  std::ifstream in(std::string(WSROUTER_SOURCE_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << relative;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The build embeds web/ byte for byte: what the router serves is what the
// repository holds (and what the browser tests load).
TEST(StaticSite, TheEmbeddedFilesAreThoseOfWeb) {
  std::vector<std::string> names;
  for (const EmbeddedFile& file : embeddedWebFiles()) {
    names.emplace_back(file.name);
    EXPECT_EQ(file.bytes, readSourceFile("web/" + std::string(file.name))) << file.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"index.html", "demo.css", "demo.js", "client.js",
                                             "client.d.ts"}));
  const StaticSite site(embeddedWebFiles(), true);
  const ws::HttpResponse page = answer(site, Request("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, readSourceFile("web/index.html"));
}

}  // namespace
}  // namespace wsr::hub
