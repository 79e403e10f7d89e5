#include "admin/AdminRoutes.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <simdjson.h>

#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "admin/JsonBody.h"
#include "admin/PublishRequest.h"
#include "hub/ChannelName.h"
#include "telemetry/MetricsExposition.h"
#include "telemetry/Tracer.h"

namespace wsr::admin {
namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kMaxUserBytes = 256;
// How much of an unknown path a 404 message quotes.
constexpr size_t kMaxQuotedPathBytes = 200;

void sendJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, kJson);
}

void sendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message) {
  sendJson(res, status, errorJson(code, message));
}

// ---- publisher authentication ----

// The token of "Authorization: Bearer <token>"; false when the header is not
// of that form. The scheme is case-insensitive (RFC 7235).
bool bearerToken(std::string_view header, std::string_view& token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) != kScheme[i]) return false;
  }
  token = header.substr(kScheme.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
    token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
    token.remove_suffix(1);
  return !token.empty();
}

}  // namespace

bool authorizePublisher(const AdminContext& context, const httplib::Request& req,
                        httplib::Response& res) {
  std::string_view refusal;
  std::string_view token;
  const std::string header = req.get_header_value("Authorization");
  if (context.tokens == nullptr) {
    refusal =
        "no publisher token file is configured (admin.publisher_token_file), so every "
        "POST request is refused";
  } else if (header.empty()) {
    refusal = "header 'Authorization: Bearer <publisher token>' is missing";
  } else if (!bearerToken(header, token)) {
    refusal = "header 'Authorization' must be 'Bearer <publisher token>'";
  } else if (!context.tokens->verify(token)) {
    refusal = "the publisher token in header 'Authorization' is not valid";
  } else {
    return true;
  }
  res.set_header("WWW-Authenticate", "Bearer");
  sendError(res, 401, "UNAUTHORIZED", refusal);
  return false;
}

