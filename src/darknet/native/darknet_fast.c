/*
 * The darknet analyzer's hot loop in C: walks classic pcap records in the reader's buffer and
 * observes every plain IPv4 TCP/UDP/ICMP frame exactly as analyzer.ts does, in the same memory
 * (the source table's records and indexes, the open 5-minute statistics layer). It stops before
 * any frame it does not handle itself (IPv6, fragments, cut or odd headers, other link types)
 * and before anything that needs JavaScript (a sweep or bucket roll, a new source when ASN or
 * country tables need a lookup, an array that must grow); analyzer.ts then observes that one
 * frame and calls back in. So the results are the JavaScript path's, bit for bit (tested).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <errno.h>
#include <sys/mman.h>

/* Slots of the shared state array (Float64Array); darknet/native/index.ts names them too. */
enum {
  S_NOW, S_NEXT_SWEEP, S_BUCKET, S_FRAMES, S_DARKNET, S_NOT_DARKNET, S_UNTRACKED,
  S_PACKETS, S_CAPTURED_BYTES,
  S_SIZE, S_LIMIT, S_NEW_HIGH, S_HOT_HIGH, S_NEW_FREE_COUNT, S_HOT_FREE_COUNT, S_HOT_COUNT,
  S_HOT_MASK, S_MASK,
  S_KEYS_USED, S_DENSE_USED, S_STATS_DIRTY, S_CLOCK_MS,
  S_LITTLE_ENDIAN, S_RECORD_HEADER, S_FRACTION_TO_MS, S_LINK_TYPE, S_ACCEPT_ALL, S_HAS_GEO,
  S_RANGES, S_FAST_FRAMES, S_COUNT
};

/* sources.ts layout */
#define RECORD_BYTES 128
#define SIDE_WORDS 5
#define F_KEY 0
#define F_PROBES 1
#define F_SYN 2
#define F_BACKSCATTER 3
#define F_MIRAI 4
#define F_MASSCAN 5
#define F_ZMAP 6
#define F_HASH 22
#define B_FAMILY 28
#define B_PROTO_MASK 29
#define B_PORT_COUNT 30
#define B_PORTS_OVERFLOW 31
#define D_PACKETS 4
#define D_LAST_SEEN 5
#define D_FIRST_SEEN 6
#define W_PORTS 28
#define B_PORT_SKETCH 72
#define B_DST_SKETCH 96
#define PORT_SLOTS 8
#define S_ASN_ROW 3
#define S_COUNTRY_ROW 4
/* stats.ts layout */
#define PORTS_PER_PROTOCOL 65537
#define ALL_PORTS 65536
#define SLOT_BYTES 32
#define REGS 64
#define BITS 6
#define SPARSE_MAX 8
#define SLOT_ITEMS 16 /* byte offset of a slot's u16 sparse pairs */
#define BUCKET_MS 300000.0
#define MAX_RECORD_BYTES (16u * 1024u * 1024u)

typedef struct {
  double *state;
  const double *ranges;
  uint32_t range_count;
  uint8_t *bytes;
  size_t bytes_len;
  int32_t *side;
  uint32_t *new_index;
  uint32_t *hot_index;
  int32_t *new_free;
  int32_t *hot_free;
  uint8_t *slots;
  int32_t *keys;
  size_t keys_len;
  uint8_t *dense;
  size_t dense_len;
  double *asn_packets;
  size_t asn_len;
  double *country_packets;
  size_t country_len;
} Ctx;

#define HOT_INLINE static inline __attribute__((always_inline))

HOT_INLINE uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

HOT_INLINE uint32_t rd32(const uint8_t *p, int le) {
  return le ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24)
            : ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
HOT_INLINE uint32_t be32(const uint8_t *p) { return rd32(p, 0); }
HOT_INLINE uint32_t be16(const uint8_t *p) { return ((uint32_t)p[0] << 8) | p[1]; }

HOT_INLINE uint32_t *rec32(Ctx *c, uint32_t id) { return (uint32_t *)(c->bytes + (size_t)id * RECORD_BYTES); }
HOT_INLINE double *rec64(Ctx *c, uint32_t id) { return (double *)(c->bytes + (size_t)id * RECORD_BYTES); }

HOT_INLINE void hll_add(uint8_t *regs, int bits, uint32_t hash) {
  uint32_t index = hash >> (32 - bits);
  uint32_t rank = (uint32_t)__builtin_clz((hash << bits) | (1u << (bits - 1))) + 1;
  if (rank > regs[index]) regs[index] = (uint8_t)rank;
}

/*
 * New sources take fresh records front to back, and on a virtual machine a first-touch page
 * fault costs microseconds. So at every POPULATE_RECORDS-th fresh record, the next run of
 * records is faulted in with one madvise (where the kernel has MADV_POPULATE_WRITE) instead of
 * one fault per page.
 */
#define POPULATE_RECORDS 8192u
#define PAGE ((uintptr_t)4096)

/* Faults in the pages of [start, stop) (start page-aligned) with one madvise, where the kernel can. */
static void populate_pages(uintptr_t start, uintptr_t stop) {
#ifdef MADV_POPULATE_WRITE
  if (stop > start) madvise((void *)start, stop - start, MADV_POPULATE_WRITE);
#else
  (void)start;
  (void)stop;
#endif
}

static void populate(Ctx *c, uint32_t id) {
  uintptr_t start = (uintptr_t)(c->bytes + (size_t)id * RECORD_BYTES) & ~(PAGE - 1);
  uintptr_t stop = (uintptr_t)(c->bytes + (size_t)(id + POPULATE_RECORDS) * RECORD_BYTES);
  uintptr_t limit = (uintptr_t)(c->bytes + c->bytes_len) & ~(PAGE - 1);
  populate_pages(start, stop < limit ? stop : limit);
}

/*
 * One index's probe run for IPv4 source `src` (hash `h`), as SourceTable.find4 walks it: the
 * record id, or -1 with `*at` left on the empty slot that ends the run.
 */
