// The demo page: the demo feed's market through the browser client, and
// nothing else (no framework, no request outside the router).
//
// Channels: `market` (the whole table, about once a second, retained),
// `sector:<name>` (every trade, so prices move between snapshots), `index`,
// `foreign`, `orderbook:<selected symbol>` (retained) and `user:demo` (alerts).
// For the browser tests, window.wsrouterDemo exposes the client and the seqs
// each channel delivered.

import { WsRouterClient } from './client.js';

const SPARK_POINTS = 60;
const MAX_NOTICES = 6;
const MAX_ALERTS = 30;
const GAP_GATHER_MS = 800; // gaps arriving together become one notice

const $ = (id) => document.getElementById(id);

const fmtPrice = (v) => (typeof v === 'number' ? v.toFixed(2) : '–');
const fmtSigned = (v, digits = 2) => (typeof v === 'number' ? `${v > 0 ? '+' : ''}${v.toFixed(digits)}` : '–');
const fmtMoney = (v) => {
  const a = Math.abs(v);
  const s = a >= 1e9 ? `${(a / 1e9).toFixed(2)}B` : a >= 1e6 ? `${(a / 1e6).toFixed(1)}M` : a >= 1e3 ? `${(a / 1e3).toFixed(0)}K` : `${a}`;
  return `${v < 0 ? '-' : ''}${s}`;
};
const fmtVolume = (v) => (typeof v === 'number' ? fmtMoney(v) : '–');
const trendClass = (v) => (v > 0 ? 'up' : v < 0 ? 'down' : 'flat');
const clock = (ms = Date.now()) => new Date(ms).toLocaleTimeString([], { hour12: false });

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// ---- State ---------------------------------------------------------------------

const rows = new Map(); // symbol -> { tr, price, change, volume, spark, points, last }
const subscribedSectors = new Set();
let selected = null;
const delivered = {}; // channel -> seqs given to the page (for the browser tests)

const client = new WsRouterClient({
  goingAwayDelayMs: 2000,
  onState: showState,
  onGap: noteGap,
  onError: (error) => {
    if (error.channel) notice('gap', `The router refused ${error.channel}: ${error.code} ${error.message || ''}`);
  },
});
window.wsrouterDemo = { client, delivered };

function track(handler) {
  return (message) => {
    (delivered[message.channel] ||= []).push(message.seq);
    handler(message);
  };
}

client.subscribe('market', track(onMarket));
client.subscribe('index', track(onIndex));
client.subscribe('foreign', track(onForeign));
client.subscribe('user:demo', track(onAlert));

// ---- Connection state and notices ---------------------------------------------------

let everOpen = false;
let lostAt = null;
let gapsSinceLoss = 0;

function showState(state, detail) {
  const badge = $('state');
  badge.dataset.state = state;
  let text = state;
  if (state === 'reconnecting' && detail.delayMs !== undefined) {
    text = `reconnecting (attempt ${detail.attempt}, in ${(detail.delayMs / 1000).toFixed(1)} s)`;
  }
  $('state-text').textContent = text;
  $('reconnects').textContent = String(client.stats.reconnects);
  if (state === 'reconnecting' && lostAt === null && everOpen) {
    lostAt = Date.now();
    gapsSinceLoss = 0;
    const why = detail.code === 1001 ? 'the router is going away (1001)'
      : detail.reason ? `${detail.reason}${detail.code ? ` (${detail.code})` : ''}`
        : `closed${detail.code ? ` (${detail.code})` : ''}`;
    notice('reconnect', `Connection lost: ${why}. Reconnecting by itself…`, 'lost');
  }
  if (state === 'open') {
    if (lostAt !== null) {
      const seconds = ((Date.now() - lostAt) / 1000).toFixed(1);
      lostAt = null;
      // Gaps (if any) are announced right after the resubscribe; wait a moment.
      setTimeout(() => {
        notice(gapsSinceLoss ? 'reconnect' : 'ok', gapsSinceLoss
          ? `Reconnected after ${seconds} s; some messages could not be recovered (see the gap notice).`
          : `Reconnected after ${seconds} s; every channel resumed from its last seq, no message lost.`,
        'reconnected');
      }, GAP_GATHER_MS);
    }
    everOpen = true;
  }
}

let pendingGaps = [];
let gapTimer = null;

