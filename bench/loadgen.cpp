// Broadcast load generator: one epoll thread, its own minimal WebSocket client.
//
// Opens N receiver connections (spread over source addresses 127.0.0.1 ..
// 127.0.0.K, ramped with a bounded number of handshakes in flight) and one
// publisher connection. The publisher sends text messages of S bytes, each
// carrying a sequence number and its send time; the server under test is
// expected to broadcast every message to every connection (the publisher
// included). Receivers count frames and bytes, check per-connection sequence
// continuity, and sample latency (receive time - send time).
//
// Publishing is either at a fixed rate (--rate R, messages per second) or
// saturating (--rate 0): at most W broadcasts in flight, a broadcast being in
// flight until the publisher receives its own copy back.
//
// Output: one JSON line on stdout. Diagnostics on stderr.
//
// Cheapness per received frame (the loadgen must outrun the server):
// level-triggered epoll, one recv() of up to --read-size bytes per readiness
// event into one shared buffer, frames parsed in place (only a partial tail
// frame is copied aside), no allocation per frame, one clock_gettime() per
// recv() (the latency of every frame of that read is measured against the
// time the read returned), latency recorded only for every k-th connection
// into a log-linear histogram.
//
// Payload layout (text, S >= 26 bytes): 8 hex digits sequence number, ' ',
// 16 hex digits CLOCK_MONOTONIC send time in ns, ' ', then 'x' padding.
//
// Router mode (--admin-port P): the server is wsrouter. Receivers connect to
// --path (e.g. /ws/bench, a dedicated endpoint) or, with --subscribe, to /ws
// and send a subscribe op for --channel. Publishers are HTTP/1.1 keep-alive
// connections to the admin port (--publishers; cpp-httplib does not take
// pipelined requests, so each keeps one request in flight), sending
// POST /api/v1/publish, or /api/v1/publish/batch with --per-request B
// publications per request, whose data is
// {"s":"<8 hex>","t":"<16 hex monotonic ns>","p":"<padding>"} of --size bytes.
// Receivers check the router's per-channel `seq` (from 1, in order) and
// sample two latencies: from the publisher's send time (exact, includes the
// HTTP request) and from the router's `ts` (the moment it accepted the
// publication; milliseconds of CLOCK_REALTIME). A seq a receiver does not get
// is excused (missing_covered) only by a `gap` message naming it that arrives
// before the next data message after it, or, for the seqs after its last
// one, before the end (the last seq is the highest the publish answers
// gave); any other is missing_uncovered, its jump a seq gap. In saturating
// mode a publication is in flight until the first receiver (connected first,
// alone, so the first the router writes to, as the floor's publisher is) has
// it, or was told by a `gap` that it will not come. A publication answered
// 429 (or OVERLOADED in a batch's results) is counted as refused, not
// retried, and no publisher sends again before the answer's Retry-After (1 s
// without one); what the fixed rate makes due meanwhile is withheld, not
// sent later. The server's resident memory is sampled once a
// second over the measured window. --deflate offers permessage-deflate; a
// compressed frame is inflated only as far as its envelope (seq, ts, t).
//
// Idle mode (--idle S): connect everything, then hold the connections S
// seconds without publishing and report the server's resident memory before
// and after connecting.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

uint64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int64_t realtimeMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

[[noreturn]] void die(const char* fmt, const char* arg = "") {
  std::fprintf(stderr, "loadgen: ");
  std::fprintf(stderr, fmt, arg);
  std::fprintf(stderr, "\n");
  std::printf("{\"error\":\"");
  std::printf(fmt, arg);
  std::printf("\"}\n");
  std::fflush(stdout);
  std::_Exit(1);
}

// ---- Options -----------------------------------------------------------------

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/";
  unsigned n = 1000;            // receivers
  unsigned sources = 0;         // source addresses; 0: ceil(n / 5000)
  size_t size = 200;            // payload bytes
  double rate = 0;              // messages/s; 0: saturating
  unsigned window = 8;          // saturating: broadcasts in flight
  unsigned batch = 0;           // saturating: max messages per publisher write; 0: window
  double duration = 10;         // measured seconds (after warm-up); 0: until --messages
  double warmup = 1;            // seconds published but not measured
  uint64_t messages = 0;        // stop after this many messages (0: by duration)
  double drain = 5;             // seconds to wait for the last deliveries
  double timeout = 0;           // total; 0: derived
  unsigned rampInflight = 256;  // handshakes in flight while connecting
  unsigned sampleEvery = 0;     // latency from every k-th receiver; 0: n/100
  size_t readSize = 256 * 1024;
  int serverPid = 0;      // to report the server's CPU use over the window
  bool busyPoll = false;  // spin on epoll_wait(0) instead of sleeping in it
  bool verbose = false;
  // Router mode.
  uint16_t adminPort = 0;  // non-zero: the server is wsrouter, publish through its API
  std::string token;       // publisher token
  std::string channel = "bench";
  bool subscribe = false;   // receivers subscribe by message on --path instead of /ws/<channel>
  bool deflate = false;     // receivers offer permessage-deflate
  double idle = 0;          // seconds to hold idle connections (no publishing); 0: off
  unsigned publishers = 0;  // HTTP connections publishing, one request in flight each; 0: derived
  unsigned perRequest = 1;  // publications per request; more than 1: POST /api/v1/publish/batch

  bool router() const { return adminPort != 0; }
};

void usage() {
  std::fprintf(stderr,
               "usage: loadgen --port P [--host 127.0.0.1] [--path /] [--n 1000] [--sources K]\n"
               "  [--size 200] [--rate 0] [--window 8] [--batch W] [--duration 10] [--warmup 1]\n"
               "  [--messages M] [--drain 5] [--timeout S] [--ramp 256] [--sample-every k]\n"
               "  [--read-size 262144] [--server-pid PID] [--busy-poll] [--verbose]\n"
               "  router mode: --admin-port P [--token T] [--channel bench] [--subscribe]\n"
               "  [--deflate] [--idle S] [--publishers K] [--per-request B]\n");
}

double parseNumber(const char* flag, const char* value) {
  char* end = nullptr;
  const double parsed = std::strtod(value, &end);
  if (end == value || *end != '\0' || parsed < 0) die("bad number for %s", flag);
  return parsed;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  bool messagesGiven = false;
  bool warmupGiven = false;
  bool durationGiven = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (flag == "--busy-poll") {
      o.busyPoll = true;
      continue;
    }
    if (flag == "--subscribe") {
      o.subscribe = true;
      continue;
    }
    if (flag == "--deflate") {
      o.deflate = true;
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc) {
      usage();
      die("%s needs a value", argv[i]);
    }
    const char* v = argv[++i];
    if (flag == "--host")
      o.host = v;
    else if (flag == "--path")
      o.path = v;
    else if (flag == "--port")
      o.port = static_cast<uint16_t>(parseNumber(argv[i - 1], v));
    else if (flag == "--n")
      o.n = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--sources")
      o.sources = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--size")
      o.size = static_cast<size_t>(parseNumber(argv[i - 1], v));
    else if (flag == "--rate")
      o.rate = parseNumber(argv[i - 1], v);
    else if (flag == "--window")
      o.window = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--batch")
      o.batch = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--duration")
      o.duration = parseNumber(argv[i - 1], v), durationGiven = true;
    else if (flag == "--warmup")
      o.warmup = parseNumber(argv[i - 1], v), warmupGiven = true;
    else if (flag == "--messages")
      o.messages = static_cast<uint64_t>(parseNumber(argv[i - 1], v)), messagesGiven = true;
    else if (flag == "--drain")
      o.drain = parseNumber(argv[i - 1], v);
    else if (flag == "--timeout")
      o.timeout = parseNumber(argv[i - 1], v);
    else if (flag == "--ramp")
      o.rampInflight = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--sample-every")
      o.sampleEvery = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--read-size")
      o.readSize = static_cast<size_t>(parseNumber(argv[i - 1], v));
    else if (flag == "--server-pid")
      o.serverPid = static_cast<int>(parseNumber(argv[i - 1], v));
    else if (flag == "--admin-port")
      o.adminPort = static_cast<uint16_t>(parseNumber(argv[i - 1], v));
    else if (flag == "--token")
      o.token = v;
    else if (flag == "--channel")
      o.channel = v;
    else if (flag == "--idle")
      o.idle = parseNumber(argv[i - 1], v);
    else if (flag == "--publishers")
      o.publishers = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else if (flag == "--per-request")
      o.perRequest = static_cast<unsigned>(parseNumber(argv[i - 1], v));
    else {
      usage();
      die("unknown option %s", argv[i - 1]);
    }
  }
  if (o.port == 0) {
    usage();
    die("--port is required");
  }
  if (o.n == 0) die("--n must be at least 1");
  if (o.size < (o.router() ? 48u : 26u)) {
    die("--size must be at least 26 (48 in router mode): sequence, timestamp, padding");
  }
  if ((o.subscribe || o.deflate || o.idle > 0) && !o.router()) {
    die("--subscribe, --deflate and --idle need --admin-port (router mode)");
  }
  if (o.window == 0) o.window = 1;
  if (o.batch == 0) o.batch = o.window;
  if (o.rampInflight == 0) o.rampInflight = 1;
  if (o.readSize < 16384) o.readSize = 16384;
  if (messagesGiven && !durationGiven) o.duration = 0;  // bounded by count alone
  if (messagesGiven && !warmupGiven) o.warmup = 0;
  if (o.idle <= 0 && o.messages == 0 && o.duration <= 0) die("give --duration or --messages");
  // cpp-httplib (the admin server) does not support HTTP pipelining: every
  // publish request in flight needs a keep-alive connection of its own.
  // The admin server closes a keep-alive connection idle for a second, so the
  // publishers take turns (round robin) and are few at a fixed rate.
  if (o.perRequest == 0) o.perRequest = 1;
  if (o.publishers == 0) {
    o.publishers = o.rate > 0 ? 2 : std::max(1u, o.window / o.perRequest);
  }
  if (!o.router()) o.publishers = 1;
  if (o.idle > 0) o.publishers = 0;  // nothing is published
  if (o.sources == 0) o.sources = (o.n + 4999) / 5000;
  if (o.sources > 254) o.sources = 254;
  // About 100 receivers time their messages: enough samples for p99.9 at any
  // rate here, at a cost per frame the load generator can afford for all.
  if (o.sampleEvery == 0) o.sampleEvery = std::max(1u, o.n / 100);
  if (o.timeout <= 0) o.timeout = o.warmup + o.duration + o.drain + 60 + o.n / 500.0;
  return o;
}

