/**
 * The report's figures against the labels, for each kind of model:
 *
 * - multi-label: one row per label (threshold, prevalence, sensitivity, specificity, AUC); a
 *   confusion matrix says nothing about images with several labels;
 * - multi-class with more than MATRIX_CLASSES classes: one row per class, one class against the
 *   rest, with the full confusion matrix behind a `<details>` toggle (a 14x14 matrix does not fit
 *   a screen; the toggle needs no script, which the page's CSP forbids);
 * - otherwise (binary, a few classes): the confusion matrix itself.
 */
import type { ClassFigures, LabelFigures } from '../store/label-figures.js';
import type { Evaluation } from '../store/labels.js';
import type { ReportData } from './data.js';
import { fmt, html, pct, type SafeHtml } from './template.js';

/** Classes up to which the confusion matrix is shown as it is. */
export const MATRIX_CLASSES = 4;

export function labelSection(d: ReportData): SafeHtml | string {
  const f = d.labelFigures;
  const ev = d.evaluation;
  if (f?.kind === 'multi-label') {
    return html`<h2>Against the labels, per label</h2>
<p>${f.labelled} labelled images${f.unreadable ? html`, ${f.unreadable} whose labels name no class (left out)` : ''}; predicted set equal to the label set on <b>${pct(f.exactMatch, 1)}</b>${sampled(f)}</p>
${perClassTable(f, true)}${outcomeTable(d)}`;
  }
  if (!ev) return '';
  const head = html`<h2>Against the labels</h2>
<p>accuracy <b>${fmt(ev.accuracy)}</b> (${ev.correct} of ${ev.labelled} labelled images)</p>`;
  if (f?.kind === 'multi-class' && ev.classes.length > MATRIX_CLASSES) {
    return html`${head}<p class="muted">Each class against the rest (predicted = the highest score)${sampled(f)}.</p>
${perClassTable(f, false)}
<details><summary>Full confusion matrix (${ev.classes.length} classes)</summary>${matrix(ev)}</details>${outcomeTable(d)}`;
  }
  return html`${head}${matrix(ev)}${outcomeTable(d)}`;
}

function sampled(f: LabelFigures): SafeHtml | string {
  const s = (f as { sampled?: { scanned: number } }).sampled;
  return s ? html` (from the first ${s.scanned} results)` : '';
}

function perClassTable(f: LabelFigures, thresholds: boolean): SafeHtml {
  const row = (c: ClassFigures) =>
    html`<tr><td class="k">${c.name}</td>${thresholds ? html`<td>${fmt(c.threshold, 2)}</td>` : ''}<td>${c.positives}</td><td>${c.predicted}</td><td>${fmt(c.prevalence)}</td><td>${fmt(c.sensitivity)}</td><td>${fmt(c.specificity)}</td><td>${fmt(c.auc)}</td></tr>`;
  return html`<table class="per-label"><tr><th class="k">${thresholds ? 'label' : 'class'}</th>${thresholds ? html`<th>threshold</th>` : ''}<th>with it</th><th>predicted</th><th>prevalence</th><th>sensitivity</th><th>specificity</th><th>AUC</th></tr>${f.classes.map(row)}</table>`;
}

function matrix(ev: Evaluation): SafeHtml {
  return html`<table><tr><th class="k">label \\ predicted</th>${ev.classes.map((c) => html`<th>${c}</th>`)}</tr>${ev.matrix.map(
    (row, i) =>
      html`<tr><th class="k">${ev.classes[i]}</th>${row.map((n) => html`<td>${n}</td>`)}</tr>`,
  )}</table>`;
}

function outcomeTable(d: ReportData): SafeHtml | string {
  if (d.perOutcome.length === 0) return '';
  const rows = d.perOutcome.map(
    ([o, s]) =>
      html`<tr><td class="k">${o}</td><td>${s.n}</td><td>${fmt(s.meanScore)}</td><td>${fmt(s.meanBorderEnergy)}</td><td>${fmt(s.meanEntropy)}</td><td>${s.inRegion}</td></tr>`,
  );
  return html`<h2>CAM statistics per outcome</h2>
<table><tr><th class="k">outcome</th><th>images</th><th>mean score</th><th>mean border energy</th><th>mean entropy</th><th>in a finding's region</th></tr>${rows}</table>`;
}
