#!/usr/bin/env node
// Writes docs/RELIABILITY.md from the figures the reliability suites record, one JSON line per
// case in .camflow/reliability/<suite>.jsonl (test/reliability/support/figures.ts): a section
// per suite, a table per case (what was injected, what must happen, what was measured, whether
// it held). The latest record of each case wins; each table says when it was measured.
// Usage: node scripts/reliability-report.mjs [--in <dir>] [--out <file>]
//        node scripts/reliability-report.mjs --reset   (before a full run: forgets the figures of
//        the suites under test/reliability/, so cases that no longer exist drop out of the report)
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const inDir = arg('--in', join(root, '.camflow/reliability'));
const outFile = arg('--out', join(root, 'docs/RELIABILITY.md'));

/** What each known suite demonstrates (others get their name only). */
const SUITES = {
  faults:
    'Parts of the pipeline fail mid-run (processes killed, Redis and S3 down, duplicate deliveries, poison images); afterwards every job of the run is checked: each source key has exactly one result, outputs exist once, counts are exact.',
  'bad-input':
    'Malformed images, requests and models: each yields a clear error (HTTP 4xx with a message, or a failed job with a permanent reason), no crash and no retry storm.',
  security:
    'Tokens, scopes and buckets enforced on every route; secrets stay out of logs; outputs stay inside their prefix; presigned URLs expire.',
  hardening:
    'Inputs that used to waste retries, hang a run or answer 500 (oversized cards, impossible targets, runs whose every job fails, over-long event keys, run ids naming Redis keys, 50 MB bodies, Bull Board errors, loose Authorization headers): each fails once, clearly.',
  'key-policy':
    'Keys that climb out of their bucket (`..`, absolute, empty segments, NUL, over 1024 bytes) through every door (run keys, prefix, manifest path and entries, single jobs, bucket events, the embedded S3 server): refused with the key and the rule named, or skipped and counted.',
  load: 'Sustained load on this machine: throughput, latency percentiles, memory, lost and duplicated jobs.',
  dicom:
    'The hospital path with real DICOM peers (dcmtk storescu as the modality, Orthanc as the PACS): the DICOM service killed mid-association, a destination PACS down; afterwards every instance is checked in S3, in the queue and at the destination.',
};
/** Fields that describe a record rather than measure something. */
const META = new Set([
  'suite',
  'case',
  'name',
  'injected',
  'expected',
  'pass',
  'at',
  'date',
  'note',
]);
/** Longer arrays (time series) are summarised, not listed. */
const MAX_LISTED = 12;

function readRecords() {
  if (!existsSync(inDir)) return [];
  const records = [];
  for (const file of readdirSync(inDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    const lines = readFileSync(join(inDir, file), 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line);
        records.push({ suite: file.replace(/\.jsonl$/, ''), ...r, at: r.at ?? r.date });
      } catch {
        process.stderr.write(`reliability-report: ${file}:${i + 1}: not JSON, skipped\n`);
      }
    }
  }
  return records;
}

/** suite -> latest record per case, in the order the cases were last run. */
function latestPerCase(records) {
  const bySuite = new Map();
  for (const r of records) {
    const name = String(r.case ?? r.name ?? '(unnamed)');
    if (!bySuite.has(r.suite)) bySuite.set(r.suite, new Map());
    const cases = bySuite.get(r.suite);
    const prev = cases.get(name);
    if (!prev || String(r.at ?? '') >= String(prev.at ?? '')) cases.set(name, { ...r, case: name });
  }
  const ordered = [...bySuite.keys()].sort(
    (a, b) => suiteRank(a) - suiteRank(b) || a.localeCompare(b),
  );
  return ordered.map((s) => [
    s,
    [...bySuite.get(s).values()].sort((a, b) =>
      String(a.at ?? '').localeCompare(String(b.at ?? '')),
    ),
  ]);
}

function suiteRank(suite) {
  const i = Object.keys(SUITES).indexOf(suite);
  return i < 0 ? 99 : i;
}

/** Unit suffixes of figure names. */
const UNITS = { Seconds: 's', Ms: 'ms', MiB: 'MiB', Bytes: 'bytes', Percent: '%' };

/** `recoverySeconds` -> `recovery (s)`, `lockDurationMs` -> `lock duration (ms)`. */
function label(key) {
  const suffix = Object.keys(UNITS).find((u) => key.endsWith(u) && key.length > u.length);
  const base = suffix ? key.slice(0, -suffix.length) : key;
  const words = base.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return suffix ? `${words} (${UNITS[suffix]})` : words;
}