// ---- Latency histogram (log-linear, ~1.6 % resolution, nanoseconds) ------------

class Histogram {
 public:
  void record(uint64_t v) {
    ++counts_[index(v)];
    ++total_;
    if (v > max_) max_ = v;
  }
  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  // The value at quantile q (the middle of its bucket).
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return std::min(middle(i), max_);
    }
    return max_;
  }

 private:
  static constexpr unsigned kSubBits = 6;
  static constexpr size_t kBuckets = (64 - kSubBits) * (1u << kSubBits) + (2u << kSubBits);
  static size_t index(uint64_t v) {
    if (v < (2u << kSubBits)) return static_cast<size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - kSubBits;
    return static_cast<size_t>(shift) * (1u << kSubBits) + static_cast<size_t>(v >> shift);
  }
  static uint64_t middle(size_t i) {
    if (i < (2u << kSubBits)) return i;
    const size_t shift = i / (1u << kSubBits) - 1;
    const uint64_t sub = i - shift * (1u << kSubBits);
    return (sub << shift) + ((1ull << shift) >> 1);
  }
  uint64_t counts_[kBuckets] = {};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

// ---- Small helpers -------------------------------------------------------------

uint64_t rngState = 0x9E3779B97F4A7C15ull;
uint64_t nextRandom() {
  // xorshift64*: masks and keys need no cryptographic quality here.
  rngState ^= rngState >> 12;
  rngState ^= rngState << 25;
  rngState ^= rngState >> 27;
  return rngState * 2685821657736338717ull;
}

std::string base64(const unsigned char* data, size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string acceptFor(const std::string& key) {
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1) {
    die("EVP_Digest(sha1) failed");
  }
  return base64(digest, len);
}

int8_t hexValue[256];
void initHex() {
  std::memset(hexValue, -1, sizeof hexValue);
  for (int c = '0'; c <= '9'; ++c)
    hexValue[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c)
    hexValue[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c)
    hexValue[c] = static_cast<int8_t>(c - 'A' + 10);
}
// Parses `digits` hex digits; false if any is not a hex digit.
inline bool parseHex(const char* p, int digits, uint64_t& out) {
  uint64_t v = 0;
  int bad = 0;
  for (int i = 0; i < digits; ++i) {
    const int8_t d = hexValue[static_cast<unsigned char>(p[i])];
    bad |= d;
    v = (v << 4) | static_cast<uint64_t>(d & 0xf);
  }
  out = v;
  return bad >= 0;
}
inline void writeHex(char* p, int digits, uint64_t v) {
  static const char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = kDigits[v & 0xf];
    v >>= 4;
  }
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// Process CPU seconds (user + system) of `pid` from /proc/<pid>/stat; -1 if unreadable.
double processCpuSeconds(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  char buf[2048];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  if (p == nullptr) return -1;
  // Fields after the name: state(3) ... utime(14) stime(15).
  unsigned long utime = 0;
  unsigned long stime = 0;
  int field = 2;
  const char* cursor = p + 1;
  while (*cursor != '\0' && field < 15) {
    while (*cursor == ' ')
      ++cursor;
    ++field;
    if (field == 14) utime = std::strtoul(cursor, nullptr, 10);
    if (field == 15) stime = std::strtoul(cursor, nullptr, 10);
    while (*cursor != '\0' && *cursor != ' ')
      ++cursor;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Busy CPU seconds of the whole machine (all CPUs, everything but idle and iowait).
double machineBusySeconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  unsigned long long v[10] = {};
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                              &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
  std::fclose(f);
  if (got < 8) return -1;
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Busy seconds of one CPU (everything but idle and iowait), from /proc/stat.
double cpuBusySeconds(int cpu) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  char line[512];
  char want[32];
  std::snprintf(want, sizeof want, "cpu%d ", cpu);
  double result = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, want, std::strlen(want)) != 0) continue;
    unsigned long long v[10] = {};
    if (std::sscanf(line + std::strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) >= 8) {
      result = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
               static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    break;
  }
  std::fclose(f);
  return result;
}

// The one CPU `pid` is pinned to, or -1.
int pinnedCpu(int pid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(pid, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) return i;
  }
  return -1;
}

// Resident memory of `pid` in KiB (VmRSS), or -1.
long residentKib(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtol(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib;
}

// Parses the decimal digits at `p` (at most `end`); false if there are none.
inline bool parseDecimal(const char*& p, const char* end, uint64_t& out) {
  const char* start = p;
  uint64_t v = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    v = v * 10 + static_cast<uint64_t>(*p - '0');
    ++p;
  }
  out = v;
  return p != start;
}

double selfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// ---- Connections -----------------------------------------------------------------

enum class State : uint8_t { Idle, Connecting, Handshaking, Open, Dead };

struct Conn {
  int fd = -1;
  State state = State::Idle;
  bool publisher = false;
  bool sample = false;
  bool haveSeq = false;
  uint32_t source = 1;   // 127.0.0.<source>
  uint64_t nextSeq = 0;  // expected sequence number
  uint64_t frames = 0;   // data frames received (ours)
  std::string key;       // handshake key, then cleared
  std::string head;      // handshake response bytes, then cleared
  std::string tail;      // a partial frame carried over to the next read
  // Publishers: bytes not yet written.
  std::string out;
  size_t outAt = 0;
  bool wantOut = false;
  bool awaiting = false;      // router mode: a publish request awaits its response
  uint64_t requestFirst = 0;  // our number of the request's first publication
  uint64_t requestSentNs = 0;
  // Router mode: seq ranges the router said this connection will not get
  // (`gap` messages), at or after nextSeq, sorted and disjoint. A hole in
  // the seqs is excused by the ranges received before the data after it.
  std::vector<std::pair<uint64_t, uint64_t>> announced;
};

struct Totals {
  uint64_t frames = 0;            // data frames received by receivers (not the publisher)
  uint64_t bytes = 0;             // their wire bytes (header + payload)
  uint64_t gaps = 0;              // sequence discontinuities not excused by `gap` messages
  uint64_t coveredJumps = 0;      // discontinuities every skipped seq of which was announced
  uint64_t missing = 0;           // messages skipped over by all discontinuities
  uint64_t missingCovered = 0;    // of those, announced by a `gap` message in time
  uint64_t missingUncovered = 0;  // of those, never announced (lost silently, or too late)
  uint64_t staleGapSeqs = 0;      // seqs a `gap` named after they arrived or were judged
  uint64_t gapOverload = 0;       // `gap` messages by reason
  uint64_t gapSlowConsumer = 0;
  uint64_t gapOtherReason = 0;
  uint64_t foreign = 0;              // data frames not in our payload format
  uint64_t control = 0;              // pings and other control frames received
  uint64_t gapMessages = 0;          // router mode: `gap` messages received
  uint64_t publisherReconnects = 0;  // router mode: idle keep-alive closes, connected again
  uint64_t recvCalls = 0;
  uint64_t epollWaits = 0;
  uint64_t waitNs = 0;  // time spent inside epoll_wait
};