HOT_INLINE int64_t probe4(Ctx *c, const uint32_t *index, uint32_t mask, uint32_t h, uint32_t src, uint32_t *at) {
  uint32_t i = h & mask;
  for (;;) {
    uint32_t ref = index[2 * i + 1];
    if (ref == 0) break;
    if (index[2 * i] == src && c->bytes[(size_t)(ref - 1) * RECORD_BYTES + B_FAMILY] == 4) {
      *at = i;
      return ref - 1;
    }
    i = (i + 1) & mask;
  }
  *at = i;
  return -1;
}

/* SourceTable.unlink: empties `hole`, shifting later entries of its probe run back. */
static void unlink_slot(Ctx *c, uint32_t *index, uint32_t mask, uint32_t hole) {
  uint32_t j = hole;
  for (;;) {
    j = (j + 1) & mask;
    uint32_t ref = index[2 * j + 1];
    if (ref == 0) break;
    uint32_t home = rec32(c, ref - 1)[F_HASH] & mask;
    int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    index[2 * hole] = index[2 * j];
    index[2 * hole + 1] = ref;
    hole = j;
  }
  index[2 * hole] = 0;
  index[2 * hole + 1] = 0;
}

/* SourceTable.promote for an IPv4 source without rules: moves record `id` (newIndex slot i) to the hot generation. */
static uint32_t promote(Ctx *c, uint32_t i, uint32_t id) {
  double *s = c->state;
  uint32_t limit = (uint32_t)s[S_LIMIT];
  uint32_t to;
  if (s[S_HOT_FREE_COUNT] > 0) {
    s[S_HOT_FREE_COUNT] -= 1;
    to = limit + (uint32_t)c->hot_free[(uint32_t)s[S_HOT_FREE_COUNT]];
  } else {
    to = limit + (uint32_t)s[S_HOT_HIGH];
    s[S_HOT_HIGH] += 1;
    if ((((uint32_t)s[S_HOT_HIGH] - 1) & (POPULATE_RECORDS - 1)) == 0) populate(c, to);
  }
  // An IPv4 source's side words are its ASN and country rows, all zero without those tables (and
  // a released record's are zero): then they are neither copied nor cleared, which would fault in
  // a page of the side array for nearly every promotion.
  const int side = s[S_HAS_GEO] != 0;
  memcpy(c->bytes + (size_t)to * RECORD_BYTES, c->bytes + (size_t)id * RECORD_BYTES, RECORD_BYTES);
  if (side) memcpy(c->side + (size_t)to * SIDE_WORDS, c->side + (size_t)id * SIDE_WORDS, SIDE_WORDS * 4);
  uint32_t mask = (uint32_t)s[S_MASK];
  uint32_t first_word = c->new_index[2 * i];
  unlink_slot(c, c->new_index, mask, i);
  /* release(id): id < limit always here */
  memset(c->bytes + (size_t)id * RECORD_BYTES, 0, RECORD_BYTES);
  if (side) memset(c->side + (size_t)id * SIDE_WORDS, 0, SIDE_WORDS * 4);
  c->new_free[(uint32_t)s[S_NEW_FREE_COUNT]] = (int32_t)id;
  s[S_NEW_FREE_COUNT] += 1;
  s[S_HOT_COUNT] += 1;
  /* link */
  uint32_t hot_mask = (uint32_t)s[S_HOT_MASK];
  uint32_t k = rec32(c, to)[F_HASH] & hot_mask;
  while (c->hot_index[2 * k + 1] != 0) k = (k + 1) & hot_mask;
  c->hot_index[2 * k] = first_word;
  c->hot_index[2 * k + 1] = to + 1;
  return to;
}

/* Layer.slot + raise + toDense for one key; `keys_used` and `dense_used` are the layer's counts. */
HOT_INLINE void stats_add_key(Ctx *c, uint32_t key, uint32_t reg, uint32_t rank, uint32_t *keys_used,
                              uint32_t *dense_used) {
  uint8_t *slot = c->slots + (size_t)key * SLOT_BYTES;
  double *packets = (double *)slot;
  uint32_t *w = (uint32_t *)slot;
  if (*packets == 0) c->keys[(*keys_used)++] = (int32_t)key;
  *packets += 1;
  uint32_t block = w[2];
  if (block != 0) {
    uint8_t *at = c->dense + (size_t)(block - 1) * REGS + reg;
    if (rank > *at) *at = (uint8_t)rank;
    return;
  }
  uint32_t n = w[3];
  uint16_t *items = (uint16_t *)(slot + SLOT_ITEMS);
  for (uint32_t j = 0; j < n; j++) {
    uint32_t item = items[j];
    if (item >> 8 == reg) {
      if (rank > (item & 0xff)) items[j] = (uint16_t)((reg << 8) | rank);
      return;
    }
  }
  if (n < SPARSE_MAX) {
    items[n] = (uint16_t)((reg << 8) | rank);
    w[3] = n + 1;
    return;
  }
  block = ++*dense_used;
  uint8_t *d = c->dense + (size_t)(block - 1) * REGS;
  for (uint32_t j = 0; j < n; j++) d[items[j] >> 8] = (uint8_t)(items[j] & 0xff);
  w[2] = block;
  w[3] = 0;
  d[reg] = (uint8_t)rank;
}

/*
 * Each record is parsed once, by a cursor PREFETCH_FAR records ahead of the observing one, into a
 * small ring; both the prefetches and the observing read the ring. On this kind of machine a miss
 * costs more than the rest of a packet, and the misses of different packets are independent, so
 * issuing them early lets them overlap, in three stages: at parse time the capture's bytes
 * DATA_AHEAD on, the source's hot index slot and the port's statistics slot; PREFETCH_MID records
 * ahead (the hot slot now cached) a repeat sender's record, or else the big new-source index slot;
 * PREFETCH_NEAR records ahead (those now cached) a new source's record and the port sketch's
 * dense block.
 */
#define DATA_AHEAD 2048
#define PREFETCH_NEAR 6
#define PREFETCH_MID 14
#define PREFETCH_FAR 24
#define RING 32 /* a power of two above PREFETCH_FAR */

