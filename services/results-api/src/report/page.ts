import { classNames, predictedIndex } from '../store/labels.js';
import { resultFlags } from '../store/result-view.js';
import type { GalleryItem, ReportData } from './data.js';
import { esc, fmt } from './html.js';
import { histogramSvg, scatterSvg } from './svg.js';

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#666}.warn{color:#b00020}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td.k,th.k{text-align:left}
.summary td:first-child{text-align:left;color:#555}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{background:#fff;border:1px solid #ddd}
svg .t{font-size:13px;font-weight:600}svg .l{font-size:11px;fill:#444}svg .k{font-size:10px;fill:#666}
svg .ax{stroke:#999}svg .bar{fill:#4a78b5}svg .th{stroke:#b00020;stroke-dasharray:4 3}
svg .p{fill:#4a78b5;fill-opacity:.6}svg .pf{fill:#b00020}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;overflow-wrap:anywhere}
.card.flagged{border:2px solid #b00020}
.card img{width:100%;height:auto;min-height:80px;background:#eee;display:block}
.key{font-family:ui-monospace,monospace;font-size:12px;margin:6px 0 2px}
.tag{display:inline-block;background:#b00020;color:#fff;border-radius:3px;padding:0 5px;margin:2px 2px 0 0;font-size:12px}
.tag.o{background:#555}
`;

/** The report: one self-contained HTML page (inline CSS and SVG; only overlays load remotely). */
export function renderReport(d: ReportData): string {
  const r = d.run;
  const title = `camflow report: run ${r.runId}`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<div class="muted">generated ${esc(new Date(d.generatedAt).toISOString())}; overlay links expire after a while: reload the report to renew them</div>`,
    summary(d),
    plots(d),
    evaluation(d),
    failures(d),
    gallery(d),
    '</body></html>',
  ].join('\n');
}

function summary(d: ReportData): string {
  const r = d.run;
  const rows: [string, string][] = [
    ['status', r.status + (r.error ? ` (${r.error})` : '')],
    ['model', r.model],
    ['layer', r.layer ?? 'model card default'],
    ['CAM drawn', r.align ?? 'as the model card says'],
    ['method', r.method],
    ['target', String(r.target)],
    ['source', `s3://${r.source.bucket}/${r.source.prefix ?? r.source.manifest ?? ''}`],
    ['images', `${r.total}${r.listingDone ? '' : ' so far (listing in progress)'}`],
    ['completed', String(r.completed)],
    ['failed', String(r.failed)],
    ['pending', String(r.pending)],
    ['throughput', r.throughput === null ? '–' : `${fmt(r.throughput, 2)} images/s`],
    ['ETA', r.etaSeconds === null ? '–' : `${r.etaSeconds} s`],
    [
      'flagged',
      `${d.flagged} of ${d.completed.length} explained images${d.truncated ? ' read' : ''}`,
    ],
    [
      'flag rules',
      `border energy ≥ ${d.flagOptions.borderEnergy}, or peak within ${d.flagOptions.borderBand} of an edge` +
        (d.flagOptions.minMaskEnergy !== undefined
          ? `, or mask energy < ${d.flagOptions.minMaskEnergy}`
          : ''),
    ],
  ];
  const note = d.truncated
    ? `<p class="warn">This run is large: statistics, plots and the gallery cover the first ${d.scanned} results in completion order.</p>`
    : '';
  return `<h2>Summary</h2><table class="summary">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="k">${esc(v)}</td></tr>`).join('')}</table>${note}`;
}

function plots(d: ReportData): string {
  if (d.completed.length === 0) return '';
  const score = (e: ReportData['completed'][number]) =>
    e.prediction.scores[e.prediction.target] ?? e.prediction.scores[0];
  const border = d.completed.map((e) => e.stats.borderEnergy).filter((v) => typeof v === 'number');
  const points = d.completed.slice(0, 5000).map((e) => ({
    x: score(e),
    y: e.stats.borderEnergy,
    flagged: resultFlags(e, d.flagOptions).length > 0,
  }));
  return (
    '<h2>Plots</h2><div class="plots">' +
    histogramSvg({ title: 'Target score', xLabel: 'score', values: d.completed.map(score) }) +
    histogramSvg({
      title: 'CAM energy in the border band',
      xLabel: 'border energy (dashed: flag threshold)',
      values: border,
      threshold: d.flagOptions.borderEnergy,
    }) +
    scatterSvg({
      title: 'Score vs border energy (red: flagged)',
      xLabel: 'score',
      yLabel: 'border energy',
      points,
      yThreshold: d.flagOptions.borderEnergy,
    }) +
    '</div>'
  );
}

function evaluation(d: ReportData): string {
  const ev = d.evaluation;
  if (!ev) return '';
  const head = `<tr><th class="k">label \\ predicted</th>${ev.classes.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = ev.matrix
    .map(
      (row, i) =>
        `<tr><th class="k">${esc(ev.classes[i])}</th>${row.map((n) => `<td>${n}</td>`).join('')}</tr>`,
    )
    .join('');
  const outcomes = d.perOutcome
    .map(
      ([o, s]) =>
        `<tr><td class="k">${esc(o)}</td><td>${s.n}</td><td>${fmt(s.meanScore)}</td><td>${fmt(s.meanBorderEnergy)}</td><td>${fmt(s.meanEntropy)}</td><td>${fmt(s.meanMaskEnergy)}</td><td>${s.flagged}</td></tr>`,
    )
    .join('');
  return (
    '<h2>Against the labels</h2>' +
    `<p>accuracy <b>${fmt(ev.accuracy)}</b> (${ev.correct} of ${ev.labelled} labelled images)</p>` +
    `<table>${head}${body}</table>` +
    '<h2>CAM statistics per outcome</h2>' +
    '<table><tr><th class="k">outcome</th><th>images</th><th>mean score</th><th>mean border energy</th><th>mean entropy</th><th>mean mask energy</th><th>flagged</th></tr>' +
    `${outcomes}</table>`
  );
}

function failures(d: ReportData): string {
  if (d.failed.length === 0) return '';
  const reasons = d.failureReasons
    .map(([r, n]) => `<tr><td class="k">${esc(r)}</td><td>${n}</td></tr>`)
    .join('');
  const list = d.failed
    .slice(0, 200)
    .map(
      (f) =>
        `<tr><td class="k key">${esc(f.source.key)}</td><td class="k">${esc(f.error.reason)}</td><td class="k">${esc(f.error.message)}</td></tr>`,
    )
    .join('');
  const more =
    d.failed.length > 200 ? `<p class="muted">first 200 of ${d.failed.length} failures</p>` : '';
  return (
    `<h2>Failures (${d.failed.length})</h2><table><tr><th class="k">reason</th><th>images</th></tr>${reasons}</table>` +
    `<p></p><table><tr><th class="k">key</th><th class="k">reason</th><th class="k">message</th></tr>${list}</table>${more}`
  );
}

function gallery(d: ReportData): string {
  const shown = d.gallery.length;
  const note =
    shown < d.galleryCandidates
      ? `<p class="muted">Showing ${shown} of ${d.galleryCandidates} images (flagged first); the API's results endpoint lists them all.</p>`
      : '';
  return `<h2>Gallery: flagged images first</h2>${note}<div class="gallery">${d.gallery.map(card).join('\n')}</div>`;
}

function card(g: GalleryItem): string {
  const e = g.event;
  const classes = classNames(e.prediction);
  const pred = classes[predictedIndex(e.prediction)] ?? String(e.prediction.predicted);
  const score = e.prediction.scores[e.prediction.target] ?? e.prediction.scores[0];
  const s = e.stats;
  const img = g.overlayUrl
    ? `<img src="${esc(g.overlayUrl)}" loading="lazy" alt="overlay of ${esc(e.source.key)}" width="${e.image.width}" height="${e.image.height}">`
    : '<div class="muted">overlay unavailable</div>';
  const tags = [
    ...g.flags.map((f) => `<span class="tag">${esc(f)}</span>`),
    ...(g.outcome ? [`<span class="tag o">${esc(g.outcome)}</span>`] : []),
  ].join('');
  const peak = s.peak ? `(${fmt(s.peak.x, 2)}, ${fmt(s.peak.y, 2)})` : '–';
  return (
    `<div class="card${g.flags.length ? ' flagged' : ''}" data-job="${esc(e.jobId)}">${img}` +
    `<div class="key">${esc(e.source.bucket)}/${esc(e.source.key)}</div>` +
    `<div>predicted <b>${esc(pred)}</b>, score ${fmt(score)}${e.label !== undefined ? `, label <b>${esc(e.label)}</b>` : ''}</div>` +
    `<div class="muted">border energy ${fmt(s.borderEnergy)}, peak ${peak}, entropy ${fmt(s.entropy, 2)}${typeof s.maskEnergy === 'number' ? `, mask energy ${fmt(s.maskEnergy)}` : ''}</div>` +
    `<div>${tags}</div></div>`
  );
}
