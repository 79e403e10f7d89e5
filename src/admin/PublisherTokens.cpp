#include "admin/PublisherTokens.h"

namespace wsr::admin {

PublisherTokens::PublisherTokens(std::string path)
    : file_(std::move(path), [this](const std::string& content, std::string& error) {
        auto tokens = auth::TokenSet::parse(content, "publisher token file", error);
        if (!tokens) return false;
        tokens_.store(std::move(tokens));
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return true;
      }) {}

bool PublisherTokens::verify(std::string_view token) const {
  const auto tokens = tokens_.load();
  return tokens && tokens->contains(token);
}

size_t PublisherTokens::size() const {
  const auto tokens = tokens_.load();
  return tokens ? tokens->size() : 0;
}

}  // namespace wsr::admin