class LoadGen {
 public:
  explicit LoadGen(const Options& o) : o_(o) {
    buffer_.resize(o_.readSize + 65536);
    sockaddr_in& a = dest_;
    a.sin_family = AF_INET;
    a.sin_port = htons(o_.port);
    if (inet_pton(AF_INET, o_.host.c_str(), &a.sin_addr) != 1) {
      die("--host must be a numeric IPv4 address in 127.0.0.0/8, got %s", o_.host.c_str());
    }
    if ((ntohl(a.sin_addr.s_addr) >> 24) != 127) {
      die("refusing to connect outside 127.0.0.0/8: %s", o_.host.c_str());
    }
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1: %s", std::strerror(errno));
    conns_.resize(o_.n + o_.publishers);
    for (unsigned i = 0; i < o_.n; ++i) {
      conns_[i].source = 1 + i % o_.sources;
      conns_[i].sample = (i % o_.sampleEvery) == 0;
      if (o_.router()) conns_[i].nextSeq = 1;  // a fresh channel's first seq
    }
    publisher_ = o_.n;
    for (size_t i = publisher_; i < conns_.size(); ++i) {
      conns_[i].publisher = true;
      conns_[i].source = 1;
    }
    frame_.resize(o_.size + 14);
    payloadTemplate_.assign(o_.size, 'x');
    payloadTemplate_[8] = ' ';
    payloadTemplate_[25] = ' ';
    if (o_.router()) {
      adminDest_ = dest_;
      adminDest_.sin_port = htons(o_.adminPort);
      signal_ = 0;
      buildPublishTemplate();
      routerHead_ = "{\"type\":\"bench\",\"channel\":\"";
      routerHead_.append(o_.channel).append("\",\"seq\":");
      if (inflateInit2(&inflater_, -15) != Z_OK) die("inflateInit2 failed");
    }
  }
  ~LoadGen() {
    if (o_.router()) inflateEnd(&inflater_);
  }
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  int run();

 private:
  void startConnect(size_t index);
  void onEvent(size_t index, uint32_t events);
  void onConnected(size_t index);
  void onHandshakeData(size_t index, const char* data, size_t len);
  void readOpen(size_t index);
  // Parses frames in [data, data+len); returns the bytes consumed.
  size_t parseFrames(size_t index, const char* data, size_t len, uint64_t now);
  void fail(size_t index, const char* what);
  void pump(uint64_t now);
  void appendMessage(size_t index, uint64_t now);
  void flushPublisher(size_t index);
  void sendControl(size_t index, uint8_t opcode, const char* payload, size_t len);
  // Router mode.
  void buildPublishTemplate();
  // True for a publication (counted as a delivery), false for the rest.
  bool parseRouterMessage(size_t index, const char* text, size_t len, uint64_t now);
  bool parseRouterMessageAnyOrder(std::string_view message, uint64_t& seq, uint64_t& ts,
                                  uint64_t& ours, uint64_t& sentAt);
  void onSeq(Conn& c, uint64_t seq);
  void onGap(size_t index, std::string_view message);
  void judgeHole(Conn& c, uint64_t to);
  // Judges what each receiver has not got up to the channel's last seq.
  void judgeTails();
  // Every receiver has every seq up to the last, or was told it will not.
  bool allSettled() const;
  uint64_t lastSeq() const { return std::max(lastSeq_, maxSeqSeen_); }
  void readPublisher(size_t index);
  // A 200's results, one per publication of the request; false on an error
  // other than OVERLOADED.
  bool readPublishResults(Conn& c, std::string_view body);
  void refuse(uint64_t first, uint64_t count);
  // Refused publications (never delivered) still counted in flight.
  uint64_t refusedInFlight();
  int runIdle(double connectSeconds);

  const Options& o_;
  int epoll_ = -1;
  sockaddr_in dest_{};
  std::vector<Conn> conns_;
  size_t publisher_ = 0;  // the first publisher; router mode: publishers from here to the end
  std::vector<char> buffer_;

  // Connect phase.
  size_t nextToConnect_ = 0;
  unsigned handshakesInFlight_ = 0;
  size_t openCount_ = 0;
  bool failed_ = false;

  // Publishing.
  bool publishing_ = false;
  uint64_t sent_ = 0;    // messages handed to the publisher's output
  uint64_t echoed_ = 0;  // publisher's own copies received back
  uint64_t publishStartNs_ = 0;
  std::string frame_;
  std::string payloadTemplate_;

  // Router mode.
  sockaddr_in adminDest_{};
  size_t signal_ = 0;            // the receiver whose receipts end a publication's flight
  std::string requestTemplate_;  // one publish request, hex fields to fill in
  // Offsets of each message's 8 hex seq and 16 hex time digits in it.
  std::vector<std::pair<size_t, size_t>> fieldsAt_;
  uint64_t acked_ = 0;    // publications the router accepted (a seq in the answer)
  uint64_t refused_ = 0;  // publications answered 429 or OVERLOADED: not published
  // Publications the fixed rate made due while the router's Retry-After held
  // the publishers back: not sent (a refused publication is not retried).
  uint64_t withheld_ = 0;
  uint64_t holdUntilNs_ = 0;  // no request before this (Retry-After)
  bool warnedRefused_ = false;
  bool warnedGap_ = false;
  // Our numbers of refused publications [first, end) that may still count in flight.
  std::vector<std::pair<uint64_t, uint64_t>> refusedRanges_;
  // Saturating: our number + 1 of each router seq (0: not answered yet), so
  // that a publication the router announces as a gap to the signal receiver
  // ends its flight like a delivered one.
  std::vector<uint64_t> oursBySeq_;
  uint64_t lastSeq_ = 0;        // the highest seq the publish answers gave
  uint64_t maxSeqSeen_ = 0;     // the highest seq a receiver got
  unsigned nextPublisher_ = 0;  // round robin over the publishers
  z_stream inflater_{};
  char envelope_[512];  // a compressed frame's first bytes, inflated
  // How the router's data messages begin, up to the seq's digits.
  std::string routerHead_;
  uint64_t realtimeReadAt_ = 0;  // the recv() time realtimeNowMs_ was read for
  int64_t realtimeNowMs_ = 0;
  Histogram tsLatency_;
  // Publish requests, from the write to the answer: whether the publishers
  // could offer the rate asked of them.
  Histogram publishRtt_;
  long rssEmptyKib_ = -1;  // the server's resident memory before any connection

  // Measurement.
  bool measuring_ = false;
  Totals totals_;
  Histogram latency_;
};

void LoadGen::startConnect(size_t index) {
  Conn& c = conns_[index];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) die("socket: %s", std::strerror(errno));
  const int on = 1;
  // The ephemeral port is chosen at connect() time from the full 4-tuple, so
  // many source addresses multiply the usable ports.
  setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl((127u << 24) | c.source);
  if (bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    die("bind to 127.0.0.x: %s", std::strerror(errno));
  }
  const sockaddr_in& dest = c.publisher && o_.router() ? adminDest_ : dest_;
  if (connect(c.fd, reinterpret_cast<const sockaddr*>(&dest), sizeof dest) != 0 &&
      errno != EINPROGRESS) {
    die("connect: %s", std::strerror(errno));
  }
  c.state = State::Connecting;
  ++handshakesInFlight_;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = index;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl: %s", std::strerror(errno));
}

void LoadGen::fail(size_t index, const char* what) {
  Conn& c = conns_[index];
  std::fprintf(stderr,
               "loadgen: connection %zu (%s): %s (errno %s); sent %" PRIu64
               ", acknowledged %" PRIu64 ", echoed %" PRIu64 "\n",
               index, c.publisher ? "publisher" : "receiver", what, std::strerror(errno), sent_,
               acked_, echoed_);
  if (c.fd >= 0) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
  }
  c.fd = -1;
  if (c.state == State::Connecting || c.state == State::Handshaking) --handshakesInFlight_;
  if (c.state == State::Open) --openCount_;
  c.state = State::Dead;
  failed_ = true;
}

void LoadGen::onConnected(size_t index) {
  Conn& c = conns_[index];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    errno = err;
    fail(index, "connect failed");
    return;
  }
  if (c.publisher && o_.router()) {  // plain HTTP: open as soon as connected
    c.state = State::Open;
    --handshakesInFlight_;
    ++openCount_;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    return;
  }
  unsigned char raw[16];
  for (int i = 0; i < 16; i += 8) {
    const uint64_t r = nextRandom();
    std::memcpy(raw + i, &r, 8);
  }
  c.key = base64(raw, sizeof raw);
  char host[64];
  std::snprintf(host, sizeof host, "%s:%u", o_.host.c_str(), o_.port);
  const std::string request =
      "GET " + o_.path + " HTTP/1.1\r\nHost: " + host +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: " +
      c.key + "\r\nSec-WebSocket-Version: 13\r\n" +
      (o_.deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "") + "\r\n";
  const ssize_t n = ::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(request.size())) {
    fail(index, "sending the handshake request");
    return;
  }
  c.state = State::Handshaking;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = index;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

