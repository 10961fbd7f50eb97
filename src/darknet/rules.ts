/**
 * User fingerprint rules compiled into flat typed arrays (field, low, high per alternative) so
 * the per-packet test is a loop over numbers. Rules load from YAML or JSON files.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/index.ts';
import {
  RULE_FIELDS,
  RuleFile,
  type FieldCondition,
  type FingerprintRule,
  type RuleField,
} from './config.ts';
import type { PacketInfo } from '../packet/index.ts';

const FIELD_INDEX: Record<RuleField, number> = Object.fromEntries(
  RULE_FIELDS.map((f, i) => [f, i]),
) as Record<RuleField, number>;
/** Pseudo-field: 1 when the TCP sequence number equals the IPv4 destination. */
const SEQ_EQUALS_DST = RULE_FIELDS.length;

/** Reads one header field by index (the order of RULE_FIELDS). */
function fieldValue(p: PacketInfo, field: number): number {
  switch (field) {
    case 0:
      return p.proto;
    case 1:
      return p.srcPort;
    case 2:
      return p.dstPort;
    case 3:
      return p.ttl;
    case 4:
      return p.ipId;
    case 5:
      return p.tcpSeq;
    case 6:
      return p.tcpFlags;
    case 7:
      return p.icmpType;
    case 8:
      return p.icmpCode;
    case SEQ_EQUALS_DST:
      return p.ipVersion === 4 && p.proto === 6 && p.tcpSeq === p.dst4 ? 1 : 0;
    default:
      return -1;
  }
}

export class CompiledRules {
  readonly count: number;
  readonly names: string[];
  readonly classes: FingerprintRule['class'][];
  readonly minHits: Uint32Array;
  /** Per rule: [conditionStart, conditionEnd) into the condition arrays. */
  private readonly ruleStart: Uint32Array;
  private readonly ruleEnd: Uint32Array;
  /** Per condition: field and [altStart, altEnd) into the alternative arrays. */
  private readonly condField: Uint8Array;
  private readonly condAltStart: Uint32Array;
  private readonly condAltEnd: Uint32Array;
  private readonly altLow: Float64Array;
  private readonly altHigh: Float64Array;

  constructor(rules: readonly FingerprintRule[]) {
    this.count = rules.length;
    this.names = rules.map((r) => r.name);
    const seen = new Set<string>();
    for (const name of this.names) {
      if (seen.has(name)) throw new UsageError(`fingerprint rule "${name}" is defined twice`);
      seen.add(name);
    }
    this.classes = rules.map((r) => r.class);
    this.minHits = Uint32Array.from(rules.map((r) => r.minHits));
    const fields: number[] = [];
    const altStarts: number[] = [];
    const altEnds: number[] = [];
    const lows: number[] = [];
    const highs: number[] = [];
    this.ruleStart = new Uint32Array(rules.length);
    this.ruleEnd = new Uint32Array(rules.length);
    rules.forEach((rule, r) => {
      this.ruleStart[r] = fields.length;
      for (const [name, condition] of Object.entries(rule.match)) {
        if (condition === undefined) continue;
        const field = name === 'seqEqualsDst' ? SEQ_EQUALS_DST : FIELD_INDEX[name as RuleField];
        fields.push(field);
        altStarts.push(lows.length);
        const alternatives: [number, number][] =
          typeof condition === 'boolean' ? [[condition ? 1 : 0, condition ? 1 : 0]] : toRanges(condition);
        for (const [lo, hi] of alternatives) {
          lows.push(lo);
          highs.push(hi);
        }
        altEnds.push(lows.length);
      }
      this.ruleEnd[r] = fields.length;
    });
    this.condField = Uint8Array.from(fields);
    this.condAltStart = Uint32Array.from(altStarts);
    this.condAltEnd = Uint32Array.from(altEnds);
    this.altLow = Float64Array.from(lows);
    this.altHigh = Float64Array.from(highs);
  }

  /** Adds one hit to `hits[base + r]` (saturating) for every rule `p` matches. */
  apply(p: PacketInfo, hits: Uint16Array, base: number): void {
    for (let r = 0; r < this.count; r++) {
      if (this.matches(p, r) && hits[base + r]! < 0xffff) hits[base + r]!++;
    }
  }

  matches(p: PacketInfo, r: number): boolean {
    for (let c = this.ruleStart[r]!; c < this.ruleEnd[r]!; c++) {
      const value = fieldValue(p, this.condField[c]!);
      let any = false;
      for (let a = this.condAltStart[c]!; a < this.condAltEnd[c]!; a++) {
        if (value >= this.altLow[a]! && value <= this.altHigh[a]!) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return true;
  }
}

function toRanges(condition: FieldCondition): [number, number][] {
  if (typeof condition === 'number') return [[condition, condition]];
  if (Array.isArray(condition)) return condition.map((v) => [v, v]);
  return [[condition.min, condition.max]];
}

/** Loads rules from a YAML or JSON file `{ rules: [...] }`; a bad file is a UsageError naming the problem. */
export function loadRuleFile(path: string): FingerprintRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read rule file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(`rule file ${path} does not parse: ${(error as Error).message}`);
  }
  const result = RuleFile.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new UsageError(`rule file ${path}: ${problems.join('; ')}`);
  }
  return result.data.rules;
}
