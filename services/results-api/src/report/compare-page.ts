import type { Finding } from '@camflow/contracts';
import type { LabelFigures } from '../store/label-figures.js';
import type { CompareData, ComparedRun } from './compare-data.js';
import { legendSvg } from './legend.js';
import { CSS } from './style.js';
import { fmt, html, pct, raw, type SafeHtml } from './template.js';

/** Two or more runs over the same images, side by side. */
export function renderCompare(d: CompareData): string {
  const models = d.runs.map((r) => r.run.model);
  const src = d.runs[0].run.source;
  const title = `Compare ${models.join(' vs ')} on s3://${src.bucket}/${src.prefix ?? src.manifest ?? ''}`;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${raw(CSS)}</style></head><body>
<h1>${title}</h1>
<div class="muted">generated ${new Date(d.generatedAt).toISOString()}; image links expire after a while: reload the page to renew them</div>
<h2>Verdicts and atlases</h2>
<div class="side">${d.runs.map((r) => pane(r, d.link))}</div>
${legendSvg('mean normalised CAM')}
<h2>Where they look</h2>
<p>${
    d.common === 0
      ? 'The runs have no explained image in common.'
      : html`On the ${d.common} images every run explained, the CAM peaks lie more than ${pct(d.threshold)} of the image apart on <b>${pct(d.disagree)}</b> of them (mean distance ${pct(d.meanDistance, 1)} of the image side).`
  }</p>
${
  d.examples.length > 0
    ? html`<h3>Where they disagree most</h3>${d.examples.map(
        (e) =>
          html`<div class="pane"><div class="key">${e.key}</div><div class="examples">${e.overlayUrls.map(
            (u, i) =>
              u
                ? html`<figure><img src="${u}" alt="${models[i]} on ${e.key}" width="180" height="180" loading="eager"><figcaption class="muted">${models[i]}</figcaption></figure>`
                : '',
          )}</div><div class="muted">peaks ${pct(e.distance)} of the image apart</div></div>`,
      )}`
    : ''
}
</body></html>`.value;
}

function pane(r: ComparedRun, link?: string): SafeHtml {
  const a = r.audit;
  const findings = (a.findings ?? []) as Finding[];
  const report = `/v1/runs/${encodeURIComponent(r.run.runId)}/report${link ? `?link=${encodeURIComponent(link)}` : ''}`;
  return html`<div class="pane"><h3>${r.run.model}</h3>
<div class="verdict ${a.verdict ?? 'inconclusive'}"><span class="badge">${a.verdict ?? `audit ${a.status}`}</span>${a.summary ?? ''}</div>
${a.atlasUrl ? html`<img src="${a.atlasUrl}" alt="heat atlas of ${r.run.model}" width="320" height="320" loading="eager">` : html`<p class="muted">no atlas yet</p>`}
<table class="summary"><tr><td>images explained</td><td class="k">${r.explained}</td></tr>
<tr><td>accuracy</td><td class="k">${accuracy(r)}</td></tr>
<tr><td>findings</td><td class="k">${findings.length ? findings.map((f) => `${f.className ?? f.class} at the ${f.place ?? ''} (${pct(f.imageShare)})`).join('; ') : 'none'}</td></tr></table>
<p><a href="${report}">the full report</a></p></div>`;
}

/**
 * Accuracy against the labels; a multi-label run has none (its images have several labels): the
 * share whose predicted set is the label set, and the labels' mean AUC.
 */
function accuracy(r: ComparedRun): SafeHtml | string {
  const f = (r.run as { labelFigures?: LabelFigures }).labelFigures;
  if (f?.kind === 'multi-label') {
    const aucs = f.classes.map((c) => c.auc).filter((v): v is number => v !== null);
    const mean = aucs.length ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null;
    return html`label set exact on ${pct(f.exactMatch, 1)} of ${f.labelled} labelled; mean AUC ${fmt(mean)} over ${aucs.length} of ${f.classes.length} labels`;
  }
  const ev = r.evaluation;
  return ev ? html`${fmt(ev.accuracy)} (${ev.correct} of ${ev.labelled} labelled)` : 'no labels';
}
