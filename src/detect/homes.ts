/**
 * Subscriber homes: what one infected household is in flow data. A dedicated IPv4 address is a
 * home; on a shared public IPv4 (MAP-E, DS-Lite with port-set allocation) a home is the address
 * plus its port set (PSID); on IPv6 a home is its delegated prefix (/56 or /64), whatever
 * privacy address it uses this hour. Evidence follows the home, never the bare shared address.
 *
 * BotIndex answers "is this flow side a listed bot, and of which family?" with no allocation:
 * open-addressing tables of (word, word) keys built when the list is set.
 */
import { parsePrefix, prefixContains6, type Prefix } from '../core/index.ts';
import { PrefixMap, type BotEntry } from './lists.ts';
import { mix32 } from '../core/index.ts';

export interface SharedAddressRule {
  kind: 'map-e' | 'ds-lite';
  /** The shared public IPv4 pool (CIDR). */
  pool: string;
  /** PSID bits (k): 2^k homes share one address. */
  psidLength: number;
  /** Offset bits (a): the leading port bits before the PSID (MAP-E default 6). */
  psidOffset: number;
}

interface CompiledRule {
  network: number;
  mask: number;
  /** Right shift that brings the PSID to the low bits: 16 - offset - length. */
  shift: number;
  psidMask: number;
}

/** Second key word of a dedicated (whole) IPv4 address; PSIDs are below 2^16. */
const WHOLE = 0x10000;
/** Second key word of a shared address named without a port: ambiguous. */
const AMBIGUOUS = 0x20000;
const FILTER_BITS = 20;
const FILTER_WORDS = 1 << (FILTER_BITS - 5);

function filterSlot(a: number, b: number): number {
  return mix32(a ^ mix32(b ^ 0x5bd1e995)) >>> (32 - FILTER_BITS);
}

function setBit(filter: Uint32Array, slot: number): void {
  filter[slot >>> 5]! |= 1 << (slot & 31);
}

function hasBit(filter: Uint32Array, slot: number): boolean {
  return (filter[slot >>> 5]! & (1 << (slot & 31))) !== 0;
}

/** Result of a lookup: not a bot. Families are 0 (unknown) and up. */
export const NOT_BOT = -1;
/** Result of a lookup: a shared address named without its port: one of its homes, unknown which. */
export const AMBIGUOUS_BOT = -2;

/** Parses `--map-e 203.0.113.0/24,psid-len=4,offset=6` (and the same for `--ds-lite`). */
export function parseSharedRule(kind: SharedAddressRule['kind'], text: string): SharedAddressRule {
  const [pool = '', ...options] = text.split(',').map((part) => part.trim());
  const prefix = parsePrefix(pool);
  if (prefix.family !== 4) throw new Error(`${kind} pool must be an IPv4 CIDR, not "${pool}"`);
  const rule: SharedAddressRule = {
    kind,
    pool: prefix.text,
    psidLength: 0,
    psidOffset: kind === 'map-e' ? 6 : 0,
  };
  for (const option of options) {
    const [name, value] = option.split('=');
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 16) throw new Error(`${kind}: "${option}" needs a number 0-16`);
    if (name === 'psid-len') rule.psidLength = n;
    else if (name === 'offset') rule.psidOffset = n;
    else throw new Error(`${kind}: unknown option "${name}" (psid-len=, offset=)`);
  }
  checkRule(rule);
  return rule;
}

export function checkRule(rule: SharedAddressRule): void {
  if (rule.psidLength + rule.psidOffset > 16)
    throw new Error(`${rule.kind} ${rule.pool}: psid-len + offset must be at most 16`);
}

/** Hash seed: fixed, so the same input always gives the same sketches and the same list. */
export const HASH_SEED = 0x7a5b_0c1d;

/** Resolves flow sides to homes and hashes them (deterministically). */
export class HomeResolver {
  private readonly rules: CompiledRule[];
  readonly homePrefixLength6: number;

  constructor(rules: readonly SharedAddressRule[], homePrefixLength6: number) {
    this.rules = rules.map((rule) => {
      checkRule(rule);
      const prefix = parsePrefix(rule.pool);
      return {
        network: prefix.network4,
        mask: prefix.mask4,
        shift: 16 - rule.psidOffset - rule.psidLength,
        psidMask: (1 << rule.psidLength) - 1,
      };
    });
    this.homePrefixLength6 = homePrefixLength6;
  }

  get hasSharedPools(): boolean {
    return this.rules.length > 0;
  }