function value(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (Array.isArray(v)) return v.length > MAX_LISTED ? series(v) : v.map(value).join(', ');
  if (typeof v === 'object')
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${value(x)}`)
      .join(', ');
  return String(v);
}

/** A long array in a few words: its length and range (of the last column, for pairs). */
function series(v) {
  const nums = v
    .map((x) => (Array.isArray(x) ? x[x.length - 1] : x))
    .filter((x) => typeof x === 'number');
  if (nums.length === 0) return `${v.length} values`;
  return `${v.length} values, first ${value(nums[0])}, min ${value(Math.min(...nums))}, max ${value(Math.max(...nums))}, last ${value(nums[nums.length - 1])}`;
}

/** A record's verdict: its `pass`, else all of its boolean `checks`, else none. */
function passed(r) {
  if (typeof r.pass === 'boolean') return r.pass;
  const checks = r.checks && typeof r.checks === 'object' ? Object.values(r.checks) : [];
  if (checks.length > 0 && checks.every((c) => typeof c === 'boolean'))
    return checks.every(Boolean);
  return undefined;
}

const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');
const verdict = (r) => {
  const p = passed(r);
  return p === true ? '**pass**' : p === false ? '**FAIL**' : '–';
};

function caseTable(r) {
  const rows = [];
  if (r.injected !== undefined) rows.push(['injected', r.injected]);
  if (r.expected !== undefined) rows.push(['expected', r.expected]);
  for (const [k, v] of Object.entries(r)) if (!META.has(k)) rows.push([label(k), value(v)]);
  rows.push(['result', verdict(r)]);
  const lines = [`### ${r.case}`, '', '| | |', '|---|---|'];
  for (const [k, v] of rows) lines.push(`| ${cell(k)} | ${cell(v)} |`);
  if (r.note) lines.push('', `Note: ${r.note}`);
  if (r.at) lines.push('', `Measured ${r.at}.`);
  return lines.join('\n');
}

function machine() {
  const model = cpus()[0]?.model?.trim() || 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(0);
  return `${availableParallelism()} CPUs (nproc), ${model}, ${gib} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

function render(suites) {
  const all = suites.flatMap(([, cases]) => cases);
  const failed = all.filter((r) => passed(r) === false);
  const out = [
    '# camflow reliability',
    '',
    'Generated by `scripts/reliability-report.mjs` from the figures the suites under',
    '`test/reliability/` write to `.camflow/reliability/*.jsonl`; do not edit by hand.',
    '',
    '- Command: `npm run test:reliability` (builds, resets these figures, runs every suite under `test/reliability` one file at a time with `CAMFLOW_LONG=1`, then writes this page)',
    `- Generated: ${new Date().toISOString()}`,
    `- Machine: ${machine()}`,
    `- Cases: ${all.length}, passed ${all.filter((r) => passed(r) === true).length}, failed ${failed.length}`,
    '',
    'Everything runs on this one machine with real processes: `redis-server` (AOF), an S3 server',
    '(s3rver), and the services as separate `camflow serve` processes. Timings depend on the',
    "machine's load at the time.",
    '',
    '| suite | case | result |',
    '|---|---|---|',
    ...all.map((r) => `| ${cell(r.suite)} | ${cell(r.case)} | ${verdict(r)} |`),
  ];
  for (const [suite, cases] of suites) {
    out.push('', `## ${suite}`, '');
    if (SUITES[suite]) out.push(SUITES[suite], '');
    out.push(cases.map(caseTable).join('\n\n'));
  }
  if (all.length === 0) out.push('', 'No figures recorded yet: run `npm run test:reliability`.');
  return `${out.join('\n')}\n`;
}

if (process.argv.includes('--reset')) {
  const dir = join(root, 'test/reliability');
  const suites = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory() && d.name !== 'support')
        .map((d) => d.name)
    : [];
  for (const suite of suites) rmSync(join(inDir, `${suite}.jsonl`), { force: true });
  process.stdout.write(
    `reliability-report: figures reset for ${suites.join(', ') || 'no suite'}\n`,
  );
  process.exit(0);
}

const suites = latestPerCase(readRecords());
writeFileSync(outFile, render(suites));
const count = suites.reduce((n, [, c]) => n + c.length, 0);
process.stdout.write(`reliability-report: ${count} cases from ${inDir} -> ${outFile}\n`);