void LoadGen::onHandshakeData(size_t index, const char* data, size_t len) {
  Conn& c = conns_[index];
  c.head.append(data, len);
  const size_t end = c.head.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.head.size() > 16384) fail(index, "handshake response too long");
    return;
  }
  const std::string_view head(c.head.data(), end + 2);
  if (head.substr(0, 13) != "HTTP/1.1 101 ") {
    const size_t eol = head.find("\r\n");
    std::fprintf(stderr, "loadgen: expected 101, got: %.*s\n", static_cast<int>(eol), head.data());
    fail(index, "handshake refused");
    return;
  }
  bool acceptOk = false;
  bool deflateOk = false;
  const std::string expected = acceptFor(c.key);
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    const size_t eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    if (startsWithNoCase(line, "sec-websocket-accept:")) {
      std::string_view value = line.substr(21);
      while (!value.empty() && value.front() == ' ')
        value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      acceptOk = value == expected;
    }
    if (startsWithNoCase(line, "sec-websocket-extensions:") &&
        line.find("permessage-deflate") != std::string_view::npos) {
      deflateOk = true;
    }
    pos = eol + 2;
  }
  if (!acceptOk) {
    fail(index, "bad Sec-WebSocket-Accept");
    return;
  }
  if (o_.deflate && !deflateOk) {
    fail(index, "permessage-deflate offered but not accepted");
    return;
  }
  const std::string rest = c.head.substr(end + 4);
  std::string().swap(c.head);
  std::string().swap(c.key);
  c.state = State::Open;
  --handshakesInFlight_;
  ++openCount_;
  if (o_.subscribe) {
    std::string op = "{\"op\":\"subscribe\",\"id\":1,\"channels\":[\"";
    op.append(o_.channel).append("\"]}");
    sendControl(index, 0x1, op.data(), op.size());
  }
  if (!rest.empty()) {
    const size_t used = parseFrames(index, rest.data(), rest.size(), nowNs());
    c.tail.assign(rest, used, std::string::npos);
  }
}

void LoadGen::sendControl(size_t index, uint8_t opcode, const char* payload, size_t len) {
  if (len > 125) len = 125;
  char out[2 + 4 + 125];
  out[0] = static_cast<char>(0x80 | opcode);
  out[1] = static_cast<char>(0x80 | len);
  const uint32_t mask = static_cast<uint32_t>(nextRandom());
  std::memcpy(out + 2, &mask, 4);
  const auto* m = reinterpret_cast<const unsigned char*>(&mask);
  for (size_t i = 0; i < len; ++i)
    out[6 + i] = static_cast<char>(payload[i] ^ m[i & 3]);
  const size_t total = 6 + len;
  if (conns_[index].publisher) {
    conns_[index].out.append(out, total);
    flushPublisher(index);
  } else {
    // Receivers never write otherwise: a control answer that does not fit is dropped.
    [[maybe_unused]] ssize_t n = ::send(conns_[index].fd, out, total, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

size_t LoadGen::parseFrames(size_t index, const char* data, size_t len, uint64_t now) {
  Conn& c = conns_[index];
  size_t pos = 0;
  uint64_t frames = 0;
  uint64_t bytes = 0;
  while (len - pos >= 2) {
    const auto b0 = static_cast<unsigned char>(data[pos]);
    const auto b1 = static_cast<unsigned char>(data[pos + 1]);
    if ((b1 & 0x80) != 0) {
      fail(index, "masked frame from the server");
      return len;
    }
    size_t header = 2;
    uint64_t payloadLen = b1 & 0x7f;
    if (payloadLen == 126) {
      if (len - pos < 4) break;
      payloadLen = (static_cast<uint64_t>(static_cast<unsigned char>(data[pos + 2])) << 8) |
                   static_cast<unsigned char>(data[pos + 3]);
      header = 4;
    } else if (payloadLen == 127) {
      if (len - pos < 10) break;
      payloadLen = 0;
      for (int i = 0; i < 8; ++i) {
        payloadLen = (payloadLen << 8) | static_cast<unsigned char>(data[pos + 2 + i]);
      }
      header = 10;
    }
    if (len - pos - header < payloadLen) break;  // partial frame: keep for the next read
    const char* payload = data + pos + header;
    const unsigned opcode = b0 & 0x0f;
    const size_t frameBytes = header + payloadLen;
    pos += frameBytes;
    if (o_.router() && opcode == 0x1) {
      const char* text = payload;
      size_t textLen = static_cast<size_t>(payloadLen);
      if ((b0 & 0x40) != 0) {  // RSV1: compressed; inflate just the envelope
        inflateReset(&inflater_);
        inflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload));
        inflater_.avail_in = static_cast<uInt>(payloadLen);
        inflater_.next_out = reinterpret_cast<Bytef*>(envelope_);
        inflater_.avail_out = sizeof envelope_;
        const int rc = inflate(&inflater_, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
          fail(index, "inflate failed");
          return len;
        }
        text = envelope_;
        textLen = sizeof envelope_ - inflater_.avail_out;
      }
      if (parseRouterMessage(index, text, textLen, now)) {
        ++frames;
        bytes += frameBytes;
      }
      continue;
    }
    if (opcode == 0x1 || opcode == 0x2 || opcode == 0x0) {
      uint64_t seq = 0;
      uint64_t sentAt = 0;
      if (payloadLen < 25 || !parseHex(payload, 8, seq) || !parseHex(payload + 9, 16, sentAt)) {
        ++totals_.foreign;
        continue;
      }
      if (c.publisher) {
        if (seq + 1 > echoed_) echoed_ = seq + 1;
        continue;
      }
      ++frames;
      bytes += frameBytes;
      if (c.haveSeq && seq != c.nextSeq) {
        ++totals_.gaps;
        if (seq > c.nextSeq) totals_.missing += seq - c.nextSeq;
      } else if (!c.haveSeq && seq != 0) {
        ++totals_.gaps;
        totals_.missing += seq;
      }
      c.haveSeq = true;
      c.nextSeq = seq + 1;
      if (c.sample && measuring_ && now >= sentAt) latency_.record(now - sentAt);
    } else if (opcode == 0x9) {
      ++totals_.control;
      sendControl(index, 0xA, payload, static_cast<size_t>(payloadLen));
    } else if (opcode == 0x8) {
      ++totals_.control;
      fail(index, "close frame from the server");
      return len;
    } else {
      ++totals_.control;
    }
  }
  c.frames += frames;
  totals_.frames += frames;
  totals_.bytes += bytes;
  return pos;
}

// A router message: {"type":"bench","channel":..,"seq":N,"ts":MS,"data":{"s":..,"t":"<hex>",..
// or a control message of the protocol (welcome, subscribed, gap...). `text`
// may be only the message's beginning (an inflated prefix).
bool LoadGen::parseRouterMessage(size_t index, const char* text, size_t len, uint64_t now) {
  Conn& c = conns_[index];
  const std::string_view message(text, len);
  uint64_t seq = 0;
  uint64_t ts = 0;
  uint64_t ours = 0;
  uint64_t sentAt = 0;
  // Latency and flight accounting need the fields after seq; every other
  // receiver needs seq alone. The router writes its envelope in one order
  // (type, channel, seq, ts, data), so they are read where they stand; a
  // message of any other shape takes the general path below.
  const bool details = index == signal_ || (c.sample && measuring_);
  const std::string_view head = routerHead_;
  bool parsed = false;
  if (message.starts_with(head)) {
    const char* p = text + head.size();
    const char* end = text + len;
    constexpr std::string_view kTs = ",\"ts\":";
    constexpr std::string_view kOurs = ",\"data\":{\"s\":\"";
    constexpr std::string_view kTime = "\",\"t\":\"";
    parsed = parseDecimal(p, end, seq);
    if (parsed && details) {
      auto skip = [&](std::string_view literal) {
        if (static_cast<size_t>(end - p) < literal.size() ||
            std::string_view(p, literal.size()) != literal) {
          return false;
        }
        p += literal.size();
        return true;
      };
      parsed = skip(kTs) && parseDecimal(p, end, ts) && skip(kOurs) && end - p >= 8 &&
               parseHex(p, 8, ours) && (p += 8, skip(kTime)) && end - p >= 16 &&
               parseHex(p, 16, sentAt);
    }
  }
  if (!parsed && message.starts_with("{\"type\":\"gap\"")) {
    onGap(index, message);
    return false;
  }
  if (!parsed && !parseRouterMessageAnyOrder(message, seq, ts, ours, sentAt)) return false;
  onSeq(c, seq);
  if (!details) return true;
  // Our own numbering ends a publication's flight (the router's seq would
  // not start at 0 on a channel used before).
  if (index == signal_ && ours + 1 > echoed_) echoed_ = ours + 1;
  if (c.sample && measuring_) {
    if (now >= sentAt) latency_.record(now - sentAt);
    // One wall-clock read per recv(), like the monotonic one.
    if (now != realtimeReadAt_) {
      realtimeReadAt_ = now;
      realtimeNowMs_ = realtimeMs();
    }
    const int64_t lateMs = realtimeNowMs_ - static_cast<int64_t>(ts);
    tsLatency_.record(static_cast<uint64_t>(std::max<int64_t>(0, lateMs)) * 1000000);
  }
  return true;
}

// The general path: the fields found by name, in any order. Control
// messages of the protocol (welcome, subscribed, gap...) end here too.
bool LoadGen::parseRouterMessageAnyOrder(std::string_view message, uint64_t& seq, uint64_t& ts,
                                         uint64_t& ours, uint64_t& sentAt) {
  if (!message.starts_with("{\"type\":\"bench\",")) {
    ++totals_.control;  // welcome, subscribed, pong...
    return false;
  }
  const char* text = message.data();
  const char* end = text + message.size();
  const size_t seqKey = message.find(",\"seq\":");
  const size_t tsKey = message.find(",\"ts\":");
  const size_t ourKey = message.find("\"s\":\"");
  const size_t timeKey = message.find("\"t\":\"");
  if (seqKey == std::string_view::npos || tsKey == std::string_view::npos ||
      ourKey == std::string_view::npos || timeKey == std::string_view::npos ||
      timeKey + 5 + 16 > message.size()) {
    ++totals_.foreign;
    return false;
  }
  const char* seqText = text + seqKey + 7;
  const char* tsText = text + tsKey + 6;
  if (!parseDecimal(seqText, end, seq) || !parseDecimal(tsText, end, ts) ||
      !parseHex(text + ourKey + 5, 8, ours) || !parseHex(text + timeKey + 5, 16, sentAt)) {
    ++totals_.foreign;
    return false;
  }
  return true;
}

// A data message's seq, against the seqs before it and the `gap` messages
// received so far on the connection.
void LoadGen::onSeq(Conn& c, uint64_t seq) {
  if (seq > maxSeqSeen_) maxSeqSeen_ = seq;
  if (seq == c.nextSeq && c.announced.empty()) {
    c.nextSeq = seq + 1;
    return;
  }
  if (seq < c.nextSeq) {  // a duplicate, or out of order: never excused
    ++totals_.gaps;
    return;
  }
  if (seq > c.nextSeq) judgeHole(c, seq - 1);
  c.nextSeq = seq + 1;
  // What was announced is judged now: what is left starts after this seq.
  auto& a = c.announced;
  a.erase(std::remove_if(a.begin(), a.end(), [&](const auto& r) { return r.second < c.nextSeq; }),
          a.end());
  for (auto& r : a)
    r.first = std::max(r.first, c.nextSeq);
}

// Seqs c.nextSeq..to did not arrive: missing, covered as far as `gap`
// messages received so far announced them.
void LoadGen::judgeHole(Conn& c, uint64_t to) {
  const uint64_t hole = to - c.nextSeq + 1;
  uint64_t covered = 0;
  for (const auto& [from, until] : c.announced) {
    if (from > to) break;
    covered += std::min(until, to) - std::max(from, c.nextSeq) + 1;
  }
  totals_.missing += hole;
  totals_.missingCovered += covered;
  totals_.missingUncovered += hole - covered;
  if (covered == hole) {
    ++totals_.coveredJumps;
  } else {
    ++totals_.gaps;
  }
}

// {"type":"gap","channel":..,"from":F,"to":T,"reason":".."}: seqs F..T
// (inclusive) will not come.
void LoadGen::onGap(size_t index, std::string_view message) {
  Conn& c = conns_[index];
  ++totals_.gapMessages;
  auto number = [&](std::string_view key, uint64_t& out) {
    const size_t at = message.find(key);
    if (at == std::string_view::npos) return false;
    const char* p = message.data() + at + key.size();
    return parseDecimal(p, message.data() + message.size(), out);
  };
  uint64_t from = 0;
  uint64_t to = 0;
  if (!number("\"from\":", from) || !number("\"to\":", to) || from == 0 || from > to) {
    ++totals_.foreign;
    if (!warnedGap_) {
      warnedGap_ = true;
      std::fprintf(stderr, "loadgen: a gap message without a valid from..to range: %.*s\n",
                   static_cast<int>(std::min<size_t>(message.size(), 200)), message.data());
    }
    return;
  }
  const size_t reasonAt = message.find("\"reason\":\"");
  const std::string_view reason =
      reasonAt == std::string_view::npos ? std::string_view() : message.substr(reasonAt + 10);
  if (reason.starts_with("overload\"")) {
    ++totals_.gapOverload;
  } else if (reason.starts_with("slow_consumer\"")) {
    ++totals_.gapSlowConsumer;
  } else {
    ++totals_.gapOtherReason;
  }
  if (index == signal_ && o_.rate <= 0) {
    // Saturating: an announced publication is out of flight, as if delivered.
    for (uint64_t s = from; s <= to && s < oursBySeq_.size(); ++s)
      echoed_ = std::max(echoed_, oursBySeq_[s]);
  }
  if (from < c.nextSeq) {  // already received, or its hole already judged
    totals_.staleGapSeqs += std::min(to, c.nextSeq - 1) - from + 1;
    if (to < c.nextSeq) return;
    from = c.nextSeq;
  }
  auto& a = c.announced;
  a.emplace_back(from, to);
  if (a.size() == 1) return;
  std::sort(a.begin(), a.end());
  size_t kept = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    if (a[i].first <= a[kept].second + 1) {
      a[kept].second = std::max(a[kept].second, a[i].second);
    } else {
      a[++kept] = a[i];
    }
  }
  a.resize(kept + 1);
}