  /** The PSID of `port` when `address` is in a shared pool, else -1 (a dedicated address). */
  psid4(address: number, port: number): number {
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r]!;
      if ((address & rule.mask) >>> 0 === rule.network) return (port >>> rule.shift) & rule.psidMask;
    }
    return -1;
  }

  inSharedPool(address: number): boolean {
    return this.psid4(address, 0) >= 0;
  }

  /**
   * Hash of the home behind an IPv4 flow side (address, or address + PSID in a shared pool).
   * Home hashes are int32 (the same 32 bits as mix32's uint32): a small integer to V8, so the
   * per-flow call returns it unboxed; every use takes bits of it.
   */
  homeHash4(address: number, port: number): number {
    const psid = this.psid4(address, port);
    return mix32(mix32(address ^ HASH_SEED) ^ (psid < 0 ? WHOLE : psid)) | 0;
  }

  /** Hash of the home behind an IPv6 flow side: its first homePrefixLength6 bits. */
  homeHash6(bytes: Uint8Array, offset: number): number {
    this.loadHome6(bytes, offset);
    return mix32(mix32(this.home6Hi ^ HASH_SEED) ^ this.home6Lo) | 0;
  }

  /** Home prefix words of the last loadHome6() (bits 0-31 and 32-63, masked to the home length). */
  home6Hi = 0;
  home6Lo = 0;

  /** Loads the home prefix of the IPv6 address at `offset` into home6Hi/home6Lo (no allocation). */
  loadHome6(bytes: Uint8Array, offset: number): void {
    const bits = Math.min(64, this.homePrefixLength6);
    const loMask = bits >= 64 ? 0xffffffff : bits <= 32 ? 0 : (0xffffffff << (64 - bits)) >>> 0;
    const hiMask = bits >= 32 ? 0xffffffff : bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    this.home6Hi = (word(bytes, offset) & hiMask) >>> 0;
    this.home6Lo = (word(bytes, offset + 4) & loMask) >>> 0;
  }
}

