#include "admin/PublishRequest.h"

#include <simdjson.h>

#include <algorithm>
#include <optional>

#include "hub/ChannelName.h"

namespace wsr::admin {
namespace {

namespace od = simdjson::ondemand;
using hub::PublishError;

// Batch entries reserved at most before parsing (a body without a cap).
constexpr size_t kMostReserved = 4096;
// How much of a refused channel name an error message quotes.
constexpr size_t kMaxQuotedBytes = 140;

ParsedPublication refuse(PublishError error, std::string message) {
  ParsedPublication out;
  out.error = error;
  out.message = std::move(message);
  return out;
}

std::string quoteText(std::string_view text) {
  // Appended piece by piece: g++ 12 warns (-Wrestrict, a false positive) on
  // "'" + std::string(...) + "'".
  std::string out;
  out.reserve(kMaxQuotedBytes + 5);
  out += '\'';
  out.append(text.substr(0, kMaxQuotedBytes));
  if (text.size() > kMaxQuotedBytes) out += "...";
  out += '\'';
  return out;
}

// raw_json() of a container ends where the next token starts, so it carries
// the whitespace between the value and the following ',' or '}'. That
// whitespace is outside the value: dropping it leaves the value's bytes as sent.
std::string_view trimTrailingJsonSpace(std::string_view text) {
  while (!text.empty()) {
    const char c = text.back();
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    text.remove_suffix(1);
  }
  return text;
}

// The exact JSON text of `value`, consuming it.
simdjson::error_code rawJsonOf(od::value& value, std::string_view& out) {
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  std::string_view raw;
  if (type == od::json_type::object) {
    od::object object;
    if (auto error = value.get_object().get(object)) return error;
    if (auto error = object.raw_json().get(raw)) return error;
  } else if (type == od::json_type::array) {
    od::array array;
    if (auto error = value.get_array().get(array)) return error;
    if (auto error = array.raw_json().get(raw)) return error;
  } else {
    raw = value.raw_json_token();
  }
  out = trimTrailingJsonSpace(raw);
  return simdjson::SUCCESS;
}

// One field of a message as found: absent, present with the wrong JSON type,
// or a string.
struct StringField {
  bool present = false;
  bool isString = false;
  std::string text;
};

simdjson::error_code readStringField(od::value& value, StringField& field) {
  field.present = true;
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  if (type != od::json_type::string) return simdjson::SUCCESS;
  std::string_view text;
  if (auto error = value.get_string().get(text)) return error;
  field.isString = true;
  field.text = text;
  return simdjson::SUCCESS;
}

// The document was validated beforehand, so On-Demand errors here are not
// expected; should one happen anyway, it is still the publisher's body.
ParsedPublication malformed(simdjson::error_code error) {
  return refuse(PublishError::BadRequest,
                std::string("request body is not valid JSON: ") + simdjson::error_message(error));
}

// A publisher WebSocket frame's own fields, beside the publication's.
struct FrameFields {
  StringField op;
  bool idPresent = false;
  std::optional<int64_t> id;
  bool idValid = true;
};

ParsedPublication readMessage(od::object object, FrameFields* frame = nullptr) {
  StringField channel, type, key;
  std::optional<std::string_view> data;
  for (auto fieldResult : object) {
    od::field field;
    if (auto error = std::move(fieldResult).get(field)) return malformed(error);
    std::string_view name;
    if (auto error = field.unescaped_key().get(name)) return malformed(error);
    od::value value = field.value();
    // A repeated field would mean different things to different JSON
    // readers; refusing it leaves no doubt about what is published.
    auto once = [&](bool seen) {
      return seen ? std::optional(refuse(PublishError::BadRequest,
                                         "field '" + std::string(name) + "' appears twice"))
                  : std::nullopt;
    };
    simdjson::error_code error = simdjson::SUCCESS;
    if (name == "channel") {
      if (auto refused = once(channel.present)) return *refused;
      error = readStringField(value, channel);
    } else if (name == "type") {
      if (auto refused = once(type.present)) return *refused;
      error = readStringField(value, type);
    } else if (name == "key") {
      if (auto refused = once(key.present)) return *refused;
      error = readStringField(value, key);
    } else if (name == "data") {
      if (auto refused = once(data.has_value())) return *refused;
      std::string_view raw;
      error = rawJsonOf(value, raw);
      data = raw;
    } else if (frame != nullptr && name == "op") {
      if (auto refused = once(frame->op.present)) return *refused;
      error = readStringField(value, frame->op);
    } else if (frame != nullptr && name == "id") {
      if (auto refused = once(frame->idPresent)) return *refused;
      frame->idPresent = true;
      int64_t id = 0;
      if (value.get_int64().get(id)) {
        frame->idValid = false;
      } else {
        frame->id = id;
      }
    }
    // Unknown fields are ignored (PROTOCOL.md: add, never rename).
    if (error) return malformed(error);
  }

  // Checked in a fixed order, whatever the order of the fields.
  if (!channel.present) return refuse(PublishError::BadRequest, "field 'channel' is missing");
  if (!channel.isString)
    return refuse(PublishError::BadRequest, "field 'channel' must be a string");
  if (!hub::isValidChannelName(channel.text)) {
    return refuse(PublishError::InvalidChannel,
                  "field 'channel': " + quoteText(channel.text) +
                      " is not a valid channel name (namespace or namespace:rest, 1 to 128 "
                      "bytes of [A-Za-z0-9_.:@-])");
  }
  if (type.present && (!type.isString || !isValidMessageType(type.text))) {
    return refuse(PublishError::BadRequest,
                  "field 'type' must be a string of 1 to 64 bytes of [A-Za-z0-9_.-]");
  }
  if (key.present && !key.isString) {
    return refuse(PublishError::BadRequest, "field 'key' must be a string");
  }
  if (key.text.size() > kMaxKeyBytes) {
    return refuse(PublishError::BadRequest, "field 'key' is longer than 256 bytes");
  }
  if (!data) return refuse(PublishError::BadRequest, "field 'data' is missing");

  ParsedPublication out;
  out.publication.channel = std::move(channel.text);
  out.publication.channelChecked = true;  // above: the sink need not check it again
  if (type.present) out.publication.type = std::move(type.text);
  out.publication.key = std::move(key.text);
  out.publication.data = std::string(*data);
  return out;
}

}  // namespace

bool isValidMessageType(std::string_view type) {
  if (type.empty() || type.size() > kMaxTypeBytes) return false;
  for (char c : type) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

PublishParser::PublishParser() = default;
PublishParser::~PublishParser() = default;

// The whole text is validated with the DOM parser first (On-Demand checks
// only what is read); the padded copy is reused by the On-Demand pass.
ParsedPublication PublishParser::validate(std::string_view body) {
  const Text lent = paddedBody_;
  paddedBody_ = Text{};  // lent for one call
  if (lent.data != nullptr && body.data() == lent.data && body.size() == lent.size) {
    text_ = lent;  // parsed where it lies: its padding was reserved
  } else {
    padded_.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    padded_.assign(body);
    text_ = {padded_.data(), padded_.size(), padded_.capacity()};
  }
  simdjson::dom::element root;
  if (auto error = dom_.parse(text_.data, text_.size, false).get(root)) {
    return refuse(PublishError::BadRequest,
                  std::string("request body is not valid JSON: ") + simdjson::error_message(error));
  }
  if (!root.is_object()) {
    return refuse(PublishError::BadRequest, "request body must be a JSON object");
  }
  return {};
}

simdjson::error_code PublishParser::iterate(od::object& object) {
  od::document& document = document_;
  if (auto error = ondemand_.iterate(text_.data, text_.size, text_.capacity).get(document)) {
    return error;
  }
  return document.get_object().get(object);
}

void PublishParser::lend(const std::string& body) {
  paddedBody_ = body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING
                    ? Text{body.data(), body.size(), body.capacity()}
                    : Text{};
}

ParsedPublication PublishParser::publication(std::string_view body) {
  if (ParsedPublication invalid = validate(body); !invalid.ok()) return invalid;
  od::object object;
  if (auto error = iterate(object)) return malformed(error);
  return readMessage(object);
}

ParsedFrame PublishParser::frame(std::string_view payload) {
  ParsedFrame out;
  if (ParsedPublication invalid = validate(payload); !invalid.ok()) {
    out.publication = std::move(invalid);
    out.publication.message.replace(0, std::string_view("request body").size(), "frame");
    return out;
  }
  od::object object;
  if (auto error = iterate(object)) {
    out.publication = malformed(error);
    return out;
  }
  FrameFields frame;
  ParsedPublication read = readMessage(object, &frame);
  // The id first: a refusal must name the frame it refuses.
  if (frame.idValid) out.id = frame.id;
  if (!frame.idValid) {
    out.publication = refuse(PublishError::BadRequest, "field 'id' must be an integer");
  } else if (!frame.op.present) {
    out.publication = refuse(PublishError::BadRequest, "field 'op' is missing");
  } else if (!frame.op.isString || frame.op.text != "publish") {
    out.publication = refuse(PublishError::BadRequest, "field 'op' must be \"publish\"");
  } else {
    out.publication = std::move(read);
  }
  return out;
}

ParsedBatch PublishParser::batch(std::string_view body, size_t maxMessages) {
  ParsedBatch batch;
  auto fail = [&batch](ParsedPublication refused) {
    batch.error = refused.error;
    batch.message = std::move(refused.message);
    batch.messages.clear();
    return std::move(batch);
  };
  if (ParsedPublication invalid = validate(body); !invalid.ok()) return fail(invalid);
  od::object root;
  if (auto error = iterate(root)) return fail(malformed(error));

  bool seen = false;
  for (auto fieldResult : root) {
    od::field field;
    if (auto error = std::move(fieldResult).get(field)) return fail(malformed(error));
    std::string_view name;
    if (auto error = field.unescaped_key().get(name)) return fail(malformed(error));
    if (name != "messages") continue;
    if (seen) return fail(refuse(PublishError::BadRequest, "field 'messages' appears twice"));
    seen = true;
    od::value value = field.value();
    od::json_type type;
    if (auto error = value.type().get(type)) return fail(malformed(error));
    if (type != od::json_type::array) {
      return fail(refuse(PublishError::BadRequest, "field 'messages' must be an array"));
    }
    od::array messages;
    if (auto error = value.get_array().get(messages)) return fail(malformed(error));
    // A message takes 30 bytes of body at the least: room for what this
    // body can hold, within the cap, so the entries are not moved as the
    // vector grows.
    batch.messages.reserve(std::min({maxMessages, body.size() / 30 + 1, kMostReserved}));
    for (auto elementResult : messages) {
      if (batch.messages.size() == maxMessages) {
        return fail(
            refuse(PublishError::TooLarge, "batch has more than admin.max_batch_messages (" +
                                               std::to_string(maxMessages) + ") messages"));
      }
      od::value element;
      if (auto error = elementResult.get(element)) return fail(malformed(error));
      od::json_type elementType;
      if (auto error = element.type().get(elementType)) return fail(malformed(error));
      if (elementType != od::json_type::object) {
        batch.messages.push_back(refuse(PublishError::BadRequest, "message must be a JSON object"));
        continue;
      }
      od::object object;
      if (auto error = element.get_object().get(object)) return fail(malformed(error));
      batch.messages.push_back(readMessage(object));
    }
  }
  if (!seen) return fail(refuse(PublishError::BadRequest, "field 'messages' is missing"));
  return batch;
}

}  // namespace wsr::admin

namespace wsr::admin {

ParsedPublication parsePublishBody(std::string_view body) {
  return PublishParser().publication(body);
}

ParsedFrame parsePublishFrame(std::string_view payload) {
  return PublishParser().frame(payload);
}

ParsedBatch parseBatchBody(std::string_view body, size_t maxMessages) {
  return PublishParser().batch(body, maxMessages);
}

}  // namespace wsr::admin