void LoadGen::judgeTails() {
  const uint64_t last = lastSeq();
  for (unsigned i = 0; i < o_.n; ++i) {
    Conn& c = conns_[i];
    if (c.nextSeq <= last) {
      judgeHole(c, last);
      c.nextSeq = last + 1;
      c.announced.clear();
    }
  }
}

bool LoadGen::allSettled() const {
  const uint64_t last = lastSeq();
  for (unsigned i = 0; i < o_.n; ++i) {
    const Conn& c = conns_[i];
    if (c.nextSeq > last) continue;
    // The ranges are merged and start at nextSeq or later.
    if (c.announced.empty() || c.announced[0].first > c.nextSeq || c.announced[0].second < last) {
      return false;
    }
  }
  return true;
}

// The publish request, built once: each publication copies it and writes its
// sequence number and send time into the hex fields.
void LoadGen::buildPublishTemplate() {
  std::string data = "{\"s\":\"00000000\",\"t\":\"0000000000000000\",\"p\":\"";
  // Padding that compresses like market data (about 3:1), not like "xxxx".
  uint64_t state = 0x2545F4914F6CDD1Dull;
  char entry[48];
  while (data.size() + 2 < o_.size) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const int n = std::snprintf(
        entry, sizeof entry, "S%03u:%u.%02u:%u;", static_cast<unsigned>(state % 500),
        static_cast<unsigned>((state >> 12) % 900 + 10), static_cast<unsigned>((state >> 24) % 100),
        static_cast<unsigned>((state >> 32) % 5000));
    data.append(entry, static_cast<size_t>(n));
  }
  data.resize(o_.size - 2);
  data += "\"}";
  // Built by appending: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
  std::string message = "{\"channel\":\"";
  message.append(o_.channel).append("\",\"type\":\"bench\",\"data\":").append(data).append("}");
  std::string body;
  if (o_.perRequest == 1) {
    body = message;
  } else {  // POST /api/v1/publish/batch
    body = "{\"messages\":[";
    for (unsigned i = 0; i < o_.perRequest; ++i) {
      if (i > 0) body += ',';
      body += message;
    }
    body += "]}";
  }
  char host[64];
  std::snprintf(host, sizeof host, "%s:%u", o_.host.c_str(), o_.adminPort);
  requestTemplate_ = o_.perRequest == 1 ? "POST /api/v1/publish HTTP/1.1\r\nHost: "
                                        : "POST /api/v1/publish/batch HTTP/1.1\r\nHost: ";
  requestTemplate_.append(host)
      .append("\r\nAuthorization: Bearer ")
      .append(o_.token)
      .append("\r\nContent-Type: application/json\r\nContent-Length: ")
      .append(std::to_string(body.size()))
      .append("\r\n\r\n");
  size_t at = requestTemplate_.size();
  requestTemplate_ += body;
  for (unsigned i = 0; i < o_.perRequest; ++i) {
    const size_t seqAt = requestTemplate_.find("\"s\":\"", at) + 5;
    const size_t timeAt = requestTemplate_.find("\"t\":\"", seqAt) + 5;
    fieldsAt_.emplace_back(seqAt, timeAt);
    at = timeAt;
  }
}