/* An asm prefetch: GCC drops __builtin_prefetch from chains whose only effect is prefetching. */
HOT_INLINE void prefetch(const void *p) { __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p)); }

/* One record as the observing loop needs it; only the parse reads packet bytes. */
typedef struct {
  size_t next;
  double ts;
  uint32_t src, dst, hash, seq, ip_id;
  uint32_t port, proto_index, proto_bit, kind;
  int dark;
  /*
   * The record id + 1 the hot index named for the source PREFETCH_MID records ahead (0: none
   * then). Within a call hot records neither move nor leave (only JavaScript sweeps or rehashes),
   * so the observing loop takes it as found; a source promoted since is found by the full probe.
   */
  uint32_t hot;
} Parsed;

/* The constants of one call: the capture's format and the table sizes the prefetches use. */
typedef struct {
  const uint8_t *buf;
  size_t end, rh;
  int le, accept_all;
  uint32_t link, hot_mask, mask;
  double fraction;
  /* Up to four darknet ranges as integers (`small` of them; -1: more, searched in Ctx.ranges). */
  int small;
  uint32_t low[4], span[4];
} Walk;

#define SMALL_RANGES 4

/* Binary search of the sorted darknet ranges (more than SMALL_RANGES of them). */
static __attribute__((noinline)) int in_darknet_search(const double *r, uint32_t count, uint32_t address) {
  int64_t lo = 0, hi = (int64_t)count - 1;
  while (lo <= hi) {
    int64_t mid = (lo + hi) >> 1;
    if (r[2 * mid] > address) hi = mid - 1;
    else if (r[2 * mid + 1] < address) lo = mid + 1;
    else return 1;
  }
  return 0;
}

/* Whether `address` is in a darknet range: up to SMALL_RANGES compared in turn, more searched. */
HOT_INLINE int in_darknet(const Ctx *c, const Walk *w, uint32_t address) {
  if (w->small >= 0) {
    for (int i = 0; i < w->small; i++)
      if (address - w->low[i] <= w->span[i]) return 1;
    return 0;
  }
  return in_darknet_search(c->ranges, c->range_count, address);
}

/*
 * Parses the record at `at` into `p`; 0 when observing must stop there: the buffer ends inside
 * it, or the frame is one only the TypeScript path handles (other link or network types,
 * fragments, cut or odd headers).
 */
HOT_INLINE int parse(const Ctx *c, const Walk *w, size_t at, Parsed *p) {
  if (w->end - at < w->rh) return 0;
  const uint8_t *r = w->buf + at;
  // The capture's bytes come from the page cache through a mapping, not a read(2) copy, and the
  // hardware's stream prefetch stops at every 4 KiB page: fetch the bytes of later records now.
  if (w->end - at > DATA_AHEAD) prefetch(r + DATA_AHEAD);
  const int le = w->le;
  uint32_t caplen = rd32(r + 8, le);
  if (caplen > MAX_RECORD_BYTES) return 0;
  size_t total = w->rh + caplen;
  if (w->end - at < total) return 0;
  const uint8_t *data = r + w->rh;
  const uint8_t *e = data + caplen;
  const uint8_t *ip;
  if (w->link == 1) {
    if (caplen < 14 || data[12] != 0x08 || data[13] != 0x00) return 0;
    ip = data + 14;
  } else if (w->link == 101 || w->link == 228) {
    ip = data;
  } else return 0;
  if (e - ip < 20 || (ip[0] >> 4) != 4) return 0;
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) << 2;
  if (hl < 20 || (size_t)(e - ip) < hl) return 0;
  uint32_t tl = be16(ip + 2);
  if (tl == 0) tl = (uint32_t)(e - ip);
  if (tl < hl) return 0;
  if (be16(ip + 6) & 0x1fff) return 0; /* a non-first fragment */
  const uint8_t *l4 = ip + hl;
  const uint8_t *ip_end = ip + tl;
  size_t avail = (size_t)(e - l4);
  uint32_t proto = ip[9];
  p->kind = 0;
  p->seq = 0;
  if (proto == 6) {
    if (avail < 20) return 0;
    uint32_t thl = (uint32_t)(l4[12] >> 4) << 2;
    if (thl < 20 || l4 + thl > ip_end || avail < thl) return 0;
    uint32_t flags = l4[13];
    p->port = be16(l4 + 2);
    p->seq = be32(l4 + 4);
    p->proto_index = 0;
    p->proto_bit = 1;
    uint32_t syn_ack = flags & 18;
    if (syn_ack == 2) p->kind = 1;
    else if (syn_ack == 18 || (flags & 4)) p->kind = 2;
  } else if (proto == 17) {
    if (avail < 8) return 0;
    p->port = be16(l4 + 2);
    p->proto_index = 1;
    p->proto_bit = 2;
    p->kind = 1;
  } else if (proto == 1) {
    if (avail < 2) return 0;
    uint32_t type = l4[0];
    p->port = type;
    p->proto_index = 2;
    p->proto_bit = 4;
    if (type == 8 || type == 13) p->kind = 1;
    else if (type == 0 || type == 3 || type == 4 || type == 5 || type == 11 || type == 12 || type == 14) p->kind = 2;
  } else return 0;
  p->next = at + total;
  p->ts = (double)rd32(r, le) * 1000.0 + (double)rd32(r + 4, le) * w->fraction;
  p->ip_id = be16(ip + 4);
  p->src = be32(ip + 12);
  p->dst = be32(ip + 16);
  p->dark = w->accept_all || in_darknet(c, w, p->dst);
  p->hot = 0;
  p->hash = mix32(p->src);
  if (p->dark) {
    prefetch(c->hot_index + 2 * (p->hash & w->hot_mask));
    prefetch(c->slots + (size_t)(p->proto_index * PORTS_PER_PROTOCOL + p->port) * SLOT_BYTES);
  }
  return 1;
}

/*
 * The middle prefetches for a parsed record (its hot index slot now cached): a repeat sender
 * found there gets its record fetched; the others, the big new-source index slot (a needless
 * miss there costs more than the rest of a repeat sender's packet).
 */
