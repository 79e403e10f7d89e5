#include "feed/Listings.h"

#include <set>

namespace wsr::feed {

namespace {

// Real primary listings; prices are round figures of the right size, only
// there so the demo page looks plausible.
constexpr Listing kListings[] = {
    {"AAPL", "tech", kNasdaq, 230},     {"MSFT", "tech", kNasdaq, 420},
    {"NVDA", "tech", kNasdaq, 140},     {"GOOG", "tech", kNasdaq, 170},
    {"META", "tech", kNasdaq, 580},     {"ORCL", "tech", kNyse, 170},
    {"IBM", "tech", kNyse, 230},        {"JPM", "finance", kNyse, 240},
    {"GS", "finance", kNyse, 580},      {"BAC", "finance", kNyse, 44},
    {"MS", "finance", kNyse, 130},      {"V", "finance", kNyse, 310},
    {"PYPL", "finance", kNasdaq, 80},   {"XOM", "energy", kNyse, 115},
    {"CVX", "energy", kNyse, 155},      {"COP", "energy", kNyse, 105},
    {"SLB", "energy", kNyse, 40},       {"FANG", "energy", kNasdaq, 160},
    {"JNJ", "health", kNyse, 155},      {"PFE", "health", kNyse, 26},
    {"MRK", "health", kNyse, 100},      {"AMGN", "health", kNasdaq, 290},
    {"GILD", "health", kNasdaq, 95},    {"AMZN", "consumer", kNasdaq, 210},
    {"TSLA", "consumer", kNasdaq, 350}, {"COST", "consumer", kNasdaq, 920},
    {"PEP", "consumer", kNasdaq, 150},  {"KO", "consumer", kNyse, 68},
    {"MCD", "consumer", kNyse, 290},    {"NKE", "consumer", kNyse, 75},
};

}  // namespace

std::span<const Listing> demoListings() {
  return kListings;
}

const Listing* findListing(std::string_view symbol) {
  for (const Listing& listing : demoListings()) {
    if (listing.symbol == symbol) return &listing;
  }
  return nullptr;
}

std::vector<SymbolSpec> symbolSpecsFrom(
    const std::vector<std::pair<std::string, std::string>>& symbols) {
  std::vector<SymbolSpec> specs;
  std::set<std::string, std::less<>> seen;
  size_t unlisted = 0;
  for (const auto& [symbol, sectorValue] : symbols) {
    if (!seen.insert(symbol).second) continue;
    SymbolSpec spec{symbol, sectorValue, "", 0};
    const size_t at = sectorValue.find('@');
    const Listing* listing = findListing(symbol);
    if (at != std::string::npos && at > 0 && at + 1 < sectorValue.size()) {
      spec.sector = sectorValue.substr(0, at);
      spec.market = sectorValue.substr(at + 1);
    } else if (listing != nullptr) {
      spec.market = listing->market;
    } else {
      spec.market = kDefaultMarkets[unlisted++ % kDefaultMarkets.size()];
    }
    if (listing != nullptr) spec.referencePrice = listing->referencePrice;
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace wsr::feed