// The publisher's HTTP responses: 200 (a batch's results may refuse
// publications OVERLOADED), or 429; anything else ends the run.
void LoadGen::readPublisher(size_t index) {
  Conn& c = conns_[index];
  const ssize_t n = ::recv(c.fd, buffer_.data(), o_.readSize, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n == 0 && !c.awaiting && c.tail.empty()) {
      // The admin server closes a keep-alive connection idle for a second
      // (while the router drains a backlog, say): ordinary HTTP. pump()
      // connects it again when it is next needed.
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
      c.state = State::Idle;
      --openCount_;
      ++totals_.publisherReconnects;
      return;
    }
    fail(index, n == 0 ? "admin server closed the connection" : "recv (publisher)");
    return;
  }
  std::string& in = c.tail;
  in.append(buffer_.data(), static_cast<size_t>(n));
  size_t pos = 0;
  for (;;) {
    const size_t end = in.find("\r\n\r\n", pos);
    if (end == std::string::npos) break;
    const std::string_view head(in.data() + pos, end - pos);
    size_t length = 0;
    long retryAfter = -1;  // seconds; -1: none or not a number
    for (size_t line = head.find("\r\n"); line != std::string_view::npos;
         line = head.find("\r\n", line + 2)) {
      const std::string_view rest = head.substr(line + 2);
      if (startsWithNoCase(rest, "content-length:")) {
        length = std::strtoul(std::string(rest.substr(15, 12)).c_str(), nullptr, 10);
      } else if (startsWithNoCase(rest, "retry-after:")) {
        const std::string value(rest.substr(12, std::min<size_t>(rest.size(), 40) - 12));
        char* after = nullptr;
        const long seconds = std::strtol(value.c_str(), &after, 10);
        if (after != value.c_str() && seconds >= 0) retryAfter = seconds;
      }
    }
    if (end + 4 + length > in.size()) break;
    const std::string_view body(in.data() + end + 4, length);
    const auto statusLine = static_cast<int>(head.find("\r\n"));
    const uint64_t refusedBefore = refused_;
    if (head.starts_with("HTTP/1.1 429")) {
      refuse(c.requestFirst, o_.perRequest);
    } else if (!head.starts_with("HTTP/1.1 200") || !readPublishResults(c, body)) {
      std::fprintf(stderr, "loadgen: publish answered %.*s: %.*s\n", statusLine, head.data(),
                   static_cast<int>(length), body.data());
      fail(index, "publish failed");
      return;
    }
    if (refused_ > refusedBefore) {
      // Overloaded (429, or OVERLOADED results in a batch): these
      // publications are not published and not retried; nothing is sent
      // before the Retry-After the router asked for (1 s when it gave none
      // that is a number of seconds).
      const long holdS = retryAfter >= 0 ? retryAfter : 1;
      holdUntilNs_ =
          std::max<uint64_t>(holdUntilNs_, nowNs() + static_cast<uint64_t>(holdS) * 1000000000ull);
      if (!warnedRefused_) {
        warnedRefused_ = true;
        std::fprintf(stderr,
                     "loadgen: publish answered %.*s (%.*s), Retry-After %s: counted as refused, "
                     "publishing again in %ld s\n",
                     statusLine, head.data(), static_cast<int>(std::min<size_t>(length, 300)),
                     body.data(), retryAfter >= 0 ? "given" : "missing or not seconds", holdS);
      }
    }
    c.awaiting = false;
    publishRtt_.record(nowNs() - c.requestSentNs);
    pos = end + 4 + length;
  }
  in.erase(0, pos);
}

// {"channel":..,"seq":N}, or {"results":[...]} of those and
// {"error":{"code":..,"message":..}} in the order of the request's publications.
bool LoadGen::readPublishResults(Conn& c, std::string_view body) {
  constexpr std::string_view kSeq = "\"seq\":";
  constexpr std::string_view kError = "{\"error\":{\"code\":\"";
  size_t at = 0;
  for (uint64_t i = 0; i < o_.perRequest; ++i) {
    const size_t seqAt = body.find(kSeq, at);
    const size_t errorAt = body.find(kError, at);
    if (seqAt == std::string_view::npos && errorAt == std::string_view::npos) return false;
    if (seqAt < errorAt) {
      const char* p = body.data() + seqAt + kSeq.size();
      uint64_t seq = 0;
      if (!parseDecimal(p, body.data() + body.size(), seq)) return false;
      ++acked_;
      lastSeq_ = std::max(lastSeq_, seq);
      if (o_.rate <= 0) {
        if (seq >= oursBySeq_.size())
          oursBySeq_.resize(std::max<size_t>(seq + 1, 2 * oursBySeq_.size()));
        oursBySeq_[seq] = c.requestFirst + i + 1;
      }
      at = static_cast<size_t>(p - body.data());
      continue;
    }
    const std::string_view code = body.substr(errorAt + kError.size());
    if (!code.starts_with("OVERLOADED\"")) return false;
    refuse(c.requestFirst + i, 1);
    at = errorAt + kError.size();
    // The message may quote anything: the next result starts after its end.
    const size_t close = body.find("\"}}", at);
    if (close == std::string_view::npos) return false;
    at = close + 3;
  }
  return true;
}

void LoadGen::refuse(uint64_t first, uint64_t count) {
  refused_ += count;
  if (o_.rate <= 0) refusedRanges_.emplace_back(first, first + count);
}

uint64_t LoadGen::refusedInFlight() {
  auto& r = refusedRanges_;
  r.erase(std::remove_if(r.begin(), r.end(), [&](const auto& x) { return x.second <= echoed_; }),
          r.end());
  uint64_t count = 0;
  for (const auto& [first, end] : r)
    count += end - std::max(first, echoed_);
  return count;
}

void LoadGen::readOpen(size_t index) {
  Conn& c = conns_[index];
  // A partial frame from the last read goes first, then the new bytes after it.
  size_t have = c.tail.size();
  if (have + o_.readSize > buffer_.size()) buffer_.resize(have + o_.readSize);
  if (have > 0) std::memcpy(buffer_.data(), c.tail.data(), have);
  const ssize_t n = ::recv(c.fd, buffer_.data() + have, o_.readSize, 0);
  ++totals_.recvCalls;
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    fail(index, n == 0 ? "server closed the connection" : "recv");
    return;
  }
  const uint64_t now = nowNs();
  have += static_cast<size_t>(n);
  const size_t used = parseFrames(index, buffer_.data(), have, now);
  if (c.state != State::Open) return;
  if (used < have) {
    c.tail.assign(buffer_.data() + used, have - used);
  } else if (!c.tail.empty()) {
    c.tail.clear();
  }
}

void LoadGen::onEvent(size_t index, uint32_t events) {
  Conn& c = conns_[index];
  switch (c.state) {
    case State::Connecting:
      onConnected(index);
      return;
    case State::Handshaking: {
      const ssize_t n = ::recv(c.fd, buffer_.data(), o_.readSize, 0);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        fail(index, n == 0 ? "closed during the handshake" : "recv during the handshake");
        return;
      }
      onHandshakeData(index, buffer_.data(), static_cast<size_t>(n));
      return;
    }
    case State::Open:
      if ((events & EPOLLOUT) != 0 && c.publisher) flushPublisher(index);
      if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && c.state == State::Open) {
        if (c.publisher && o_.router()) {
          readPublisher(index);
        } else {
          readOpen(index);
        }
      }
      return;
    default:
      return;
  }
}

void LoadGen::appendMessage(size_t index, uint64_t now) {
  std::string& out = conns_[index].out;
  if (o_.router()) {
    conns_[index].requestFirst = sent_;
    const size_t at = out.size();
    out += requestTemplate_;
    for (const auto& [seqAt, timeAt] : fieldsAt_) {
      writeHex(out.data() + at + seqAt, 8, sent_);
      writeHex(out.data() + at + timeAt, 16, now);
      ++sent_;
    }
    return;
  }
  // Payload: seq (8 hex), ' ', send time (16 hex), ' ', padding. Masked client frame.
  const size_t len = o_.size;
  char* p = frame_.data();
  size_t header = 2;
  p[0] = static_cast<char>(0x81);
  if (len < 126) {
    p[1] = static_cast<char>(0x80 | len);
  } else if (len < 65536) {
    p[1] = static_cast<char>(0x80 | 126);
    p[2] = static_cast<char>(len >> 8);
    p[3] = static_cast<char>(len & 0xff);
    header = 4;
  } else {
    p[1] = static_cast<char>(0x80 | 127);
    for (int i = 0; i < 8; ++i)
      p[2 + i] = static_cast<char>((static_cast<uint64_t>(len) >> (56 - 8 * i)) & 0xff);
    header = 10;
  }
  const uint32_t mask = static_cast<uint32_t>(nextRandom());
  std::memcpy(p + header, &mask, 4);
  char* payload = p + header + 4;
  std::memcpy(payload, payloadTemplate_.data(), len);
  writeHex(payload, 8, sent_);
  writeHex(payload + 9, 16, now);
  const auto* m = reinterpret_cast<const unsigned char*>(&mask);
  for (size_t i = 0; i < len; ++i)
    payload[i] = static_cast<char>(payload[i] ^ m[i & 3]);
  out.append(p, header + 4 + len);
  ++sent_;
}

void LoadGen::flushPublisher(size_t index) {
  Conn& c = conns_[index];
  while (c.outAt < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.outAt, c.out.size() - c.outAt, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail(index, "publisher send");
      return;
    }
    c.outAt += static_cast<size_t>(n);
  }
  const bool pending = c.outAt < c.out.size();
  if (!pending) {
    c.out.clear();
    c.outAt = 0;
  }
  if (pending != c.wantOut) {
    c.wantOut = pending;
    epoll_event ev{};
    ev.events = EPOLLIN | (pending ? EPOLLOUT : 0u);
    ev.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }
}

