#include "admin/HttpRequestHead.h"

#include <gtest/gtest.h>

namespace wsr::admin {
namespace {

TEST(HttpRequestHead, ReadsTheRequestLineHeadersAndFraming) {
  const RequestHead head = parseRequestHead(
      "POST /api/v1/publish%2Fx?a=1&b=two HTTP/1.1\r\nHost: h\r\nContent-Length:  42 \r\n"
      "authorization: Bearer t\r\nExpect: 100-continue");
  ASSERT_FALSE(head.refused()) << head.refuseMessage;
  EXPECT_EQ(head.request.method, "POST");
  EXPECT_EQ(head.request.target, "/api/v1/publish%2Fx?a=1&b=two");
  EXPECT_EQ(head.request.path, "/api/v1/publish/x");
  EXPECT_EQ(head.request.get_param_value("b"), "two");
  EXPECT_EQ(head.request.get_header_value("Authorization"), "Bearer t");
  EXPECT_EQ(head.contentLength, 42u);
  EXPECT_TRUE(head.keepAlive);
  EXPECT_TRUE(head.expectContinue);
  EXPECT_FALSE(head.http10);
}

TEST(HttpRequestHead, KeepAliveFollowsTheVersionAndConnection) {
  EXPECT_FALSE(parseRequestHead("GET / HTTP/1.1\r\nConnection: close").keepAlive);
  EXPECT_FALSE(parseRequestHead("GET / HTTP/1.0").keepAlive);
  const RequestHead old = parseRequestHead("GET / HTTP/1.0\r\nConnection: Keep-Alive");
  EXPECT_TRUE(old.keepAlive);
  EXPECT_TRUE(old.http10);
  EXPECT_TRUE(parseRequestHead("GET / HTTP/1.1\r\nConnection: TE, keep-alive").keepAlive);
}

TEST(HttpRequestHead, RefusalsNameTheProblem) {
  struct Case {
    const char* head;
    int status;
    bool close;
    const char* mentions;
  };
  const Case cases[] = {
      {"GARBAGE", 400, true, "request line"},
      {"GET noslash HTTP/1.1", 400, true, "'/'"},
      {"GET / HTTP/2.0", 505, true, "HTTP/1.1"},
      {"GET / FTP/1.0", 400, true, "version"},
      {"GET / HTTP/1.1\r\nno colon", 400, true, "header"},
      {"GET / HTTP/1.1\r\n folded: x", 400, true, "header"},
      {"POST / HTTP/1.1\r\nContent-Length: -1", 400, true, "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 1x", 400, true, "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", 400, true, "Content-Length"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked", 411, true, "Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Encoding: gzip", 415, false,
       "Content-Encoding"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.head);
    const RequestHead head = parseRequestHead(c.head);
    EXPECT_EQ(head.refuseStatus, c.status);
    EXPECT_EQ(head.refuseAndClose, c.close);
    if (c.close) {
      EXPECT_FALSE(head.keepAlive);
    }
    EXPECT_NE(head.refuseMessage.find(c.mentions), std::string::npos) << head.refuseMessage;
  }
  // The same length twice is one length.
  EXPECT_FALSE(
      parseRequestHead("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3").refused());
  EXPECT_FALSE(
      parseRequestHead("POST / HTTP/1.1\r\nContent-Encoding: identity\r\nContent-Length: 3")
          .refused());
}

TEST(HttpRequestHead, TooManyHeaderFieldsIs431) {
  std::string head = "GET / HTTP/1.1";
  for (size_t i = 0; i <= kMaxHeaderFields; ++i)
    head += "\r\nX-" + std::to_string(i) + ": v";
  EXPECT_EQ(parseRequestHead(head).refuseStatus, 431);
}

}  // namespace
}  // namespace wsr::admin
