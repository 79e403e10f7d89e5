#include "feed/FeedMessages.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

namespace wsr::feed {

namespace {

// Ordered, so payloads read in the documented field order.
using Json = nlohmann::ordered_json;

double roundTo(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  // + 0.0 turns -0.0 into 0.0, which would otherwise print as "-0.0".
  return std::round(value * scale) / scale + 0.0;
}

// Enough decimals to show the tick size exactly (0.01 -> 2), at least 2.
int priceDecimals(const MarketModel& model) {
  const double tick = model.params().tickSize;
  int decimals = 2;
  while (decimals < 8 && std::abs(tick * std::pow(10.0, decimals) -
                                  std::round(tick * std::pow(10.0, decimals))) > 1e-6) {
    ++decimals;
  }
  return decimals;
}

int64_t money(double value) {
  return std::llround(value);
}

Json levels(const std::array<BookLevel, kBookDepth>& side, int decimals) {
  Json out = Json::array();
  for (const BookLevel& level : side) {
    out.push_back({{"price", roundTo(level.price, decimals)}, {"size", level.size}});
  }
  return out;
}

Json netEntry(const SymbolState& state) {
  return {{"symbol", state.spec.symbol},
          {"market", state.spec.market},
          {"net_value", money(state.foreignBuyValue - state.foreignSellValue)}};
}

}  // namespace

std::string stockChannel(std::string_view symbol) {
  return "stock:" + std::string(symbol);
}
std::string orderBookChannel(std::string_view symbol) {
  return "orderbook:" + std::string(symbol);
}
std::string sectorChannel(std::string_view sector) {
  return "sector:" + std::string(sector);
}
std::string userChannel(std::string_view user) {
  return "user:" + std::string(user);
}

std::string priceUpdateJson(const MarketModel& model, size_t symbol, int64_t tsMs) {
  const SymbolState& s = model.symbol(symbol);
  const int d = priceDecimals(model);
  const Json data = {
      {"symbol", s.spec.symbol},
      {"market", s.spec.market},
      {"sector", s.spec.sector},
      {"price", roundTo(s.price, d)},
      {"size", s.lastSize},
      {"volume", s.volume},
      {"open", roundTo(s.open, d)},
      {"high", roundTo(s.high, d)},
      {"low", roundTo(s.low, d)},
      {"change", roundTo(s.change(), d)},
      {"change_pct", roundTo(s.changePct(), 2)},
      {"bid", roundTo(s.book.bids[0].price, d)},
      {"ask", roundTo(s.book.asks[0].price, d)},
      {"ts_exchange", tsMs},
  };
  return data.dump();
}

std::string orderBookJson(const MarketModel& model, size_t symbol, int64_t tsMs) {
  const SymbolState& s = model.symbol(symbol);
  const int d = priceDecimals(model);
  const Json data = {
      {"symbol", s.spec.symbol},        {"market", s.spec.market}, {"bids", levels(s.book.bids, d)},
      {"asks", levels(s.book.asks, d)}, {"ts_exchange", tsMs},
  };
  return data.dump();
}

std::string marketSnapshotJson(const MarketModel& model, int64_t tsMs) {
  const int d = priceDecimals(model);
  Json symbols = Json::array();
  for (const SymbolState& s : model.symbols()) {
    symbols.push_back({
        {"symbol", s.spec.symbol},
        {"market", s.spec.market},
        {"sector", s.spec.sector},
        {"price", roundTo(s.price, d)},
        {"open", roundTo(s.open, d)},
        {"high", roundTo(s.high, d)},
        {"low", roundTo(s.low, d)},
        {"change", roundTo(s.change(), d)},
        {"change_pct", roundTo(s.changePct(), 2)},
        {"volume", s.volume},
    });
  }

  // A sector's change is market-cap weighted, like the indices.
  Json sectors = Json::array();
  for (const std::string& sector : model.sectors()) {
    double capNow = 0;
    double capOpen = 0;
    uint64_t volume = 0;
    size_t count = 0;
    for (const SymbolState& s : model.symbols()) {
      if (s.spec.sector != sector) continue;
      capNow += s.shares * s.price;
      capOpen += s.shares * s.open;
      volume += s.volume;
      ++count;
    }
    const double pct = capOpen > 0 ? (capNow - capOpen) / capOpen * 100.0 : 0.0;
    sectors.push_back({{"sector", sector},
                       {"symbols", count},
                       {"change_pct", roundTo(pct, 2)},
                       {"volume", volume}});
  }

  Json markets = Json::array();
  size_t advancers = 0;
  size_t decliners = 0;
  size_t unchanged = 0;
  uint64_t totalVolume = 0;
  for (const std::string& market : model.markets()) {
    size_t up = 0;
    size_t down = 0;
    size_t flat = 0;
    uint64_t volume = 0;
    for (const SymbolState& s : model.symbols()) {
      if (s.spec.market != market) continue;
      // Compared in whole ticks: both prices lie on the tick grid.
      const long long ticks = std::llround(s.change() / model.params().tickSize);
      (ticks > 0 ? up : ticks < 0 ? down : flat) += 1;
      volume += s.volume;
    }
    advancers += up;
    decliners += down;
    unchanged += flat;
    totalVolume += volume;
    markets.push_back({{"market", market},
                       {"advancers", up},
                       {"decliners", down},
                       {"unchanged", flat},
                       {"volume", volume}});
  }

  const Json data = {
      {"step", model.steps()},  {"advancers", advancers}, {"decliners", decliners},
      {"unchanged", unchanged}, {"volume", totalVolume},  {"markets", markets},
      {"sectors", sectors},     {"symbols", symbols},     {"ts_exchange", tsMs},
  };
  return data.dump();
}

std::string indexJson(const MarketModel& model, int64_t tsMs) {
  Json indices = Json::array();
  for (const IndexValue& index : model.indices()) {
    Json entry = {{"index", index.id}};
    if (!index.market.empty()) entry["market"] = index.market;
    entry["value"] = roundTo(index.value, 2);
    entry["open"] = roundTo(index.open, 2);
    entry["change"] = roundTo(index.change(), 2);
    entry["change_pct"] = roundTo(index.changePct(), 2);
    entry["constituents"] = index.constituents;
    indices.push_back(std::move(entry));
  }
  const Json data = {{"indices", indices}, {"ts_exchange", tsMs}};
  return data.dump();
}

std::string foreignFlowJson(const MarketModel& model, int64_t tsMs) {
  const std::vector<FlowTotals> flows = model.foreignFlow();
  Json markets = Json::array();
  for (const FlowTotals& flow : flows) {
    if (flow.market.empty()) continue;
    markets.push_back({{"market", flow.market},
                       {"buy_value", money(flow.buyValue)},
                       {"sell_value", money(flow.sellValue)},
                       {"net_value", money(flow.netValue())}});
  }

  // The symbols with the largest net buying and net selling, largest first;
  // ties keep config order (stable sort), so the output is deterministic.
  std::vector<const SymbolState*> bySymbol;
  for (const SymbolState& s : model.symbols())
    bySymbol.push_back(&s);
  auto net = [](const SymbolState* s) { return s->foreignBuyValue - s->foreignSellValue; };
  std::stable_sort(bySymbol.begin(), bySymbol.end(),
                   [&](const SymbolState* a, const SymbolState* b) { return net(a) > net(b); });
  Json topBuy = Json::array();
  for (const SymbolState* s : bySymbol) {
    if (topBuy.size() == kTopFlows || money(net(s)) <= 0) break;
    topBuy.push_back(netEntry(*s));
  }
  Json topSell = Json::array();
  for (auto it = bySymbol.rbegin(); it != bySymbol.rend(); ++it) {
    if (topSell.size() == kTopFlows || money(net(*it)) >= 0) break;
    topSell.push_back(netEntry(**it));
  }

  const FlowTotals& total = flows.back();
  const Json data = {
      {"buy_value", money(total.buyValue)},
      {"sell_value", money(total.sellValue)},
      {"net_value", money(total.netValue())},
      {"markets", markets},
      {"top_net_buy", topBuy},
      {"top_net_sell", topSell},
      {"ts_exchange", tsMs},
  };
  return data.dump();
}

std::string alertJson(const MarketModel& model, const Alert& alert, std::string_view user,
                      int64_t tsMs) {
  const SymbolState& s = model.symbol(alert.symbol);
  const int d = priceDecimals(model);
  char message[160];
  std::snprintf(message, sizeof message, "%s %s %g%% since the open, at %.*f",
                s.spec.symbol.c_str(), alert.up ? "up" : "down", std::abs(alert.thresholdPct), d,
                alert.price);
  const Json data = {
      {"id", alert.id},
      {"user", user},
      {"kind", "price_move"},
      {"symbol", s.spec.symbol},
      {"market", s.spec.market},
      {"direction", alert.up ? "up" : "down"},
      {"threshold_pct", roundTo(alert.thresholdPct, 2)},
      {"price", roundTo(alert.price, d)},
      {"change_pct", roundTo(alert.changePct, 2)},
      {"message", message},
      {"ts_exchange", tsMs},
  };
  return data.dump();
}

}  // namespace wsr::feed
