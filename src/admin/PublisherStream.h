#pragma once
// The publisher WebSocket (docs/protocol.md "Publisher WebSocket"): a
// publisher that publishes continuously keeps one connection to the admin
// port open, GET /api/v1/publish/ws with its publisher token, and sends
// `publish` frames, as many in flight as it likes; each is answered, in
// order, with its seq or an error.
//
// The frames of one read are published together: on the admin loop's
// thread when the sink never waits (the memory broker), else as one batch
// on a handler thread (the Redis broker: one round trip for all), the
// connection reading nothing more until the answers are written.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/AdminConnection.h"
#include "admin/PublishRequest.h"
#include "admin/WorkerPool.h"
#include "ws/FrameParser.h"

namespace wsr::admin {

struct AdminContext;

// The path of the publisher WebSocket on the admin port.
inline constexpr std::string_view kPublisherSocketPath = "/api/v1/publish/ws";

// The handshake: whether `request` (to kPublisherSocketPath) may become a
// publisher WebSocket; `answer` is the 101, or the refusal (400, 401, 426)
// naming what was wrong.
struct PublisherHandshake {
  bool accepted = false;
  int status = 0;
  std::string answer;  // HTTP bytes
};
PublisherHandshake acceptPublisherSocket(const AdminContext& context,
                                         const AdminConnection::Request& request);

class PublisherStream final : public AdminConnection::Stream, private ws::FrameHandler {
 public:
  // `context` and `handlerThreads` outlive every connection.
  PublisherStream(const AdminContext& context, WorkerPool& handlerThreads);
  ~PublisherStream() override;

  void received(AdminConnection& connection, std::string& in) override;
  void stopping(AdminConnection& connection) override;

 private:
  // A frame of the current read, in order.
  struct Pending {
    std::optional<int64_t> id;
    hub::PublishError error = hub::PublishError::None;  // refused before publishing
    std::string message;
    std::string channel;
  };

  void onMessage(std::string_view payload, bool binary) override;
  void onPing(std::string_view payload) override;
  void onPong(std::string_view) override {}
  void onClose(uint16_t code, std::string_view reason) override;

  // Publishes what this read parsed and answers it.
  void publishPending(AdminConnection& connection);
  void answer(const std::vector<hub::PublishResult>& results);
  // Ends the stream with a close frame, written after the answers to
  // every frame received before the reason to close.
  void closeWith(uint16_t code, std::string_view reason);
  void takeCloseFrame();

  const AdminContext& context_;
  WorkerPool& handlerThreads_;
  ws::FrameParser frames_;
  PublishParser json_;
  // Checked by an answer coming back from a handler thread: the stream
  // (and its connection) still exist.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  AdminConnection* connection_ = nullptr;  // during received() and answers
  bool waiting_ = false;                   // a batch is on a handler thread
  bool closing_ = false;                   // a close frame is sent
  bool stopping_ = false;

  std::vector<Pending> pending_;
  std::vector<hub::Publication> publications_;
  std::string out_;         // answer frames of this read
  std::string closeFrame_;  // to follow them
};

}  // namespace wsr::admin
