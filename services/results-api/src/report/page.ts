import type { CompletionEvent, Finding } from '@camflow/contracts';
import { classNames, predictedIndex } from '../store/labels.js';
import { auditSection } from './audit-section.js';
import type { GalleryItem, ReportData } from './data.js';
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
${evaluation(d)}
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
    ['target', String(r.target)],
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

function evaluation(d: ReportData): SafeHtml | string {
  const ev = d.evaluation;
  if (!ev) return '';
  const outcomes = d.perOutcome.map(
    ([o, s]) =>
      html`<tr><td class="k">${o}</td><td>${s.n}</td><td>${fmt(s.meanScore)}</td><td>${fmt(s.meanBorderEnergy)}</td><td>${fmt(s.meanEntropy)}</td><td>${s.inRegion}</td></tr>`,
  );
  return html`<h2>Against the labels</h2>
<p>accuracy <b>${fmt(ev.accuracy)}</b> (${ev.correct} of ${ev.labelled} labelled images)</p>
<table><tr><th class="k">label \\ predicted</th>${ev.classes.map((c) => html`<th>${c}</th>`)}</tr>${ev.matrix.map(
    (row, i) =>
      html`<tr><th class="k">${ev.classes[i]}</th>${row.map((n) => html`<td>${n}</td>`)}</tr>`,
  )}</table>
<h2>CAM statistics per outcome</h2>
<table><tr><th class="k">outcome</th><th>images</th><th>mean score</th><th>mean border energy</th><th>mean entropy</th><th>in a finding's region</th></tr>${outcomes}</table>`;
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
  return html`<h2>Gallery: ${order}</h2>${note}<div class="gallery">${d.gallery.map((g, i) => card(g, findings, i < EAGER_IMAGES))}</div>`;
}

function card(g: GalleryItem, findings: Finding[], eager: boolean): SafeHtml {
  const e = g.event;
  const classes = classNames(e.prediction);
  const pred = classes[predictedIndex(e.prediction)] ?? String(e.prediction.predicted);
  const target =
    classes[e.prediction.scores.length === 1 ? 1 : e.prediction.target] ??
    String(e.prediction.target);
  const predScore =
    e.prediction.scores.length === 1
      ? e.prediction.scores[0]
      : e.prediction.scores[e.prediction.predicted];
  const targetScore = e.prediction.scores[e.prediction.target] ?? e.prediction.scores[0];
  const s = e.stats;
  const img = g.overlayUrl
    ? html`<a href="${g.overlayUrl}" title="full-size overlay"><img src="${g.overlayUrl}" loading="${eager ? 'eager' : 'lazy'}" alt="overlay of ${e.source.key}" width="${e.image.width}" height="${e.image.height}"></a>`
    : html`<div class="muted">overlay unavailable</div>`;
  const tags = [
    ...g.regions.map(
      (k) => html`<span class="tag">finding ${k + 1}: ${findings[k]?.place ?? ''}</span>`,
    ),
    ...(g.outcome ? [html`<span class="tag o">${g.outcome}</span>`] : []),
  ];
  const peak = s.peak ? `(${fmt(s.peak.x, 2)}, ${fmt(s.peak.y, 2)})` : '–';
  const explains =
    e.prediction.scores.length === 1 || target === pred
      ? ''
      : html`; CAM explains <b>${target}</b> (score ${fmt(targetScore)})`;
  return html`<div class="card${g.regions.length ? ' flagged' : ''}" data-job="${e.jobId}">${img}
<div class="key">${e.source.bucket}/${e.source.key}</div>${study(e)}
<div>predicted <b>${pred}</b> (score ${fmt(predScore)})${explains}${e.label !== undefined ? html`, label <b>${e.label}</b>` : ''}</div>
<div class="muted">border energy ${fmt(s.borderEnergy)}, peak ${peak}, entropy ${fmt(s.entropy, 2)}</div>
<div>${tags}</div>${g.resultUrl ? html`<div class="muted"><a href="${g.resultUrl}">result JSON</a></div>` : ''}</div>`;
}

/** A DICOM source's study, by its UID only: patient data never leaves the DICOM objects. */
function study(e: CompletionEvent) {
  const uid = e.source.dicom?.studyInstanceUID;
  return uid ? html`<div class="muted">study ${uid}</div>` : '';
}