function word(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/**
 * Open-addressing map from a pair of 32-bit words to a small integer; sized once. Words are
 * kept as int32 (either signedness in, the same bits): lookups with per-flow addresses box nothing.
 */
export class PairMap {
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly value: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  size = 0;

  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.a = new Int32Array(capacity);
    this.b = new Int32Array(capacity);
    this.value = new Int32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  private slotOf(a: number, b: number): number {
    let slot = mix32(mix32(a) ^ b) & this.mask;
    while (this.used[slot] && (this.a[slot] !== a || this.b[slot] !== b)) slot = (slot + 1) & this.mask;
    return slot;
  }

  set(a: number, b: number, value: number): void {
    const slot = this.slotOf(a | 0, b | 0);
    if (!this.used[slot]) {
      this.used[slot] = 1;
      this.a[slot] = a;
      this.b[slot] = b;
      this.size++;
    }
    this.value[slot] = value;
  }

  /** The value, or `missing`. */
  get(a: number, b: number, missing: number): number {
    const slot = this.slotOf(a | 0, b | 0);
    return this.used[slot] ? this.value[slot]! : missing;
  }
}

/**
 * The bot list resolved to homes. Lookups return the bot's family index (0 = none named),
 * NOT_BOT, or AMBIGUOUS_BOT for a shared address named without a port.
 */
export class BotIndex {
  readonly families: string[] = [''];
  readonly size: number;
  /** Entries naming a shared address without a port (ambiguous: none of its homes is marked). */
  readonly ambiguous: number;
  private readonly v4: PairMap;
  private readonly v4Cidrs = new PrefixMap<number>();
  private hasV4Cidrs = false;
  /** Explicit port ranges that are not one PSID (or not in a pool), by address. */
  private readonly v4Ranges = new Map<number, { lo: number; hi: number; family: number }[]>();
  private readonly v6: PairMap;
  private readonly v6Prefixes: { prefix: Prefix; family: number }[] = [];
  /** One bit per hashed listed address (v4) or home (v6): most lookups end at a clear bit. */
  private readonly filter4 = new Uint32Array(FILTER_WORDS);
  private readonly filter6 = new Uint32Array(FILTER_WORDS);

  constructor(
    entries: readonly BotEntry[],
    private readonly homes: HomeResolver,
    subscriberPrefixes6: readonly Prefix[],
  ) {
    this.v4 = new PairMap(entries.length);
    this.v6 = new PairMap(entries.length);
    let ambiguous = 0;
    const familyIds = new Map<string, number>([['', 0]]);
    for (const entry of entries) {
      let family = familyIds.get(entry.family);
      if (family === undefined) {
        family = this.families.length;
        familyIds.set(entry.family, family);
        this.families.push(entry.family);
      }
      if (entry.prefix.family === 4) ambiguous += this.add4(entry, family) ? 1 : 0;
      else this.add6(entry, family, subscriberPrefixes6);
    }
    this.size = entries.length;
    this.ambiguous = ambiguous - this.resolveRedundant();
  }

  /**
   * A bare shared address also listed with ports most likely names those same homes (two
   * sources saw the same infection): it stops marking the address ambiguous. Returns how many.
   */
  private resolveRedundant(): number {
    let resolved = 0;
    for (const address of this.bareShared) {
      if (!this.portedShared.has(address)) continue;
      this.v4.set(address, AMBIGUOUS, NOT_BOT);
      resolved++;
    }
    return resolved;
  }

  private readonly bareShared = new Set<number>();
  private readonly portedShared = new Set<number>();

  /** Returns true when the entry is ambiguous (a shared address without a port). */
  private add4(entry: BotEntry, family: number): boolean {
    const address = entry.prefix.network4;
    if (entry.prefix.bits === 32) setBit(this.filter4, filterSlot(address, 0));
    if (entry.prefix.bits < 32) {
      this.v4Cidrs.set(entry.prefix, family);
      this.hasV4Cidrs = true;
      return false;
    }
    const shared = this.homes.inSharedPool(address);
    if (entry.portLo < 0) {
      if (shared) {
        if (this.bareShared.has(address)) return false;
        this.bareShared.add(address);
        this.v4.set(address, AMBIGUOUS, family);
        return true;
      }
      this.v4.set(address, WHOLE, family);
      return false;
    }
    if (!shared) {
      this.v4.set(address, WHOLE, family); // a port seen from a dedicated address: the whole address
      return false;
    }
    this.portedShared.add(address);
    const psidLo = this.homes.psid4(address, entry.portLo);
    const psidHi = this.homes.psid4(address, entry.portHi);
    if (psidLo === psidHi) this.v4.set(address, psidLo, family);
    else {
      const list = this.v4Ranges.get(address) ?? [];
      list.push({ lo: entry.portLo, hi: entry.portHi, family });
      this.v4Ranges.set(address, list);
    }
    return false;
  }

  private add6(entry: BotEntry, family: number, subscriberPrefixes6: readonly Prefix[]): void {
    const homeBits = this.homes.homePrefixLength6;
    const bits = entry.prefix.bits;
    const insideSubscribers =
      subscriberPrefixes6.length === 0 ||
      subscriberPrefixes6.some((p) => prefixContains6(p, entry.prefix.network6));
    if (insideSubscribers && bits >= homeBits && homeBits <= 64) {
      // An address or a longer prefix inside a home: the whole home.
      this.homes.loadHome6(entry.prefix.network6, 0);
      this.v6.set(this.homes.home6Hi, this.homes.home6Lo, family);
      setBit(this.filter6, filterSlot(this.homes.home6Hi, this.homes.home6Lo));
    } else {
      this.v6Prefixes.push({ prefix: entry.prefix, family });
      this.v6Prefixes.sort((a, b) => b.prefix.bits - a.prefix.bits);
    }
  }

  /** The family of the bot behind an IPv4 flow side, NOT_BOT or AMBIGUOUS_BOT. */
  lookup4(address: number, port: number): number {
    if (!hasBit(this.filter4, filterSlot(address, 0))) {
      if (!this.hasV4Cidrs) return NOT_BOT;
      const family = this.v4Cidrs.get4(address);
      if (family === undefined) return NOT_BOT;
      return this.homes.psid4(address, port) >= 0 ? AMBIGUOUS_BOT : family;
    }
    const psid = this.homes.psid4(address, port);
    if (psid >= 0) {
      const home = this.v4.get(address, psid, NOT_BOT);
      if (home !== NOT_BOT) return home;
      const ranges = this.v4Ranges.get(address >>> 0);
      if (ranges !== undefined) {
        for (let r = 0; r < ranges.length; r++) {
          const range = ranges[r]!;
          if (port >= range.lo && port <= range.hi) return range.family;
        }
      }
      if (this.v4.get(address, AMBIGUOUS, NOT_BOT) !== NOT_BOT) return AMBIGUOUS_BOT;
      if (this.hasV4Cidrs && this.v4Cidrs.get4(address) !== undefined) return AMBIGUOUS_BOT;
      return NOT_BOT;
    }
    const whole = this.v4.get(address, WHOLE, NOT_BOT);
    if (whole !== NOT_BOT) return whole;
    if (this.hasV4Cidrs) {
      const family = this.v4Cidrs.get4(address);
      if (family !== undefined) return family;
    }
    return NOT_BOT;
  }

  /** The family of the bot behind an IPv6 flow side, or NOT_BOT. */
  lookup6(bytes: Uint8Array, offset: number): number {
    if (this.v6.size > 0) {
      this.homes.loadHome6(bytes, offset);
      const hi = this.homes.home6Hi;
      const lo = this.homes.home6Lo;
      if (hasBit(this.filter6, filterSlot(hi, lo))) {
        const family = this.v6.get(hi, lo, NOT_BOT);
        if (family !== NOT_BOT) return family;
      }
    }
    const list = this.v6Prefixes;
    for (let i = 0; i < list.length; i++)
      if (prefixContains6(list[i]!.prefix, bytes, offset)) return list[i]!.family;
    return NOT_BOT;
  }
}