void LoadGen::pump(uint64_t now) {
  if (!publishing_ || (!o_.router() && conns_[publisher_].wantOut)) return;
  uint64_t allowed = 0;
  const uint64_t done = sent_ + withheld_;
  if (o_.rate > 0) {
    const double elapsed = static_cast<double>(now - publishStartNs_) / 1e9;
    const auto due = static_cast<uint64_t>(elapsed * o_.rate) + 1;
    allowed = due > done ? due - done : 0;
  } else {
    const uint64_t inFlight = sent_ - echoed_ - (refusedRanges_.empty() ? 0 : refusedInFlight());
    allowed = inFlight < o_.window ? o_.window - inFlight : 0;
    if (allowed > o_.batch) allowed = o_.batch;
  }
  if (o_.messages > 0 && done + allowed > o_.messages) allowed = o_.messages - done;
  if (allowed == 0) return;
  if (now < holdUntilNs_) {
    // The router's Retry-After: what falls due meanwhile is not published,
    // and the fixed rate goes on after it (no burst to catch up).
    // Whole requests, so that what is left is sent as whole requests too.
    if (o_.rate > 0) withheld_ += allowed - allowed % o_.perRequest;
    return;
  }
  if (o_.router()) {  // one request per idle keep-alive connection, in turn
    for (unsigned tried = 0; tried < o_.publishers && allowed > 0; ++tried) {
      const size_t i = publisher_ + nextPublisher_;
      nextPublisher_ = (nextPublisher_ + 1) % o_.publishers;
      Conn& c = conns_[i];
      if (c.state == State::Idle) startConnect(i);  // closed while idle: open again
      if (c.awaiting || c.state != State::Open || allowed < o_.perRequest) continue;
      appendMessage(i, now);
      c.awaiting = true;
      c.requestSentNs = now;
      allowed -= o_.perRequest;
      flushPublisher(i);
    }
    return;
  }
  for (uint64_t i = 0; i < allowed; ++i)
    appendMessage(publisher_, now);
  flushPublisher(publisher_);
}

int LoadGen::run() {
  rssEmptyKib_ = o_.serverPid > 0 ? residentKib(o_.serverPid) : -1;
  const uint64_t startNs = nowNs();
  const auto deadline = startNs + static_cast<uint64_t>(o_.timeout * 1e9);
  std::vector<epoll_event> events(4096);

  // ---- Connect phase: the publisher first, alone, then the receivers, ramped.
  // First in the server's connection list, the publisher gets its copy of a
  // broadcast at the start of the server's flush, so its next messages are
  // already waiting when the server's pass ends: the server never idles for a
  // round trip (saturation), and the window W is the number of broadcasts the
  // server handles per pass (the coalescing factor, frames per write).
  // Router mode: receiver 0 plays that part. It connects first, alone, so
  // it is first in the router's subscriber list and first in its flush;
  // its receipts end a publication's flight, and the publishers' next
  // requests arrive while the router's pass is still writing. The
  // publishers connect last, just before publishing (the admin server
  // closes idle keep-alive connections after a second).
  const size_t leader = o_.router() ? 0 : publisher_;
  startConnect(o_.router() ? nextToConnect_++ : publisher_);
  while (openCount_ < conns_.size()) {
    while (conns_[leader].state == State::Open && nextToConnect_ < o_.n &&
           handshakesInFlight_ < o_.rampInflight) {
      startConnect(nextToConnect_++);
    }
    if (o_.router() && openCount_ == o_.n && o_.publishers > 0 &&
        conns_[publisher_].state == State::Idle) {
      for (size_t i = publisher_; i < conns_.size(); ++i)
        startConnect(i);
    }
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
    for (int i = 0; i < n; ++i)
      onEvent(events[i].data.u64, events[i].events);
    if (failed_) die("a connection failed while connecting (see stderr)");
    if (nowNs() > deadline) die("timed out while connecting");
  }
  const double connectSeconds = static_cast<double>(nowNs() - startNs) / 1e9;
  if (o_.verbose) {
    std::fprintf(stderr,
                 "loadgen: %u receivers + publisher open in %.2f s over %u source addresses\n",
                 o_.n, connectSeconds, o_.sources);
  }
  if (o_.idle > 0) return runIdle(connectSeconds);

  // ---- Publish phase: warm-up, then the measured window.
  publishing_ = true;
  publishStartNs_ = nowNs();
  const auto warmupEnd = publishStartNs_ + static_cast<uint64_t>(o_.warmup * 1e9);
  const auto publishEnd =
      o_.duration > 0 ? warmupEnd + static_cast<uint64_t>(o_.duration * 1e9) : UINT64_MAX;
  uint64_t windowStartNs = 0;
  uint64_t windowEndNs = 0;
  uint64_t windowFrames0 = 0;
  uint64_t windowBytes0 = 0;
  uint64_t windowFrames = 0;
  uint64_t windowBytes = 0;
  uint64_t windowSent0 = 0;
  uint64_t windowSent = 0;
  double selfCpu0 = 0;
  double serverCpu0 = 0;
  double machine0 = 0;
  double machine = -1;
  // The server's core as a whole (its process, plus softirq work that lands
  // there on ksoftirqd): the saturation check.
  const int serverCore = o_.serverPid > 0 ? pinnedCpu(o_.serverPid) : -1;
  double serverCore0 = 0;
  double serverCoreBusy = -1;
  double selfCpu = 0;
  double serverCpu = -1;
  uint64_t recv0 = 0;
  uint64_t waits0 = 0;
  uint64_t windowRecvs = 0;
  uint64_t windowWaits = 0;
  uint64_t waitNs0 = 0;
  uint64_t windowWaitNs = 0;
  uint64_t acked0 = 0;
  uint64_t refused0 = 0;
  uint64_t withheld0 = 0;
  uint64_t windowAcked = 0;
  uint64_t windowRefused = 0;
  uint64_t windowWithheld = 0;
  // The server's resident memory once a second over the window: flat when
  // whatever it queues under load is bounded.
  std::vector<long> rssKib;
  uint64_t nextRssNs = 0;
  auto sampleRss = [&](uint64_t now) {
    if (o_.serverPid <= 0) return;
    const long kib = residentKib(o_.serverPid);
    if (kib >= 0) rssKib.push_back(kib);
    nextRssNs = now + 1000000000ull;
  };
  auto openWindow = [&](uint64_t now) {
    measuring_ = true;
    acked0 = acked_;
    refused0 = refused_;
    withheld0 = withheld_;
    sampleRss(now);
    windowStartNs = now;
    windowFrames0 = totals_.frames;
    windowBytes0 = totals_.bytes;
    windowSent0 = sent_;
    recv0 = totals_.recvCalls;
    waits0 = totals_.epollWaits;
    waitNs0 = totals_.waitNs;
    selfCpu0 = selfCpuSeconds();
    if (o_.serverPid > 0) serverCpu0 = processCpuSeconds(o_.serverPid);
    machine0 = machineBusySeconds();
    if (serverCore >= 0) serverCore0 = cpuBusySeconds(serverCore);
  };
  if (o_.warmup <= 0) openWindow(publishStartNs_);
  pump(publishStartNs_);

  const int waitMs = o_.busyPoll ? 0 : o_.rate > 0 ? 1 : 10;
  uint64_t drainEnd = 0;
  uint64_t nextSettleCheckNs = 0;
  uint64_t now = nowNs();
  for (;;) {
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), waitMs);
    const uint64_t woke = nowNs();
    totals_.waitNs += woke - now;
    ++totals_.epollWaits;
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
    for (int i = 0; i < n; ++i)
      onEvent(events[i].data.u64, events[i].events);
    if (failed_) die("a connection failed while publishing (see stderr)");
    now = nowNs();
    if (!measuring_ && publishing_ && now >= warmupEnd) openWindow(now);
    if (measuring_ && now >= nextRssNs) sampleRss(now);
    if (publishing_ &&
        (now >= publishEnd || (o_.messages > 0 && sent_ + withheld_ >= o_.messages))) {
      publishing_ = false;
      windowEndNs = now;
      windowFrames = totals_.frames - windowFrames0;
      windowBytes = totals_.bytes - windowBytes0;
      windowSent = sent_ - windowSent0;
      windowRecvs = totals_.recvCalls - recv0;
      windowWaits = totals_.epollWaits - waits0;
      windowWaitNs = totals_.waitNs - waitNs0;
      windowAcked = acked_ - acked0;
      windowRefused = refused_ - refused0;
      windowWithheld = withheld_ - withheld0;
      sampleRss(now);
      selfCpu = selfCpuSeconds() - selfCpu0;
      if (o_.serverPid > 0) serverCpu = processCpuSeconds(o_.serverPid) - serverCpu0;
      machine = machineBusySeconds() - machine0;
      if (serverCore >= 0) serverCoreBusy = cpuBusySeconds(serverCore) - serverCore0;
      measuring_ = false;
      drainEnd = now + static_cast<uint64_t>(o_.drain * 1e9);
    }
    if (publishing_) pump(now);
    if (!publishing_) {
      if (o_.router()) {
        // Every publication answered, and every receiver has each seq or
        // was told it will not come (checked every 100 ms: 10,000 receivers).
        if (acked_ + refused_ >= sent_ && now >= nextSettleCheckNs) {
          if (allSettled()) break;
          nextSettleCheckNs = now + 100000000ull;
        }
      } else if (totals_.frames >= sent_ * o_.n && echoed_ >= sent_) {
        break;
      }
      if (now >= drainEnd) break;
    }
    if (now > deadline) die("total timeout reached");
  }

  const long rssEndKib = o_.serverPid > 0 ? residentKib(o_.serverPid) : -1;
  if (o_.router()) judgeTails();
  // Reset the connections on exit (no TIME_WAIT pile-up across runs).
  const linger hard{1, 0};
  for (auto& c : conns_) {
    if (c.fd >= 0) {
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      ::close(c.fd);
    }
  }

  const double windowSeconds = static_cast<double>(windowEndNs - windowStartNs) / 1e9;
  // Refused publications were never published: nobody is owed them.
  const uint64_t expected = (sent_ - refused_) * o_.n;
  const double perSecond =
      windowSeconds > 0 ? static_cast<double>(windowFrames) / windowSeconds : 0;
  const double bytesPerSecond =
      windowSeconds > 0 ? static_cast<double>(windowBytes) / windowSeconds : 0;
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  std::printf(
      "{\"n\":%u,\"messages\":%" PRIu64
      ",\"size\":%zu,\"rate\":%g,\"window\":%u,"
      "\"sources\":%u,\"duration_s\":%.3f,\"deliveries\":%" PRIu64 ",\"window_deliveries\":%" PRIu64
      ",\"window_messages\":%" PRIu64
      ",\"deliveries_per_s\":%.0f,\"bytes_per_s\":%.0f,"
      "\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"samples\":%" PRIu64
      "},"
      "\"gaps\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"expected_deliveries\":%" PRIu64
      ",\"delivery_ratio\":%.6f,\"foreign\":%" PRIu64 ",\"control\":%" PRIu64
      ",\"loadgen_cpu\":%.3f,\"server_cpu\":%.3f,\"server_core_busy\":%.3f,\"frames_per_recv\":%."
      "2f,\"recvs_per_wait\":%.1f,"
      "\"loadgen_wait_frac\":%.3f,\"other_cpu\":%.3f,\"busy_poll\":%s,\"connect_s\":%.3f,"
      "\"router\":%s,\"gap_messages\":%" PRIu64 ",\"publisher_reconnects\":%" PRIu64
      ",\"acked\":%" PRIu64
      ",\"ts_latency_ms\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%.0f},"
      "\"server_rss_kib\":{\"empty\":%ld,\"end\":%ld},",
      o_.n, sent_, o_.size, o_.rate, o_.window, o_.sources, windowSeconds, totals_.frames,
      windowFrames, windowSent, perSecond, bytesPerSecond, us(latency_.quantile(0.50)),
      us(latency_.quantile(0.99)), us(latency_.quantile(0.999)), us(latency_.max()),
      latency_.total(), totals_.gaps, totals_.missing, expected,
      expected > 0 ? static_cast<double>(totals_.frames) / static_cast<double>(expected) : 0.0,
      totals_.foreign, totals_.control, windowSeconds > 0 ? selfCpu / windowSeconds : 0.0,
      serverCpu >= 0 && windowSeconds > 0 ? serverCpu / windowSeconds : -1.0,
      serverCoreBusy >= 0 && windowSeconds > 0 ? serverCoreBusy / windowSeconds : -1.0,
      windowRecvs > 0 ? static_cast<double>(windowFrames) / static_cast<double>(windowRecvs) : 0.0,
      windowWaits > 0 ? static_cast<double>(windowRecvs) / static_cast<double>(windowWaits) : 0.0,
      windowEndNs > windowStartNs
          ? static_cast<double>(windowWaitNs) / static_cast<double>(windowEndNs - windowStartNs)
          : 0.0,
      // Busy CPU of everything else on the machine (cores, not fractions of
      // the machine): anything well above 0 means the run was disturbed.
      machine >= 0 && serverCpu >= 0 && windowSeconds > 0
          ? std::max(0.0, (machine - selfCpu - serverCpu) / windowSeconds)
          : -1.0,
      o_.busyPoll ? "true" : "false", connectSeconds, o_.router() ? "true" : "false",
      totals_.gapMessages, totals_.publisherReconnects, acked_,
      static_cast<double>(tsLatency_.quantile(0.50)) / 1e6,
      static_cast<double>(tsLatency_.quantile(0.99)) / 1e6,
      static_cast<double>(tsLatency_.quantile(0.999)) / 1e6,
      static_cast<double>(tsLatency_.max()) / 1e6, rssEmptyKib_, rssEndKib);
  auto perWindowSecond = [&](uint64_t count) {
    return windowSeconds > 0 ? static_cast<double>(count) / windowSeconds : 0.0;
  };
  auto mib = [](long kib) { return kib >= 0 ? static_cast<double>(kib) / 1024.0 : -1.0; };
  const long rssFirstKib = rssKib.empty() ? -1 : rssKib.front();
  const long rssLastKib = rssKib.empty() ? -1 : rssKib.back();
  const long rssMaxKib = rssKib.empty() ? -1 : *std::max_element(rssKib.begin(), rssKib.end());
  // Publications: offered (due by the rate or the window) = sent + withheld;
  // sent = accepted + refused (once every answer is in). Deliveries: each
  // receiver's missing seqs, covered or not by a `gap` before the data after
  // them (or before the end).
  std::printf("\"offered\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"publish_refused\":%" PRIu64
              ",\"publish_withheld\":%" PRIu64 ",\"window_accepted\":%" PRIu64
              ",\"window_refused\":%" PRIu64 ",\"window_withheld\":%" PRIu64
              ",\"sent_per_s\":%.1f,\"accepted_per_s\":%.1f,\"last_seq\":%" PRIu64
              ",\"covered_jumps\":%" PRIu64 ",\"missing_covered\":%" PRIu64
              ",\"missing_uncovered\":%" PRIu64 ",\"stale_gap_seqs\":%" PRIu64
              ",\"gap_reasons\":{\"overload\":%" PRIu64 ",\"slow_consumer\":%" PRIu64
              ",\"other\":%" PRIu64
              "},\"publish_rtt_ms\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"rss_first_mib\":%."
              "1f,\"rss_last_mib\":%.1f,\"rss_max_mib\":%.1f,\"rss_mib\":[",
              sent_ + withheld_, acked_, refused_, withheld_, windowAcked, windowRefused,
              windowWithheld, perWindowSecond(windowSent), perWindowSecond(windowAcked), lastSeq(),
              totals_.coveredJumps, totals_.missingCovered, totals_.missingUncovered,
              totals_.staleGapSeqs, totals_.gapOverload, totals_.gapSlowConsumer,
              totals_.gapOtherReason, static_cast<double>(publishRtt_.quantile(0.50)) / 1e6,
              static_cast<double>(publishRtt_.quantile(0.99)) / 1e6,
              static_cast<double>(publishRtt_.max()) / 1e6, mib(rssFirstKib), mib(rssLastKib),
              mib(rssMaxKib));
  for (size_t i = 0; i < rssKib.size(); ++i)
    std::printf("%s%.1f", i == 0 ? "" : ",", mib(rssKib[i]));
  std::printf("]}\n");
  std::fflush(stdout);
  return totals_.frames == expected && totals_.gaps == 0 && totals_.gapMessages == 0 &&
                 refused_ == 0
             ? 0
             : 3;
}