HOT_INLINE void prefetch_mid(const Ctx *c, const Walk *w, Parsed *p) {
  if (!p->dark) return;
  const uint32_t *hot = c->hot_index;
  for (uint32_t i = p->hash & w->hot_mask;; i = (i + 1) & w->hot_mask) {
    uint32_t ref = hot[2 * i + 1];
    if (ref == 0) break;
    if (hot[2 * i] == p->src) {
      const uint8_t *record = c->bytes + (size_t)(ref - 1) * RECORD_BYTES;
      prefetch(record);
      prefetch(record + 64);
      p->hot = ref;
      return;
    }
  }
  prefetch(c->new_index + 2 * (p->hash & w->mask));
}

/* The near prefetches for a parsed record: a new-generation source's record, the port sketch's dense block. */
HOT_INLINE void prefetch_near(const Ctx *c, const Walk *w, const Parsed *p) {
  if (!p->dark) return;
  if (!p->hot) {
    uint32_t slot = p->hash & w->mask;
    if (c->new_index[2 * slot + 1] != 0 && c->new_index[2 * slot] == p->src) {
      const uint8_t *record = c->bytes + (size_t)(c->new_index[2 * slot + 1] - 1) * RECORD_BYTES;
      prefetch(record);
      prefetch(record + 64);
    }
  }
  const uint32_t *words = (const uint32_t *)(c->slots + (size_t)(p->proto_index * PORTS_PER_PROTOCOL + p->port) * SLOT_BYTES);
  uint32_t block = words[2];
  if (block != 0 && block <= c->dense_len / REGS) prefetch(c->dense + (size_t)(block - 1) * REGS + (p->hash >> (32 - BITS)));
}

/*
 * Observes frames from buf[offset, end) until one needs JavaScript or the buffer ends; returns the
 * offset of the first record not consumed.
 */
