#pragma once
// The "key1=value1,key2=value2" lists of OTEL_EXPORTER_OTLP_HEADERS and
// OTEL_RESOURCE_ATTRIBUTES (the W3C Baggage format, without properties):
// whitespace around keys and values is trimmed and values are
// percent-decoded. A malformed entry is skipped with a warning that names
// the variable and the entry's position, never its value (headers carry API
// keys).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::telemetry {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

KeyValues parseKeyValueList(std::string_view text, std::string_view variable,
                            std::vector<std::string>& warnings);

// RFC 3986 percent-decoding ("%20" is a space, "+" stays "+"); false on a
// "%" not followed by two hex digits.
bool percentDecode(std::string_view text, std::string& out);

}  // namespace wsr::telemetry