// Holds every connection open, publishing nothing, answering pings, then
// reports the server's resident memory: what an idle connection costs.
int LoadGen::runIdle(double connectSeconds) {
  const long rssConnectedKib = o_.serverPid > 0 ? residentKib(o_.serverPid) : -1;
  const uint64_t end = nowNs() + static_cast<uint64_t>(o_.idle * 1e9);
  std::vector<epoll_event> events(4096);
  while (nowNs() < end) {
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", std::strerror(errno));
    for (int i = 0; i < n; ++i)
      onEvent(events[i].data.u64, events[i].events);
    if (failed_) die("a connection failed while idle (see stderr)");
  }
  const long rssEndKib = o_.serverPid > 0 ? residentKib(o_.serverPid) : -1;
  const linger hard{1, 0};
  for (auto& c : conns_) {
    if (c.fd >= 0) {
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      ::close(c.fd);
    }
  }
  const long grownKib = std::max(rssConnectedKib, rssEndKib) - rssEmptyKib_;
  std::printf(
      "{\"n\":%u,\"idle_s\":%g,\"connect_s\":%.3f,\"open\":%zu,"
      "\"server_rss_kib\":{\"empty\":%ld,\"connected\":%ld,\"end\":%ld},"
      "\"bytes_per_connection\":%.0f,\"control\":%" PRIu64 "}\n",
      o_.n, o_.idle, connectSeconds, openCount_, rssEmptyKib_, rssConnectedKib, rssEndKib,
      static_cast<double>(grownKib) * 1024.0 / static_cast<double>(o_.n), totals_.control);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  initHex();
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) == sizeof seed && seed != 0) rngState = seed;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  const Options options = parseOptions(argc, argv);
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < options.n + 64) {
    char text[96];
    std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(limit.rlim_cur));
    die("RLIMIT_NOFILE (%s) is too low for --n", text);
  }
  LoadGen loadgen(options);
  return loadgen.run();
}