HOT_INLINE size_t run_as(Ctx *shared, const uint8_t *buf, size_t offset, size_t end, const int le,
                         const uint32_t link, const size_t rh) {
  // The loop reads the table pointers from a copy whose address never leaves it: with
  // -fno-strict-aliasing, every byte store into a record could otherwise overwrite *shared, and
  // the compiler would reload each pointer after each store.
  Ctx local = *shared;
  Ctx *const c = &local;
  double *s = c->state;
  const int has_geo = s[S_HAS_GEO] != 0;
  const uint32_t limit = (uint32_t)s[S_LIMIT];
  const uint32_t mask = (uint32_t)s[S_MASK];
  const size_t keys_len = c->keys_len;
  const size_t dense_blocks = c->dense_len / REGS;
  double now = s[S_NOW];
  const double next_sweep = s[S_NEXT_SWEEP];
  const double stats_bucket = s[S_BUCKET];
  // Times at least 1 ms inside the open bucket are in it whatever the division rounds to; only
  // times near its edges pay for floor(ts / BUCKET_MS).
  const double bucket_low = stats_bucket * BUCKET_MS + 1, bucket_high = (stats_bucket + 1) * BUCKET_MS - 1;
  // Every frame the loop takes is one more frame, packet read and fast frame, inside the
  // darknet or not: counted once here (`fast`, `inside`) and added to each at the end. The frames
  // taken are the records from `offset` on, so their captured bytes are those records' bytes
  // less their headers.
  const size_t first = offset;
  uint64_t fast = 0, inside = 0, untracked = 0;
  // Frames that surely leave room for two more statistics keys and dense blocks each (a frame
  // adds at most two of either): counted down instead of comparing both counts every frame.
  size_t room = 0;
  int dirty = 0;
  uint32_t keys_used = (uint32_t)s[S_KEYS_USED];
  uint32_t dense_used = (uint32_t)s[S_DENSE_USED];
  double clock = s[S_CLOCK_MS];
  // Fixed for the whole call: the hot index only grows in TypeScript, between calls.
  Walk w = {
    .buf = buf, .end = end, .rh = rh, .le = le,
    .accept_all = s[S_ACCEPT_ALL] != 0, .link = link,
    .hot_mask = (uint32_t)s[S_HOT_MASK], .mask = mask, .fraction = s[S_FRACTION_TO_MS],
    .small = c->range_count <= SMALL_RANGES ? (int)c->range_count : -1,
  };
  for (int i = 0; i < w.small; i++) {
    w.low[i] = (uint32_t)c->ranges[2 * i];
    w.span[i] = (uint32_t)c->ranges[2 * i + 1] - w.low[i];
  }
  const uint32_t hot_mask = w.hot_mask;

  Parsed ring[RING];
  size_t head = 0, tail = 0, ahead = offset;
  int parsing = 1;
  while (parsing && tail < PREFETCH_FAR) {
    if (parse(c, &w, ahead, &ring[tail % RING])) ahead = ring[tail++ % RING].next;
    else parsing = 0;
  }
  for (size_t k = 0; k < PREFETCH_MID && k < tail; k++) prefetch_mid(c, &w, &ring[k]);
  for (size_t k = 0; k < PREFETCH_NEAR && k < tail; k++) prefetch_near(c, &w, &ring[k]);

  while (head < tail) {
    const Parsed *p = &ring[head % RING];
    if (parsing) {
      if (parse(c, &w, ahead, &ring[tail % RING])) ahead = ring[tail++ % RING].next;
      else parsing = 0;
    }
    if (head + PREFETCH_MID < tail) prefetch_mid(c, &w, &ring[(head + PREFETCH_MID) % RING]);
    if (head + PREFETCH_NEAR < tail) prefetch_near(c, &w, &ring[(head + PREFETCH_NEAR) % RING]);
    const double ts = p->ts;
    if (ts > now && ts >= next_sweep) break;

    if (!p->dark) {
      if (ts > now) now = ts;
      fast++;
      offset = p->next;
      head++;
      continue;
    }
    if ((ts < bucket_low || ts > bucket_high) && floor(ts / BUCKET_MS) != stats_bucket) break;
    /* Room for two new statistics keys and dense blocks, so nothing below must grow. */
    if (room == 0) {
      const size_t keys_room = keys_used < keys_len ? (keys_len - keys_used) / 2 : 0;
      const size_t dense_room = dense_used < dense_blocks ? (dense_blocks - dense_used) / 2 : 0;
      room = keys_room < dense_room ? keys_room : dense_room;
      if (room == 0) break;
    }

    /* find4, without changing anything yet */
    const uint32_t src = p->src, h = p->hash;
    int where; /* 1 hot, 2 new, 3 insert, 4 full */
    uint32_t i;
    int64_t slot;
    if (p->hot != 0 && c->bytes[(size_t)(p->hot - 1) * RECORD_BYTES + B_FAMILY] == 4) {
      // The first word matched in the middle stage; an IPv6 record with that first word is not it.
      slot = p->hot - 1;
      where = 1;
    } else if ((slot = probe4(c, c->hot_index, hot_mask, h, src, &i)) >= 0) where = 1;
    else if ((slot = probe4(c, c->new_index, mask, h, src, &i)) >= 0) where = 2;
    else where = s[S_SIZE] >= limit ? 4 : 3;
    if (where == 2 && s[S_HOT_COUNT] + 1 > (s[S_HOT_MASK] + 1) * 0.75) break; /* hot index grows in JS */
    if (where == 3 && has_geo) break; /* ASN and country lookups in JS */

    /* From here on the frame is ours. */
    offset = p->next;
    head++;
    room--;
    fast++;
    if (ts > now) now = ts;
    inside++;
    int inserted = 0;
    if (where == 2) {
      slot = promote(shared, i, (uint32_t)slot);
    } else if (where == 3) {
      uint32_t id;
      if (s[S_NEW_FREE_COUNT] > 0) {
        s[S_NEW_FREE_COUNT] -= 1;
        id = (uint32_t)c->new_free[(uint32_t)s[S_NEW_FREE_COUNT]];
      } else {
        id = (uint32_t)s[S_NEW_HIGH];
        s[S_NEW_HIGH] += 1;
        if ((id & (POPULATE_RECORDS - 1)) == 0) populate(shared, id);
      }
      c->new_index[2 * i] = src;
      c->new_index[2 * i + 1] = id + 1;
      c->bytes[(size_t)id * RECORD_BYTES + B_FAMILY] = 4;
      rec32(c, id)[F_HASH] = h;
      rec32(c, id)[F_KEY] = src;
      s[S_SIZE] += 1;
      slot = id;
      inserted = 1;
    }

    const uint32_t port = p->port, proto_index = p->proto_index, dst = p->dst;
    /* PortStats.addNow */
    clock = ts;
    dirty = 1;
    {
      uint32_t reg = h >> (32 - BITS);
      uint32_t rank = (uint32_t)__builtin_clz((h << BITS) | (1u << (BITS - 1))) + 1;
      uint32_t base = proto_index * PORTS_PER_PROTOCOL;
      stats_add_key(c, base + port, reg, rank, &keys_used, &dense_used);
      stats_add_key(c, base + ALL_PORTS, reg, rank, &keys_used, &dense_used);
    }
    if (where == 4) {
      untracked++;
      continue;
    }

    uint32_t id = (uint32_t)slot;
    uint8_t *b = c->bytes + (size_t)id * RECORD_BYTES;
    uint32_t *u32 = rec32(c, id);
    double *f64 = rec64(c, id);
    if (inserted) {
      f64[D_FIRST_SEEN] = ts;
      f64[D_LAST_SEEN] = ts;
    } else if (ts > f64[D_LAST_SEEN]) {
      f64[D_LAST_SEEN] = ts;
    } else if (ts < f64[D_FIRST_SEEN]) {
      f64[D_FIRST_SEEN] = ts;
    }
    f64[D_PACKETS] += 1;
    b[B_PROTO_MASK] |= (uint8_t)p->proto_bit;
    if (has_geo) {
      int32_t asn_row = c->side[(size_t)id * SIDE_WORDS + S_ASN_ROW] - 1;
      if (asn_row >= 0 && (size_t)asn_row < c->asn_len) c->asn_packets[asn_row] += 1;
      int32_t country_row = c->side[(size_t)id * SIDE_WORDS + S_COUNTRY_ROW] - 1;
      if (country_row >= 0 && (size_t)country_row < c->country_len) c->country_packets[country_row] += 1;
    }
    hll_add(b + B_DST_SKETCH, 5, mix32(dst ^ 0x5bd1e995u));
    if (proto_index < 2) {
      int listed = 0;
      if (b[B_PORTS_OVERFLOW] == 0) {
        uint32_t n = b[B_PORT_COUNT];
        uint16_t *ports = (uint16_t *)b + W_PORTS;
        uint32_t j = 0;
        for (; j < n; j++)
          if (ports[j] == port) break;
        listed = j < n;
        if (j == n) {
          if (n < PORT_SLOTS) {
            ports[n] = (uint16_t)port;
            b[B_PORT_COUNT] = (uint8_t)(n + 1);
          } else {
            b[B_PORTS_OVERFLOW] = 1;
          }
        }
      }
      // A port already listed was added to the sketch with it, unless the list mixes TCP and UDP
      // ports (it keeps port numbers only): adding it again would change nothing.
      if (!listed || (b[B_PROTO_MASK] & 3) == 3) hll_add(b + B_PORT_SKETCH, 4, mix32(port + proto_index * 65536));
    }
    if (p->kind == 1) {
      u32[F_PROBES]++;
      if (proto_index == 0) {
        const uint32_t seq = p->seq;
        u32[F_SYN]++;
        if (seq == dst) u32[F_MIRAI]++;
        if (((dst ^ port ^ seq) & 0xffff) == p->ip_id) u32[F_MASSCAN]++;
      }
      if (p->ip_id == 54321) u32[F_ZMAP]++;
    } else if (p->kind == 2) {
      u32[F_BACKSCATTER]++;
    }
  }
  s[S_NOW] = now;
  s[S_FRAMES] += (double)fast;
  s[S_PACKETS] += (double)fast;
  s[S_DARKNET] += (double)inside;
  s[S_NOT_DARKNET] += (double)(fast - inside);
  s[S_UNTRACKED] += (double)untracked;
  s[S_CAPTURED_BYTES] += (double)(offset - first - fast * rh);
  s[S_FAST_FRAMES] = (double)fast;
  s[S_KEYS_USED] = keys_used;
  s[S_DENSE_USED] = dense_used;
  s[S_CLOCK_MS] = clock;
  if (dirty) s[S_STATS_DIRTY] = 1;
  return offset;
}

