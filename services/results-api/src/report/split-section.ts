/**
 * The report's figures per split (folder-labelled runs: `train`, `val`, `test`...): images the
 * survey found, completed and failed, accuracy and the confusion table of each, from the run's
 * counters (exact, however large the run); then what the survey reported about the source.
 */
import type { RunLayout } from '../store/run-layout.js';
import type { SplitView } from '../store/run-splits.js';
import type { ReportData } from './data.js';
import { MATRIX_CLASSES } from './label-section.js';
import { fmt, html, type SafeHtml } from './template.js';

type WithSplits = { splits?: SplitView[]; layout?: RunLayout };

export function splitSection(d: Pick<ReportData, 'run'>): SafeHtml | string {
  const { splits, layout } = d.run as WithSplits;
  if (!splits?.length && !layout) return '';
  const rows = (splits ?? []).map(
    (s) =>
      html`<tr><td class="k">${s.split ?? '(none)'}</td><td>${s.images ?? '–'}</td><td>${s.completed}</td><td>${s.failed}</td><td>${s.labelled}</td><td><b>${fmt(s.accuracy)}</b></td></tr>`,
  );
  const tables = (splits ?? []).filter((s) => s.confusion && s.classes).map(confusion);
  return html`<h2>Per split</h2>
<table><tr><th class="k">split</th><th>images</th><th>completed</th><th>failed</th><th>labelled</th><th>accuracy</th></tr>${rows}</table>
${tables.length ? html`<div class="plots">${tables}</div>` : ''}
${layout ? source(layout) : ''}`;
}

/** A split's confusion table; with many classes, behind a toggle (it would not fit a screen). */
function confusion(s: SplitView): SafeHtml {
  const classes = s.classes ?? [];
  const table = html`<table><caption>${s.split ?? '(none)'}: label \\ predicted</caption><tr><th></th>${classes.map((c) => html`<th>${c}</th>`)}</tr>${(
    s.confusion ?? []
  ).map(
    (row, i) =>
      html`<tr><th class="k">${classes[i]}</th>${row.map((n) => html`<td>${n}</td>`)}</tr>`,
  )}</table>`;
  return classes.length > MATRIX_CLASSES
    ? html`<details><summary>${s.split ?? '(none)'}: confusion matrix (${classes.length} classes)</summary>${table}</details>`
    : table;
}

function source(l: RunLayout): SafeHtml {
  const classes = Object.entries(l.classes)
    .map(([name, i]) => `${name} = ${i}`)
    .join(', ');
  const lines = [...(l.error ? [l.error] : []), ...l.warnings];
  return html`<p>Labels from folder names (${classes}): ${l.images} images in ${l.splits.length} split folder${l.splits.length === 1 ? '' : 's'}.</p>
${lines.length ? html`<ul>${lines.map((w) => html`<li class="warn">${w}</li>`)}</ul>` : html`<p class="muted">Nothing to report about the source: every file is a labelled image.</p>`}`;
}
