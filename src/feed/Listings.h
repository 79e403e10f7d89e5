#pragma once
// Which market each simulated symbol trades on, and where its price starts.
//
// The config gives symbols as `symbol: sector` pairs only, so the market is
// derived here, deterministically from the list:
//   1. a sector written as `sector@MARKET` (e.g. `tech@XNAS`) names it;
//   2. otherwise a symbol of the built-in demo list uses its real listing;
//   3. otherwise the remaining symbols alternate between the two markets in
//      config order, so both markets (and their indices) always have members.

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsr::feed {

// ISO 10383 market identifier codes of the two simulated markets.
inline constexpr std::string_view kNasdaq = "XNAS";
inline constexpr std::string_view kNyse = "XNYS";
inline constexpr std::array<std::string_view, 2> kDefaultMarkets = {kNasdaq, kNyse};

struct SymbolSpec {
  std::string symbol;
  std::string sector;
  std::string market;
  double referencePrice = 0;  // where the price starts; 0: the model draws one

  bool operator==(const SymbolSpec&) const = default;
};

// A symbol of the built-in demo list: its real listing and a plausible price.
struct Listing {
  std::string_view symbol;
  std::string_view sector;
  std::string_view market;
  double referencePrice;
};

// The demo's ~30 symbols (five sectors, two markets), in display order.
std::span<const Listing> demoListings();
// The listing of `symbol` in demoListings(), or nullptr.
const Listing* findListing(std::string_view symbol);

// Config pairs (symbol -> sector) to specs, by the rules above. A repeated
// symbol keeps its first entry.
std::vector<SymbolSpec> symbolSpecsFrom(
    const std::vector<std::pair<std::string, std::string>>& symbols);

}  // namespace wsr::feed
