#include "admin/PublisherStream.h"

#include <httplib.h>

#include "admin/AdminRoutes.h"
#include "admin/HttpRequestHead.h"
#include "admin/JsonBody.h"
#include "text/JsonString.h"
#include "ws/FrameWriter.h"
#include "ws/Handshake.h"

namespace wsr::admin {
namespace {

constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseUnsupportedData = 1003;
constexpr uint16_t kCloseNoStatus = 1005;
// A Sec-WebSocket-Key is the base64 of 16 bytes.
constexpr size_t kKeyLength = 24;

PublisherHandshake refusal(const AdminConnection::Request& request, httplib::Response& res,
                           int status, std::string_view code, std::string_view message) {
  res.status = status;
  res.set_content(errorJson(code, message), "application/json");
  return {false, status, responseText(res, request.framing)};
}

void appendFrame(std::string& out, ws::Opcode opcode, std::string_view payload) {
  char header[10];
  const size_t size = ws::writeFrameHeader(header, opcode, payload.size());
  out.append(header, size);
  out.append(payload);
}

}  // namespace

PublisherHandshake acceptPublisherSocket(const AdminContext& context,
                                         const AdminConnection::Request& request) {
  const httplib::Request& req = request.http;
  httplib::Response res;
  if (req.method != "GET") {
    res.set_header("Allow", "GET");
    return refusal(request, res, 405, "METHOD_NOT_ALLOWED",
                   std::string(kPublisherSocketPath) + " answers GET, not " + req.method);
  }
  if (!authorizePublisher(context, req, res)) {
    if (context.rejections != nullptr) context.rejections->countUnauthorized();
    return {false, res.status, responseText(res, request.framing)};
  }
  if (!headerListHas(req.get_header_value("Upgrade"), "websocket") ||
      !headerListHas(req.get_header_value("Connection"), "upgrade")) {
    res.set_header("Upgrade", "websocket");
    return refusal(request, res, 426, "BAD_REQUEST",
                   std::string(kPublisherSocketPath) +
                       " is a WebSocket: send 'Upgrade: websocket' and 'Connection: Upgrade'");
  }
  if (req.get_header_value("Sec-WebSocket-Version") != "13") {
    res.set_header("Sec-WebSocket-Version", "13");
    return refusal(request, res, 426, "BAD_REQUEST", "header 'Sec-WebSocket-Version' must be 13");
  }
  const std::string key = req.get_header_value("Sec-WebSocket-Key");
  if (req.get_header_value_count("Sec-WebSocket-Key") != 1 || key.size() != kKeyLength ||
      !key.ends_with("==")) {
    return refusal(request, res, 400, "BAD_REQUEST",
                   "header 'Sec-WebSocket-Key' must be the base64 of 16 bytes, given once");
  }
  // No extension is offered back: publish frames are small and many, and
  // compressing them would cost more than the bytes it saves on loopback
  // or a cluster network.
  return {true, 101, ws::buildUpgradeResponse(key, {}, {})};
}

PublisherStream::PublisherStream(const AdminContext& context, WorkerPool& handlerThreads)
    : context_(context),
      handlerThreads_(handlerThreads),
      frames_(ws::ParserLimits{context.config->maxPublishBytes, false, false}) {}

PublisherStream::~PublisherStream() {
  *alive_ = false;
}

void PublisherStream::received(AdminConnection& connection, std::string& in) {
  connection_ = &connection;
  if (closing_) {
    in.clear();  // after our close frame: read and dropped
    return;
  }
  const ws::ParseError error = frames_.feed(in, *this);
  in.clear();
  if (error) closeWith(error.closeCode, error.reason);
  publishPending(connection);
  if (waiting_) return;  // answered when the batch comes back
  connection.send(out_);
  out_.clear();
  if (closing_) connection.finish();
}

void PublisherStream::stopping(AdminConnection& connection) {
  connection_ = &connection;
  stopping_ = true;
  if (waiting_) return;  // the answers first; then the close (publishPending's return)
  closeWith(kCloseGoingAway, "server shutting down");
  takeCloseFrame();
  connection.send(out_);
  out_.clear();
  connection.finish();
}

void PublisherStream::onMessage(std::string_view payload, bool binary) {
  if (closing_) return;
  if (binary) {
    closeWith(kCloseUnsupportedData, "publish frames are JSON text");
    return;
  }
  ParsedFrame frame = json_.frame(payload);
  Pending pending;
  pending.id = frame.id;
  if (!frame.publication.ok()) {
    pending.error = frame.publication.error;
    pending.message = std::move(frame.publication.message);
  } else {
    pending.channel = frame.publication.publication.channel;
    publications_.push_back(std::move(frame.publication.publication));
  }
  pending_.push_back(std::move(pending));
}

void PublisherStream::onPing(std::string_view payload) {
  if (!closing_) appendFrame(out_, ws::Opcode::Pong, payload);
}

void PublisherStream::onClose(uint16_t code, std::string_view) {
  // The publisher's close is echoed (RFC 6455 5.5.1), after the answers to
  // what it sent before it.
  closeWith(code == kCloseNoStatus ? kCloseNoStatus : code, "");
}

void PublisherStream::closeWith(uint16_t code, std::string_view reason) {
  if (closing_) return;
  closing_ = true;
  const net::SharedBuffer frame = ws::buildCloseFrame(code, reason);
  closeFrame_.assign(frame.view());
}

void PublisherStream::takeCloseFrame() {
  out_ += closeFrame_;
  closeFrame_.clear();
}

void PublisherStream::publishPending(AdminConnection& connection) {
  if (pending_.empty()) {
    takeCloseFrame();
    return;
  }
  if (!context_.sink->mayWait()) {
    std::vector<hub::PublishResult> results;
    if (!publications_.empty()) results = context_.sink->publishBatch(std::move(publications_));
    publications_.clear();
    answer(results);
    takeCloseFrame();
    return;
  }
  // The broker answers after a round trip: one batch for the whole read on
  // a handler thread, and nothing more is read meanwhile.
  waiting_ = true;
  connection.pause();
  auto batch = std::make_shared<std::vector<hub::Publication>>(std::move(publications_));
  publications_.clear();
  net::EventLoop& loop = connection.loop();
  hub::PublishSink* sink = context_.sink;
  handlerThreads_.post([batch, sink, &loop, alive = std::weak_ptr<bool>(alive_), this] {
    auto results = std::make_shared<std::vector<hub::PublishResult>>(
        batch->empty() ? std::vector<hub::PublishResult>{} : sink->publishBatch(std::move(*batch)));
    loop.post([results, alive, this] {
      if (alive.expired()) return;  // the connection closed meanwhile
      waiting_ = false;
      answer(*results);
      if (stopping_) closeWith(kCloseGoingAway, "server shutting down");
      takeCloseFrame();
      AdminConnection& connection = *connection_;
      connection.send(out_);
      out_.clear();
      if (closing_) {
        connection.finish();
      } else {
        connection.resume();
      }
    });
  });
}

void PublisherStream::answer(const std::vector<hub::PublishResult>& results) {
  std::string json;
  size_t next = 0;
  for (Pending& pending : pending_) {
    json.clear();
    hub::PublishError error = pending.error;
    const std::string* message = &pending.message;
    uint64_t seq = 0;
    if (error == hub::PublishError::None) {
      const hub::PublishResult& result = results[next++];
      error = result.error;
      message = &result.message;
      seq = result.seq;
    }
    if (context_.rejections != nullptr) context_.rejections->count(error);
    if (error == hub::PublishError::None) {
      json += "{\"op\":\"published\"";
    } else {
      json += "{\"op\":\"error\"";
    }
    if (pending.id) {
      json += ",\"id\":";
      json += std::to_string(*pending.id);
    }
    if (error == hub::PublishError::None) {
      json += ",\"channel\":";
      text::appendJsonString(json, pending.channel);
      json += ",\"seq\":";
      json += std::to_string(seq);
    } else {
      json += ",\"code\":\"";
      json += hub::errorCodeOf(error);
      json += "\",\"message\":";
      text::appendJsonString(json, message->empty() ? "publication refused" : *message);
    }
    json += '}';
    appendFrame(out_, ws::Opcode::Text, json);
  }
  pending_.clear();
}

}  // namespace wsr::admin