/*
 * On x86-64 the loop is also compiled for x86-64-v3 (Haswell, Zen and later), picked at load
 * time: lzcnt for the sketches' ranks, BMI2 shifts and movbe for big-endian fields (3% fewer
 * instructions on the benchmark capture, ~5% less time), and older CPUs still get the baseline
 * copy.
 */
#if defined(__x86_64__) && defined(__GNUC__) && __GNUC__ >= 11 && !defined(__clang__) /* x86-64-v3: GCC 11 on */
#define RUN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RUN_CLONES
#endif

/*
 * The common capture format (little-endian classic pcap of Ethernet frames) gets its own copy of
 * the loop with the format as constants: the byte-order and link-type branches of every field
 * read fold away.
 */
RUN_CLONES static size_t run(Ctx *c, const uint8_t *buf, size_t offset, size_t end) {
  const int le = c->state[S_LITTLE_ENDIAN] != 0;
  const uint32_t link = (uint32_t)c->state[S_LINK_TYPE];
  const size_t rh = (size_t)c->state[S_RECORD_HEADER];
  if (le && link == 1 && rh == 16) return run_as(c, buf, offset, end, 1, 1, 16);
  return run_as(c, buf, offset, end, le, link, rh);
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "darknet native: bad argument"); return NULL; } } while (0)

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  size_t len;
  void *ptr;
  napi_value ab;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &ab, &byte_offset) != napi_ok || type != want) return 0;
  *data = ptr;
  *length = len;
  return 1;
}

/*
 * observe(buf, offset, end, state, ranges, records, side, newIndex, hotIndex, newFree, hotFree,
 *         slots, keys, dense, asnPackets, countryPackets) -> offset
 */
static napi_value observe(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 16) {
    napi_throw_error(env, NULL, "darknet native: observe takes 16 arguments");
    return NULL;
  }
  Ctx c;
  void *buf = NULL;
  size_t buf_len = 0, len = 0;
  double offset_d, end_d;
  int ok = typed(env, argv[0], napi_uint8_array, &buf, &buf_len);
  CHECK(napi_get_value_double(env, argv[1], &offset_d));
  CHECK(napi_get_value_double(env, argv[2], &end_d));
  ok = ok && typed(env, argv[3], napi_float64_array, (void **)&c.state, &len) && len >= S_COUNT;
  ok = ok && typed(env, argv[4], napi_float64_array, (void **)&c.ranges, &len);
  c.range_count = (uint32_t)(len / 2);
  ok = ok && typed(env, argv[5], napi_uint8_array, (void **)&c.bytes, &c.bytes_len);
  ok = ok && typed(env, argv[6], napi_int32_array, (void **)&c.side, &len);
  ok = ok && typed(env, argv[7], napi_uint32_array, (void **)&c.new_index, &len);
  size_t new_index_len = len;
  ok = ok && typed(env, argv[8], napi_uint32_array, (void **)&c.hot_index, &len);
  size_t hot_index_len = len;
  ok = ok && typed(env, argv[9], napi_int32_array, (void **)&c.new_free, &len);
  ok = ok && typed(env, argv[10], napi_int32_array, (void **)&c.hot_free, &len);
  size_t slots_len;
  ok = ok && typed(env, argv[11], napi_uint8_array, (void **)&c.slots, &slots_len);
  ok = ok && typed(env, argv[12], napi_int32_array, (void **)&c.keys, &c.keys_len);
  ok = ok && typed(env, argv[13], napi_uint8_array, (void **)&c.dense, &c.dense_len);
  ok = ok && typed(env, argv[14], napi_float64_array, (void **)&c.asn_packets, &c.asn_len);
  ok = ok && typed(env, argv[15], napi_float64_array, (void **)&c.country_packets, &c.country_len);
  if (!ok) {
    napi_throw_type_error(env, NULL, "darknet native: wrong typed array");
    return NULL;
  }
  /* The layouts this code assumes; a mismatch means analyzer.ts changed without this file. */
  double *s = c.state;
  if (end_d > (double)buf_len || offset_d < 0 || offset_d > end_d ||
      new_index_len != 2 * ((size_t)s[S_MASK] + 1) || hot_index_len != 2 * ((size_t)s[S_HOT_MASK] + 1) ||
      c.bytes_len < 2 * (size_t)s[S_LIMIT] * RECORD_BYTES ||
      slots_len < (size_t)4 * PORTS_PER_PROTOCOL * SLOT_BYTES) {
    napi_throw_range_error(env, NULL, "darknet native: inconsistent arrays");
    return NULL;
  }
  s[S_FAST_FRAMES] = 0;
  size_t consumed = run(&c, (const uint8_t *)buf, (size_t)offset_d, (size_t)end_d);
  napi_value out;
  CHECK(napi_create_double(env, (double)consumed, &out));
  return out;
}

/*
 * Layer.measure for the native path (stats.ts): each key in use gets its packets and unique-source
 * estimate, and `order` the keys in address order (key * ORDER_SHIFT + position). The estimate is
 * hllCount's, operation for operation; its linear-counting branch reads `linear[zeros]`, computed in
 * TypeScript with Math.log, so both paths round the same numbers.
 */
#define KEY_SPACE (4u * PORTS_PER_PROTOCOL)
#define ORDER_SHIFT 524288.0
/* 2^-r for the ranks a register can hold (hll.ts's INVERSE_POWERS). */
static double inverse_powers[64];

