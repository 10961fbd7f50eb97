import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestRule,
  checkRules,
  EXPECTED_HOSTS,
  tailThreshold,
  type RuleCheck,
  type ScoredRow,
} from './threshold.ts';

/** A seeded uniform in [0, 1), so the synthetic tails are the same every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Benign hosts with exponential log-odds (scale 1) above -8; one row each unless `pages`. */
function benignHosts(n: number, seed: number, pages = 1): ScoredRow[] {
  const next = random(seed);
  const rows: ScoredRow[] = [];
  for (let h = 0; h < n; h++) {
    const top = -8 - Math.log(1 - next());
    for (let p = 0; p < pages; p++) rows.push({ host: `b${seed}-${h}`, logOdds: top - p, phishing: false });
  }
  return rows;
}

test('the threshold is never below the highest benign score, and rises as fewer hosts may pass', () => {
  const benign = benignHosts(20_000, 1);
  const highest = Math.max(...benign.map((r) => r.logOdds));
  const loose = tailThreshold(benign, { share: 0.003, expected: 0.3 });
  const strict = tailThreshold(benign, { share: 0.003, expected: 0.05 });
  assert.ok(loose >= highest);
  assert.ok(strict > loose, `${strict} > ${loose}`);
  // On a set ten times larger the same expected count needs a higher threshold.
  assert.ok(tailThreshold(benign, { share: 0.003, expected: 0.3 }, 200_000) > loose);
  assert.equal(tailThreshold([], { share: 0.003, expected: 0.3 }), Infinity);
});

test('a host counts once however many pages it has', () => {
  const once = benignHosts(5_000, 2);
  const many = benignHosts(5_000, 2, 4);
  const rule = { share: 0.004, expected: 0.2 };
  assert.equal(tailThreshold(many, rule), tailThreshold(once, rule));
});

test('on an exponential tail the rule carries to a fresh sample: few benign hosts of it pass', () => {
  const rule = { share: 0.003, expected: 0.1 };
  let passed = 0;
  for (let seed = 10; seed < 30; seed++) {
    const t = tailThreshold(benignHosts(20_000, seed), rule);
    passed += benignHosts(20_000, seed + 1000).filter((r) => r.logOdds >= t).length;
  }
  // 0.1 expected per check (the fitted scale is itself noisy): well under one a check over 20.
  assert.ok(passed <= 8, `${passed} benign hosts passed over 20 fresh samples`);
});

test('the nested check keeps a rule with no held-out false positive and the best recall', () => {
  const phishing: ScoredRow[] = Array.from({ length: 2_000 }, (_, i) => ({
    host: `p${i}`,
    logOdds: -4 + (i % 40) * 0.5,
    phishing: true,
  }));
  const checks = checkRules([...benignHosts(20_000, 3), ...phishing]);
  assert.equal(checks.length, 20);
  const kept = bestRule(checks);
  const clean = checks.filter((c) => c.heldOutFalsePositives === 0);
  if (clean.length > 0) {
    assert.equal(kept.heldOutFalsePositives, 0);
    assert.equal(kept.heldOutRecall, Math.max(...clean.map((c) => c.heldOutRecall)));
  }
  const dirty: RuleCheck[] = checks.map((c, i) => ({ ...c, heldOutFalsePositives: 1 + (i % 3) }));
  assert.equal(bestRule(dirty).heldOutFalsePositives, 1);
});

test('the nested check weighs the expected counts it is given, each with every tail share', () => {
  const phishing: ScoredRow[] = Array.from({ length: 500 }, (_, i) => ({
    host: `p${i}`,
    logOdds: -4 + (i % 40) * 0.5,
    phishing: true,
  }));
  const rows = [...benignHosts(5_000, 4), ...phishing];
  const checks = checkRules(rows, [1, 0.5]);
  assert.equal(checks.length, 10);
  assert.deepEqual([...new Set(checks.map((c) => c.rule.expected))], [1, 0.5]);
  // The default candidates are EXPECTED_HOSTS, as before.
  assert.deepEqual([...new Set(checkRules(rows).map((c) => c.rule.expected))], [...EXPECTED_HOSTS]);
});
