import type { Finding } from '@camflow/contracts';
import { auditSection } from './audit-section.js';
import type { ReportData } from './data.js';
import { card, className } from './gallery-card.js';
import { labelSection } from './label-section.js';
import { legendSvg } from './legend.js';
import { splitSection } from './split-section.js';
import { CSS } from './style.js';
import { histogramSvg, scatterSvg } from './svg.js';
import { fmt, html, raw, type SafeHtml } from './template.js';

/** Gallery images loaded at once (the first screens), so a full-page capture shows them. */
const EAGER_IMAGES = 24;

/** The report: the audit first, then the run, its labels, plots, failures and the gallery. */
export function renderReport(d: ReportData): string {
  const r = d.run;
  const where = `s3://${r.source.bucket}/${r.source.prefix ?? r.source.manifest ?? ''}`;
  const title = `Audit of ${r.model} on ${where}`;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${raw(CSS)}</style></head><body>
<h1>${title}</h1>
<div class="muted">run ${r.runId}; generated ${new Date(d.generatedAt).toISOString()}; image links expire after a while: reload the page to renew them</div>
${auditSection(d)}
${summary(d)}
${splitSection(d)}
${labelSection(d)}
${plots(d)}
${failures(d)}
${gallery(d)}
</body></html>`.value;
}

function summary(d: ReportData): SafeHtml {
  const r = d.run;
  const rows: [string, string][] = [
    ['status', r.status + (r.error ? ` (${r.error})` : '')],
    ['model', r.model],
    ['layer', d.resolved.layer ?? r.layer ?? '–'],
    ['CAM drawn', d.resolved.align ?? r.align ?? '–'],
    ['method', r.method],
    ['target', targetText(r.target, d.targetNames)],
    ...(d.targets !== undefined
      ? [['targets', targetsText(d.targets, d.targetNames)] as [string, string]]
      : []),
    ['source', `s3://${r.source.bucket}/${r.source.prefix ?? r.source.manifest ?? ''}`],
    ['images', `${r.total}${r.listingDone ? '' : ' so far (listing in progress)'}`],
    ['completed', String(r.completed)],
    ['failed', String(r.failed)],
    ['pending', String(r.pending)],
    ['throughput', r.throughput === null ? '–' : `${fmt(r.throughput, 2)} images/s`],
    ['ETA', r.etaSeconds === null ? '–' : `${r.etaSeconds} s`],
  ];
  const note = d.truncated
    ? html`<p class="warn">This run is large: statistics, plots and the gallery cover the first ${d.scanned} results in completion order.</p>`
    : '';
  return html`<h2>The run</h2><table class="summary">${rows.map(([k, v]) => html`<tr><td>${k}</td><td class="k">${v}</td></tr>`)}</table>${note}`;
}

function plots(d: ReportData): SafeHtml | string {
  if (d.completed.length === 0) return '';
  const score = (e: ReportData['completed'][number]) =>
    e.prediction.scores[e.prediction.target] ?? e.prediction.scores[0];
  const border = d.completed.map((e) => e.stats.borderEnergy).filter((v) => typeof v === 'number');
  const points = d.completed
    .slice(0, 5000)
    .map((e) => ({ x: score(e), y: e.stats.borderEnergy, flagged: false }));
  return html`<h2>Plots</h2><div class="plots">${raw(histogramSvg({ title: 'Target score', xLabel: 'score', values: d.completed.map(score) }))}${raw(
    histogramSvg({
      title: 'CAM energy in the border band (a statistic)',
      xLabel: 'border energy',
      values: border,
    }),
  )}${raw(scatterSvg({ title: 'Score vs border energy', xLabel: 'score', yLabel: 'border energy', points }))}</div>`;
}

function failures(d: ReportData): SafeHtml | string {
  if (d.failed.length === 0) return '';
  const more =
    d.failed.length > 200
      ? html`<p class="muted">first 200 of ${d.failed.length} failures</p>`
      : '';
  return html`<h2>Failures (${d.failed.length})</h2><table><tr><th class="k">reason</th><th>images</th></tr>${d.failureReasons.map(
    ([r, n]) => html`<tr><td class="k">${r}</td><td>${n}</td></tr>`,
  )}</table><p></p><table><tr><th class="k">key</th><th class="k">reason</th><th class="k">message</th></tr>${d.failed
    .slice(0, 200)
    .map(
      (f) =>
        html`<tr><td class="k key">${f.source.key}</td><td class="k">${f.error.reason}</td><td class="k">${f.error.message}</td></tr>`,
    )}</table>${more}`;
}

function gallery(d: ReportData): SafeHtml {
  const shown = d.gallery.length;
  const note =
    shown < d.galleryCandidates
      ? html`<p class="muted">Showing ${shown} of ${d.galleryCandidates} images; the API's results endpoint lists them all.</p>`
      : '';
  const findings = (d.audit.findings ?? []) as Finding[];
  const order =
    d.inRegion > 0
      ? `the ${d.inRegion} images carrying a finding's region first`
      : 'in completion order';
  return html`<h2>Gallery: ${order}</h2>${note}${galleryLegend()}<div class="gallery">${d.gallery.map((g, i) => card(g, findings, i < EAGER_IMAGES))}</div>`;
}

/** A run's target by class name ("predicted", or the class an index names). */
function targetText(t: ReportData['run']['target'], classes: string[] = []): string {
  return typeof t === 'number' ? className(classes, t) : t;
}

/** A run's several targets in words, classes by name. */
function targetsText(t: NonNullable<ReportData['targets']>, classes: string[] = []): string {
  if (t === 'all') return 'every class';
  if (t === 'predicted') return 'every predicted label';
  if (Array.isArray(t)) return t.map((k) => className(classes, k)).join(', ');
  return `the top ${t.top} classes`;
}

/** How to read an overlay: the colour scale, and the hatching where the card's crop cut away. */
function galleryLegend(): SafeHtml {
  return html`<div class="legend">${legendSvg("CAM, 0 to the map's maximum")}<span class="unseen-key"><svg xmlns="http://www.w3.org/2000/svg" width="28" height="16" role="img" aria-label="hatched grey"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#777"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ccc" stroke-width="2"/></pattern></defs><rect width="28" height="16" fill="url(#hatch)" stroke="#999"/></svg> hatched grey: not seen by the model (cut away by its crop)</span></div>`;
}
