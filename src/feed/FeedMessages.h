#pragma once
// The demo feed's channels, message types and payloads (the `data` of each
// publication), built from a MarketModel's state. The shapes are documented
// in src/feed/README.md; fields may be added, never renamed or removed
// (PROTOCOL.md). Payloads carry no `seq`: the hub assigns it.
//
// Prices are rounded to the tick size's decimals, percentages to 2 decimals,
// index values to 2 decimals, money values (foreign flow) to whole units.
// Timestamps (`ts_exchange`) are milliseconds since the epoch, given by the
// caller, so these functions stay pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feed/MarketModel.h"

namespace wsr::feed {

// Channels (PROTOCOL.md's channel table).
inline constexpr std::string_view kMarketChannel = "market";
inline constexpr std::string_view kIndexChannel = "index";
inline constexpr std::string_view kForeignChannel = "foreign";
inline constexpr std::string_view kDemoUser = "demo";   // alerts go to user:demo
std::string stockChannel(std::string_view symbol);      // "stock:AAPL"
std::string orderBookChannel(std::string_view symbol);  // "orderbook:AAPL"
std::string sectorChannel(std::string_view sector);     // "sector:tech"
std::string userChannel(std::string_view user);         // "user:demo"

// Message types (the data message's `type`).
inline constexpr std::string_view kPriceUpdate = "price_update";
inline constexpr std::string_view kOrderBookUpdate = "orderbook_update";
inline constexpr std::string_view kMarketSnapshot = "market_snapshot";
inline constexpr std::string_view kIndexUpdate = "index_update";
inline constexpr std::string_view kForeignFlow = "foreign_flow";
inline constexpr std::string_view kAlert = "alert";

// How many symbols foreign_flow lists as top net buys and top net sells.
inline constexpr size_t kTopFlows = 5;

std::string priceUpdateJson(const MarketModel& model, size_t symbol, int64_t tsMs);
std::string orderBookJson(const MarketModel& model, size_t symbol, int64_t tsMs);
std::string marketSnapshotJson(const MarketModel& model, int64_t tsMs);
std::string indexJson(const MarketModel& model, int64_t tsMs);
std::string foreignFlowJson(const MarketModel& model, int64_t tsMs);
std::string alertJson(const MarketModel& model, const Alert& alert, std::string_view user,
                      int64_t tsMs);

}  // namespace wsr::feed