function noteGap(gap) {
  gapsSinceLoss += 1;
  pendingGaps.push(gap);
  if (gapTimer) return;
  gapTimer = setTimeout(() => {
    const gaps = pendingGaps;
    pendingGaps = [];
    gapTimer = null;
    const resets = gaps.filter((g) => g.reason === 'reset');
    const others = gaps.filter((g) => g.reason !== 'reset');
    if (resets.length) {
      notice('gap', `Gap: the router restarted without shared history, so ${resets.length} channel${resets.length > 1 ? 's' : ''} (${resets.map((g) => g.channel).join(', ')}) started a new sequence; what was published meanwhile is not known.`, 'gap');
    }
    for (const g of others) {
      const range = g.to === null || g.to === undefined ? `from ${g.from}` : g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`;
      notice('gap', `Gap on ${g.channel}: message${g.from === g.to ? '' : 's'} ${range} not received (${g.reason}).`, 'gap');
    }
  }, GAP_GATHER_MS);
}

function notice(kind, text, tag = kind) {
  const box = $('notices');
  const item = el('div', { class: `notice ${kind}`, 'data-kind': tag, role: 'status' },
    el('time', {}, clock()), el('span', { class: 'text' }, text));
  box.prepend(item);
  while (box.children.length > MAX_NOTICES) box.lastElementChild.remove();
}

// Messages per second, from the client's own count.
let lastCount = 0;
setInterval(() => {
  const count = client.stats.received;
  $('rate').textContent = String(count - lastCount);
  lastCount = count;
}, 1000);

// ---- Market table ----------------------------------------------------------------------

function onMarket(message) {
  const symbols = message.data.symbols || [];
  if (!rows.size && symbols.length) buildTable(symbols);
  for (const s of symbols) updateRow(s, false);
  // Live trades per sector, once the sectors are known.
  for (const s of symbols) {
    if (s.sector && !subscribedSectors.has(s.sector)) {
      subscribedSectors.add(s.sector);
      client.subscribe(`sector:${s.sector}`, track((m) => updateRow(m.data, true)));
    }
  }
  if (!selected && symbols.length) select(symbols[0].symbol);
}

function buildTable(symbols) {
  const body = $('market-rows');
  body.textContent = '';
  for (const s of symbols) {
    const spark = document.createElementNS(SVG_NS, 'svg');
    spark.setAttribute('class', 'sparkline flat');
    spark.setAttribute('viewBox', '0 0 100 24');
    spark.setAttribute('preserveAspectRatio', 'none');
    spark.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS(SVG_NS, 'polyline');
    spark.append(line);
    const price = el('td', { class: 'num price' }, '–');
    const change = el('td', { class: 'num change' }, '–');
    const volume = el('td', { class: 'num vol' }, '–');
    const tr = el('tr', { tabindex: '0', 'data-symbol': s.symbol },
      el('td', { class: 'sym' }, el('b', {}, s.symbol), el('small', {}, s.market || '')),
      price, change, volume, el('td', { class: 'spark' }, spark));
    tr.addEventListener('click', () => select(s.symbol));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(s.symbol); } });
    body.append(tr);
    rows.set(s.symbol, { tr, price, change, volume, spark, line, points: [], last: null });
  }
}

// `trade`: a price_update (each trade) rather than the snapshot's summary.
function updateRow(s, trade) {
  const row = rows.get(s.symbol);
  if (!row || typeof s.price !== 'number') return;
  if (row.last !== null && s.price !== row.last) {
    const cls = s.price > row.last ? 'flash-up' : 'flash-down';
    row.price.classList.remove('flash-up', 'flash-down');
    void row.price.offsetWidth; // restart the animation
    row.price.classList.add(cls);
  }
  if (trade || row.last === null || s.price !== row.last) pushPoint(row, s.price);
  row.last = s.price;
  row.price.textContent = fmtPrice(s.price);
  row.change.replaceChildren(el('span', { class: 'abs' }, `${fmtSigned(s.change)} `),
    el('span', { class: 'pct' }, `(${fmtSigned(s.change_pct)}%)`));
  row.change.className = `num change ${trendClass(s.change)}`;
  row.volume.textContent = fmtVolume(s.volume);
}

function pushPoint(row, price) {
  row.points.push(price);
  if (row.points.length > SPARK_POINTS) row.points.shift();
  const pts = row.points;
  const lo = Math.min(...pts);
  const hi = Math.max(...pts);
  const span = hi - lo || 1;
  const step = 100 / Math.max(1, pts.length - 1);
  row.line.setAttribute('points', pts.map((p, i) => `${(i * step).toFixed(1)},${(22 - ((p - lo) / span) * 20).toFixed(1)}`).join(' '));
  row.spark.setAttribute('class', `sparkline ${trendClass(pts[pts.length - 1] - pts[0])}`);
}

// ---- Order book ------------------------------------------------------------------------

function select(symbol) {
  if (symbol === selected) return;
  if (selected) {
    client.unsubscribe(`orderbook:${selected}`);
    rows.get(selected)?.tr.classList.remove('selected');
  }
  selected = symbol;
  rows.get(symbol)?.tr.classList.add('selected');
  $('book-symbol').textContent = `${symbol} …`;
  $('book-symbol').dataset.symbol = '';
  $('bids').textContent = '';
  $('asks').textContent = '';
  $('book-spread').textContent = 'waiting for the order book…';
  client.subscribe(`orderbook:${symbol}`, track(onBook));
}

function onBook(message) {
  const book = message.data;
  if (book.symbol !== selected) return;
  $('book-symbol').textContent = `${book.symbol} · ${book.market || ''}`;
  $('book-symbol').dataset.symbol = book.symbol;
  const max = Math.max(1, ...book.bids.map((l) => l.size), ...book.asks.map((l) => l.size));
  const bar = (size) => {
    const b = el('span', { class: 'bar' });
    b.style.width = `${Math.round((size / max) * 100)}%`;
    return b;
  };
  $('bids').replaceChildren(...book.bids.map((l) => el('tr', {},
    el('td', { class: 'num' }, bar(l.size), String(l.size)), el('td', { class: 'num price' }, fmtPrice(l.price)))));
  $('asks').replaceChildren(...book.asks.map((l) => el('tr', {},
    el('td', { class: 'num price' }, fmtPrice(l.price)), el('td', { class: 'num' }, bar(l.size), String(l.size)))));
  if (book.bids.length && book.asks.length) {
    const spread = book.asks[0].price - book.bids[0].price;
    $('book-spread').textContent = `spread ${spread.toFixed(2)} · seq ${message.seq} · ${clock(message.ts)}`;
  }
}

// ---- Indices, foreign flow, alerts --------------------------------------------------

const indexCards = new Map();
let foreignCard = null;

function card(name) {
  const value = el('div', { class: 'value' }, '–');
  const change = el('div', { class: 'change' }, '');
  const node = el('div', { class: 'index-card', 'data-index': name }, el('div', { class: 'name' }, name), value, change);
  return { node, value, change };
}

function onIndex(message) {
  const box = $('indices');
  box.querySelector('.placeholder')?.remove();
  for (const index of message.data.indices || []) {
    let c = indexCards.get(index.index);
    if (!c) {
      c = card(index.index);
      indexCards.set(index.index, c);
      if (foreignCard) box.insertBefore(c.node, foreignCard.node); else box.append(c.node);
    }
    c.value.textContent = index.value.toFixed(2);
    c.change.textContent = `${fmtSigned(index.change)} (${fmtSigned(index.change_pct)}%)`;
    c.change.className = `change ${trendClass(index.change)}`;
  }
}

function onForeign(message) {
  const box = $('indices');
  box.querySelector('.placeholder')?.remove();
  if (!foreignCard) {
    foreignCard = card('Foreign net flow');
    box.append(foreignCard.node);
  }
  const net = message.data.net_value;
  foreignCard.value.textContent = fmtMoney(net);
  foreignCard.value.className = `value ${trendClass(net)}`;
  foreignCard.change.textContent = `buy ${fmtMoney(message.data.buy_value)} · sell ${fmtMoney(message.data.sell_value)}`;
}

function onAlert(message) {
  const list = $('alerts');
  list.querySelector('.placeholder')?.remove();
  const a = message.data;
  const item = el('li', { class: a.direction === 'down' ? 'down' : 'up' },
    el('time', {}, clock(message.ts)), a.message || `${a.symbol} ${a.direction} ${a.threshold_pct}%`);
  list.prepend(item);
  while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
}