namespace {

using PostHandler =
    std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;

// Counts a refused publication when the route publishes (`rejections` set).
void countRefusal(PublishRejections* rejections, hub::PublishError error) {
  if (rejections != nullptr) rejections->count(error);
}

// A POST route: token first (an unauthenticated body was only read and
// dropped), then the size limit, then the handler with the whole body.
// `rejections`: where a publish route counts what it refuses before the
// handler (null: no count).
void postRoute(const AdminContext& context, const httplib::Request& req, BodyState body,
               bool publisherVerified, httplib::Response& res, const PostHandler& handler,
               PublishRejections* rejections = nullptr) {
  if (!publisherVerified && !authorizePublisher(context, req, res)) {
    if (rejections != nullptr) rejections->countUnauthorized();
    return;
  }
  if (body == BodyState::Unwanted) {
    // The token was not valid when the head arrived (a rotation since): the
    // body was not kept, so the request cannot be served.
    if (rejections != nullptr) rejections->countUnauthorized();
    res.set_header("WWW-Authenticate", "Bearer");
    sendError(res, 401, "UNAUTHORIZED",
              "the publisher token in header 'Authorization' was not valid when the request "
              "arrived");
    return;
  }
  const size_t limit = context.config->maxPublishBytes;
  if (body == BodyState::TooLarge || req.body.size() > limit) {
    countRefusal(rejections, hub::PublishError::TooLarge);
    sendError(res, 413, "TOO_LARGE",
              "request body is larger than admin.max_publish_bytes (" + std::to_string(limit) +
                  " bytes)");
    return;
  }
  handler(req, req.body, res);
}

// ---- traces ----

// The SERVER span of an authorized publish request: a child of the
// request's traceparent when it is valid (same trace; the parent-based
// samplers follow its sampled flag), else a root.
telemetry::ActiveSpan startRequestSpan(const AdminContext& context, const httplib::Request& req,
                                       std::string_view name, std::string_view route) {
  if (context.tracer == nullptr || !context.tracer->enabled()) return {};
  const std::optional<telemetry::TraceContext> parent =
      telemetry::parseTraceparent(req.get_header_value("traceparent"));
  telemetry::ActiveSpan span =
      context.tracer->startSpan(name, telemetry::SpanKind::Server,
                                parent.value_or(telemetry::TraceContext{}), parent.has_value());
  span.setString("http.request.method", "POST");
  span.setString("http.route", route);
  return span;
}

void finishRequestSpan(telemetry::ActiveSpan& span, int status, std::string_view code,
                       std::string_view message) {
  span.setInt("http.response.status_code", status);
  if (status >= 400) {
    span.setString("error.type", code);
    span.setError(message);
  }
}

// The publication's trace: the request span's context when tracing, so the
// broker and fan-out spans are its children; else the header's, if valid.
telemetry::TraceContext traceFor(const telemetry::ActiveSpan& span, const httplib::Request& req) {
  if (span.context().valid()) return span.context();
  return telemetry::parseTraceparent(req.get_header_value("traceparent"))
      .value_or(telemetry::TraceContext{});
}

// ---- handlers ----

void publish(const AdminContext& context, const httplib::Request& req, const std::string& body,
             PublishParser& parser, httplib::Response& res) {
  telemetry::ActiveSpan span =
      startRequestSpan(context, req, "POST /api/v1/publish", "/api/v1/publish");
  parser.lend(body);
  ParsedPublication parsed = parser.publication(body);
  if (!parsed.ok()) {
    const int status = hub::httpStatusOf(parsed.error);
    countRefusal(context.rejections, parsed.error);
    finishRequestSpan(span, status, hub::errorCodeOf(parsed.error), parsed.message);
    sendError(res, status, hub::errorCodeOf(parsed.error), parsed.message);
    return;
  }
  parsed.publication.trace = traceFor(span, req);
  const std::string channel = parsed.publication.channel;
  span.setString("messaging.destination.name", channel.substr(0, hub::kMaxChannelNameBytes));
  const hub::PublishResult result = context.sink->publish(std::move(parsed.publication));
  countRefusal(context.rejections, result.error);
  if (result.ok()) span.setInt("wsrouter.seq", static_cast<int64_t>(result.seq));
  finishRequestSpan(span, hub::httpStatusOf(result.error), hub::errorCodeOf(result.error),
                    result.message);
  // The broker is down (or the router stopping), or the workers are behind
  // (429): try again shortly.
  if (result.error == hub::PublishError::Unavailable ||
      result.error == hub::PublishError::Overloaded) {
    res.set_header("Retry-After", "1");
  }
  sendJson(res, hub::httpStatusOf(result.error), publishResultJson(channel, result));
}

void publishBatch(const AdminContext& context, const httplib::Request& req, const std::string& body,
                  PublishParser& parser, httplib::Response& res) {
  telemetry::ActiveSpan span =
      startRequestSpan(context, req, "POST /api/v1/publish/batch", "/api/v1/publish/batch");
  parser.lend(body);
  ParsedBatch batch = parser.batch(body, context.config->maxBatchMessages);
  if (!batch.ok()) {
    const int status = hub::httpStatusOf(batch.error);
    countRefusal(context.rejections, batch.error);
    finishRequestSpan(span, status, hub::errorCodeOf(batch.error), batch.message);
    sendError(res, status, hub::errorCodeOf(batch.error), batch.message);
    return;
  }
  const telemetry::TraceContext trace = traceFor(span, req);
  // The valid ones go to the sink together (one round trip to Redis for
  // all); each message stands or falls alone, answered in order.
  std::vector<hub::Publication> publications;
  std::vector<std::string> channels;
  publications.reserve(batch.messages.size());
  channels.reserve(batch.messages.size());
  for (ParsedPublication& message : batch.messages) {
    if (!message.ok()) continue;
    message.publication.trace = trace;
    channels.push_back(message.publication.channel);
    publications.push_back(std::move(message.publication));
  }
  const std::vector<hub::PublishResult> published =
      publications.empty() ? std::vector<hub::PublishResult>{}
                           : context.sink->publishBatch(std::move(publications));
  std::string results = "{\"results\":[";
  results.reserve(32 + 40 * batch.messages.size());
  int64_t accepted = 0;
  bool unavailable = false;
  size_t next = 0;
  for (size_t i = 0; i < batch.messages.size(); ++i) {
    if (i != 0) results += ',';
    const ParsedPublication& message = batch.messages[i];
    if (!message.ok()) {
      countRefusal(context.rejections, message.error);
      results += errorJson(hub::errorCodeOf(message.error), message.message);
      continue;
    }
    const hub::PublishResult& result = published[next];
    countRefusal(context.rejections, result.error);
    if (result.ok()) ++accepted;
    if (result.error == hub::PublishError::Unavailable ||
        result.error == hub::PublishError::Overloaded) {
      unavailable = true;
    }
    appendPublishResultJson(results, channels[next], result);
    ++next;
  }
  if (unavailable) res.set_header("Retry-After", "1");
  results += "]}";
  span.setInt("wsrouter.batch.messages", static_cast<int64_t>(batch.messages.size()));
  span.setInt("wsrouter.batch.accepted", accepted);
  finishRequestSpan(span, 200, {}, {});
  sendJson(res, 200, results);
}

void disconnect(const AdminContext& context, const std::string& body, httplib::Response& res) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(body).get(root)) {
    sendError(res, 400, "BAD_REQUEST",
              std::string("request body is not valid JSON: ") + simdjson::error_message(error));
    return;
  }
  if (!root.is_object()) {
    sendError(res, 400, "BAD_REQUEST", "request body must be a JSON object");
    return;
  }
  simdjson::dom::element user;
  if (root["user"].get(user)) {
    sendError(res, 400, "BAD_REQUEST", "field 'user' is missing");
    return;
  }
  std::string_view name;
  if (user.get_string().get(name) || name.empty() || name.size() > kMaxUserBytes) {
    sendError(res, 400, "BAD_REQUEST", "field 'user' must be a string of 1 to 256 bytes");
    return;
  }
  const size_t closed = context.backend->disconnectUser(std::string(name));
  sendJson(res, 200,
           nlohmann::json({{"user", name}, {"disconnected", closed}})
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void probe(bool ok, const std::string& detail, httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  if (ok) {
    sendJson(res, 200, R"({"status":"ok"})");
    return;
  }
  sendJson(res, 503,
           nlohmann::json({{"status", "fail"}, {"detail", detail}})
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// ---- unknown paths and methods ----

struct KnownPath {
  const char* path;
  const char* method;  // the one method it answers
};

constexpr KnownPath kKnownPaths[] = {
    {"/api/v1/publish", "POST"},
    {"/api/v1/publish/batch", "POST"},
    {"/api/v1/disconnect", "POST"},
    {"/api/v1/stats", "GET"},
    {"/api/v1/channels", "GET"},
    {"/api/v1/connections", "GET"},
    {"/metrics", "GET"},
    {"/healthz", "GET"},
    {"/readyz", "GET"},
};

void noRoute(const httplib::Request& req, httplib::Response& res) {
  for (const KnownPath& known : kKnownPaths) {
    if (req.path == known.path) {
      res.set_header("Allow", known.method);
      sendError(res, 405, "METHOD_NOT_ALLOWED",
                req.path + " answers " + known.method + ", not " + req.method);
      return;
    }
  }
  std::string_view path = req.path;
  std::string quoted(path.substr(0, kMaxQuotedPathBytes));
  if (path.size() > kMaxQuotedPathBytes) quoted += "...";
  sendError(res, 404, "NOT_FOUND", "no route for " + req.method + " " + quoted);
}

}  // namespace

bool AdminRoutes::wantsBody(const httplib::Request& head, std::string& memo) const {
  if (head.method != "POST") return false;
  if (head.path != "/api/v1/publish" && head.path != "/api/v1/publish/batch" &&
      head.path != "/api/v1/disconnect") {
    return false;
  }
  if (context_.tokens == nullptr) return false;
  // "<token file generation> <Authorization header>" of the last request
  // this connection authorized. Compared in constant time: it holds a
  // token.
  std::string presented = std::to_string(context_.tokens->generation());
  presented += ' ';
  presented += head.get_header_value("Authorization");
  if (presented.size() == memo.size() &&
      CRYPTO_memcmp(presented.data(), memo.data(), memo.size()) == 0) {
    return true;
  }
  httplib::Response ignored;
  if (!authorizePublisher(context_, head, ignored)) return false;
  memo = std::move(presented);
  return true;
}

bool AdminRoutes::runsInline(const httplib::Request& head) const {
  return head.method == "POST" && !context_.sink->mayWait() &&
         (head.path == "/api/v1/publish" || head.path == "/api/v1/publish/batch");
}

bool AdminRoutes::isProbe(const httplib::Request& req) {
  return (req.method == "GET" || req.method == "HEAD") &&
         (req.path == "/healthz" || req.path == "/readyz");
}

void AdminRoutes::handle(const httplib::Request& req, BodyState body, httplib::Response& res,
                         bool publisherVerified, PublishParser* parser) const {
  try {
    route(req, body, res, publisherVerified, parser);
  } catch (const std::exception& e) {
    res = httplib::Response();
    sendError(res, 500, "INTERNAL", std::string("internal error: ") + e.what());
  } catch (...) {
    res = httplib::Response();
    sendError(res, 500, "INTERNAL", "internal error");
  }
}

void AdminRoutes::route(const httplib::Request& req, BodyState body, httplib::Response& res,
                        bool publisherVerified, PublishParser* parser) const {
  const AdminContext& ctx = context_;
  const std::string& path = req.path;
  if (req.method == "POST") {
    if (path == "/api/v1/publish") {
      return postRoute(
          ctx, req, body, publisherVerified, res,
          [&ctx, parser](const httplib::Request& r, const std::string& body,
                         httplib::Response& out) {
            if (parser != nullptr) return publish(ctx, r, body, *parser, out);
            PublishParser own;
            publish(ctx, r, body, own, out);
          },
          ctx.rejections);
    }
    if (path == "/api/v1/publish/batch") {
      return postRoute(
          ctx, req, body, publisherVerified, res,
          [&ctx, parser](const httplib::Request& r, const std::string& body,
                         httplib::Response& out) {
            if (parser != nullptr) return publishBatch(ctx, r, body, *parser, out);
            PublishParser own;
            publishBatch(ctx, r, body, own, out);
          },
          ctx.rejections);
    }
    if (path == "/api/v1/disconnect") {
      return postRoute(ctx, req, body, publisherVerified, res,
                       [&ctx](const httplib::Request&, const std::string& body,
                              httplib::Response& out) { disconnect(ctx, body, out); });
    }
  } else if (req.method == "GET" || req.method == "HEAD") {
    if (path == "/api/v1/stats") return sendJson(res, 200, ctx.backend->statsJson());
    if (path == "/api/v1/channels") return sendJson(res, 200, ctx.backend->channelsJson());
    if (path == "/api/v1/connections") return sendJson(res, 200, ctx.backend->connectionsJson());
    if (path == "/metrics") {
      res.status = 200;
      res.set_content(ctx.backend->metricsText(),
                      std::string(telemetry::MetricsExposition::kContentType));
      return;
    }
    if (path == "/healthz" || path == "/readyz") {
      const Health health = ctx.backend->health();
      if (path == "/healthz") return probe(health.live, health.liveDetail, res);
      return probe(health.ready, health.readyDetail, res);
    }
  }
  // Everything else: 405 on a known path, 404 otherwise.
  noRoute(req, res);
}

}  // namespace wsr::admin