static double estimate(const uint8_t *slot, const uint8_t *dense, size_t dense_blocks, const double *linear) {
  const uint32_t *w = (const uint32_t *)slot;
  uint32_t block = w[2];
  if (block == 0 || block > dense_blocks) return linear[REGS - (w[3] <= SPARSE_MAX ? w[3] : SPARSE_MAX)];
  const uint8_t *regs = dense + (size_t)(block - 1) * REGS;
  double sum = 0;
  uint32_t zeros = 0;
  for (uint32_t i = 0; i < REGS; i++) {
    uint8_t r = regs[i];
    sum += r < 64 ? inverse_powers[r] : ldexp(1.0, -(int)r);
    zeros += r == 0;
  }
  double raw = (0.709 * REGS * REGS) / sum;
  if (raw <= 2.5 * REGS && zeros > 0) return linear[zeros];
  double whole = floor(raw);
  return raw - whole >= 0.5 ? whole + 1 : whole; /* Math.round */
}

static napi_value measure(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *slots, *dense;
  int32_t *keys, *positions;
  double *linear, *order, *packets, *sources;
  size_t slots_len, keys_len, dense_len, linear_len, positions_len, order_len, packets_len, sources_len;
  double used_d;
  int ok = argc == 9 && typed(env, argv[0], napi_uint8_array, (void **)&slots, &slots_len) &&
           typed(env, argv[1], napi_int32_array, (void **)&keys, &keys_len) &&
           napi_get_value_double(env, argv[2], &used_d) == napi_ok &&
           typed(env, argv[3], napi_uint8_array, (void **)&dense, &dense_len) &&
           typed(env, argv[4], napi_float64_array, (void **)&linear, &linear_len) &&
           typed(env, argv[5], napi_int32_array, (void **)&positions, &positions_len) &&
           typed(env, argv[6], napi_float64_array, (void **)&order, &order_len) &&
           typed(env, argv[7], napi_float64_array, (void **)&packets, &packets_len) &&
           typed(env, argv[8], napi_float64_array, (void **)&sources, &sources_len);
  size_t used = ok && used_d >= 0 ? (size_t)used_d : 0;
  if (!ok || used > keys_len || used > order_len || used > packets_len || used > sources_len ||
      slots_len < (size_t)KEY_SPACE * SLOT_BYTES || positions_len < KEY_SPACE || linear_len < REGS + 1) {
    napi_throw_type_error(env, NULL, "darknet native: measure: bad arguments");
    return NULL;
  }
  for (size_t i = 0; i < used; i++) {
    if ((uint32_t)keys[i] >= KEY_SPACE) {
      napi_throw_range_error(env, NULL, "darknet native: measure: key out of range");
      return NULL;
    }
  }
  // Each key in first-seen order, its slot and then its dense block prefetched ahead (the slots of
  // a few hundred thousand ports and their blocks are far bigger than the caches).
  const size_t dense_blocks = dense_len / REGS;
  for (size_t i = 0; i < used; i++) {
    if (i + 16 < used) prefetch(slots + (size_t)keys[i + 16] * SLOT_BYTES);
    if (i + 8 < used) {
      uint32_t block = ((const uint32_t *)(slots + (size_t)keys[i + 8] * SLOT_BYTES))[2];
      if (block != 0 && block <= dense_blocks) {
        prefetch(dense + (size_t)(block - 1) * REGS);
        prefetch(dense + (size_t)(block - 1) * REGS + REGS - 1);
      }
    }
    const uint8_t *slot = slots + (size_t)keys[i] * SLOT_BYTES;
    packets[i] = *(const double *)slot;
    sources[i] = estimate(slot, dense, dense_blocks, linear);
  }
  // The keys in address order.
  for (size_t i = 0; i < used; i++) positions[keys[i]] = (int32_t)i;
  size_t j = 0;
  for (uint32_t key = 0; key < KEY_SPACE && j < used; key++) {
    int32_t i = positions[key];
    if (i < 0) continue;
    positions[key] = -1;
    order[j++] = key * ORDER_SHIFT + i;
  }
  return NULL;
}

/*
 * infectedSlots(records, ranges, minPackets, minBackscatterShare, minFingerprintShare, infectedBy,
 * out) -> count: the record ids in `ranges` ([start, end) pairs) whose source classOf (analyzer.ts)
 * calls infected, in order, written to `out`. For tables without user rules or a scanner list (the
 * caller's side of the bargain); `infectedBy` has bit 0 set when the Mirai fingerprint's class is
 * infected, bit 1 masscan, bit 2 ZMap. The comparisons are classOf's, in doubles.
 */
static napi_value infected_slots(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *bytes;
  double *ranges;
  int32_t *out;
  size_t bytes_len, ranges_len, out_len;
  double min_packets, backscatter_share, fingerprint_share, infected_by;
  int ok = argc == 7 && typed(env, argv[0], napi_uint8_array, (void **)&bytes, &bytes_len) &&
           typed(env, argv[1], napi_float64_array, (void **)&ranges, &ranges_len) &&
           napi_get_value_double(env, argv[2], &min_packets) == napi_ok &&
           napi_get_value_double(env, argv[3], &backscatter_share) == napi_ok &&
           napi_get_value_double(env, argv[4], &fingerprint_share) == napi_ok &&
           napi_get_value_double(env, argv[5], &infected_by) == napi_ok &&
           typed(env, argv[6], napi_int32_array, (void **)&out, &out_len);
  if (!ok || ranges_len % 2 != 0) {
    napi_throw_type_error(env, NULL, "darknet native: infectedSlots: bad arguments");
    return NULL;
  }
  const size_t records = bytes_len / RECORD_BYTES;
  const int by = (int)infected_by;
  size_t n = 0;
  for (size_t r = 0; r < ranges_len; r += 2) {
    size_t start = ranges[r] > 0 ? (size_t)ranges[r] : 0, end = ranges[r + 1] > 0 ? (size_t)ranges[r + 1] : 0;
    if (end > records) end = records;
    for (size_t id = start; id < end; id++) {
      const uint8_t *b = bytes + id * RECORD_BYTES;
      if (b[B_FAMILY] == 0) continue;
      const uint32_t *u32 = (const uint32_t *)b;
      const double packets = ((const double *)b)[D_PACKETS];
      if (packets < min_packets) continue;
      if (u32[F_BACKSCATTER] >= backscatter_share * packets) continue;
      const double syn = u32[F_SYN], mirai = u32[F_MIRAI], masscan = u32[F_MASSCAN], zmap = u32[F_ZMAP];
      int infected;
      if (mirai > 0 && mirai >= fingerprint_share * syn) infected = by & 1;
      else if (masscan >= 2 && masscan >= fingerprint_share * syn) infected = by & 2;
      else if (zmap >= 2 && zmap >= fingerprint_share * (double)u32[F_PROBES]) infected = by & 4;
      else infected = 0;
      if (!infected) continue;
      if (n >= out_len) {
        napi_throw_range_error(env, NULL, "darknet native: infectedSlots: out is too short");
        return NULL;
      }
      out[n++] = (int32_t)id;
    }
  }
  napi_value count;
  CHECK(napi_create_double(env, (double)n, &count));
  return count;
}

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/*
 * mapFile(fd, offset, length) -> Uint8Array over the file's bytes [offset, offset + length),
 * mapped private (a write only changes this process's copy) and unmapped when the array is
 * collected. Reading a capture this way skips the kernel's copy into a read buffer, which costs
 * as much CPU as a third of the whole analysis. `offset` must be a multiple of the page size.
 */
static napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  double offset, length;
  if (argc != 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_double(env, argv[1], &offset) != napi_ok ||
      napi_get_value_double(env, argv[2], &length) != napi_ok || length < 1 || offset < 0) {
    napi_throw_type_error(env, NULL, "mapFile(fd, offset, length): bad arguments");
    return NULL;
  }
  void *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)offset);
  if (p == MAP_FAILED) {
    char message[96];
    snprintf(message, sizeof message, "mmap failed: %s", strerror(errno));
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  madvise(p, (size_t)length, MADV_SEQUENTIAL);
  napi_value buffer, array;
  if (napi_create_external_arraybuffer(env, p, (size_t)length, unmap, (void *)(uintptr_t)(size_t)length, &buffer) !=
      napi_ok) {
    munmap(p, (size_t)length);
    napi_throw_error(env, NULL, "mapFile: external buffers are not allowed here");
    return NULL;
  }
  CHECK(napi_create_typedarray(env, napi_uint8_array, (size_t)length, buffer, 0, &array));
  return array;
}

/* The one typed array a function takes. */
typedef struct {
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buffer;
} TypedArgument;

/* Reads the one typed array a function takes into `a`; 0 (a TypeError thrown with `usage`) when it is not one. */
static int typed_argument(napi_env env, napi_callback_info info, const char *usage, TypedArgument *a) {
  size_t argc = 1, byte_offset;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_typedarray_info(env, argv[0], &a->type, &a->length, &a->data, &a->buffer, &byte_offset) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

/* unmapFile(array): detaches a mapFile array (so nothing can read it again) and unmaps it now. */
static napi_value unmap_file(napi_env env, napi_callback_info info) {
  TypedArgument a;
  if (!typed_argument(env, info, "unmapFile(array): an array from mapFile", &a)) return NULL;
  CHECK(napi_detach_arraybuffer(env, a.buffer));
  return NULL;
}

/* The bytes of a typed array's pages: [start, stop) rounded inwards to whole pages of `page` bytes. */
static void array_pages(const TypedArgument *a, uintptr_t page, uintptr_t *start, uintptr_t *stop) {
  const napi_typedarray_type t = a->type;
  const size_t element = t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array ? 8
                         : t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array ? 4
                         : t == napi_uint16_array || t == napi_int16_array ? 2 : 1;
  *start = ((uintptr_t)a->data + page - 1) & ~(page - 1);
  *stop = ((uintptr_t)a->data + a->length * element) & ~(page - 1);
}

/*
 * Transparent huge pages (2 MiB) for a table's memory, where the kernel allows them (`madvise` mode):
 * on a VM each 4 KiB page's first touch costs about 2 us, so faulting in 64 MiB takes about 30 ms
 * in small pages and 7 in huge ones, and a random access then needs one TLB entry per 2 MiB.
 */
#define HUGE_PAGE ((uintptr_t)2 << 20)
static void advise_huge_pages(const TypedArgument *a) {
#ifdef MADV_HUGEPAGE
  uintptr_t start, stop;
  array_pages(a, HUGE_PAGE, &start, &stop);
  if (stop > start) madvise((void *)start, stop - start, MADV_HUGEPAGE);
#else
  (void)a;
#endif
}

/*
 * populate(array): faults in every page of `array` now, in huge pages where the kernel allows, with
 * one madvise where it can (MADV_POPULATE_WRITE). For tables the loop writes at random all over
 * (the new-source index, the statistics slots): on a VM thousands of first-touch faults, one at a
 * time, cost more than zeroing the same pages in one call.
 */
static napi_value populate_array(napi_env env, napi_callback_info info) {
  TypedArgument a;
  if (!typed_argument(env, info, "populate(array): a typed array", &a)) return NULL;
  advise_huge_pages(&a);
  uintptr_t start, stop;
  array_pages(&a, PAGE, &start, &stop);
  populate_pages(start, stop);
  return NULL;
}

/*
 * adviseHugePages(array): huge pages for `array`'s memory from its next first touch on (the source
 * records, faulted in by the loop a run at a time as sources arrive).
 */
static napi_value advise_huge_pages_array(napi_env env, napi_callback_info info) {
  TypedArgument a;
  if (!typed_argument(env, info, "adviseHugePages(array): a typed array", &a)) return NULL;
  advise_huge_pages(&a);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  for (int r = 0; r < 64; r++) inverse_powers[r] = ldexp(1.0, -r);
  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
      {"observe", observe},   {"mapFile", map_file},          {"unmapFile", unmap_file},
      {"measure", measure},   {"infectedSlots", infected_slots}, {"populate", populate_array},
      {"adviseHugePages", advise_huge_pages_array},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, functions[i].name, fn) != napi_ok)
      return NULL;
  }
  napi_value count;
  if (napi_create_uint32(env, S_COUNT, &count) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "stateSlots", count) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
