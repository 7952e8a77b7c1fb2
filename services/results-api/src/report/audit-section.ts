import type { Finding } from '@camflow/contracts';
import type { ReportData } from './data.js';
import { legendSvg } from './legend.js';
import { fmt, html, pct, type SafeHtml } from './template.js';

interface Candidate extends Finding {
  finding: boolean;
  conclusive: boolean;
}

interface Faithfulness {
  images?: number;
  deletionAuc?: number | null;
  insertionAuc?: number | null;
  randomDeletionAuc?: number | null;
  randomInsertionAuc?: number | null;
  gain?: number | null;
  faithful?: boolean | null;
}

/** What the audit section reads of a report (a local `camflow audit --out` page has no run). */
export type AuditSectionData = Pick<ReportData, 'audit' | 'compareWith' | 'link'> & {
  run: Pick<ReportData['run'], 'runId'>;
};

/** The verdict first, then the atlas, each finding with its evidence, and faithfulness. */
export function auditSection(d: AuditSectionData): SafeHtml {
  const a = d.audit;
  if (a.status !== 'done') return pending(d);
  const findings = (a.findings ?? []) as (Finding & { exampleUrls?: string[] })[];
  const candidates = ((a.candidates ?? []) as Candidate[]).filter((c) => !c.finding);
  return html`<div class="verdict ${a.verdict ?? ''}"><span class="badge">${a.verdict}</span>${a.summary}</div>
${atlas(d)}
${findings.map((f, k) => finding(f, k))}
${candidates.length > 0 ? html`<h3>Regions tested that are not findings</h3>${regionTable(candidates)}` : ''}
${faithfulness(a.faithfulness as Faithfulness | undefined)}
${compare(d)}`;
}

function pending(d: AuditSectionData): SafeHtml {
  const a = d.audit;
  const progress = a.progress as { chunks: number; done: number } | undefined;
  const what =
    a.status === 'failed'
      ? html`the audit failed: ${a.error ?? 'unknown reason'}`
      : a.requested === false
        ? html`${a.message ?? 'this run is not audited'}`
        : html`the audit is ${a.status} (${a.stage ?? ''}${progress ? `: ${progress.done} of ${progress.chunks} occlusion chunks` : ''}); reload to see its verdict`;
  return html`<div class="verdict inconclusive"><span class="badge">audit ${a.status}</span>${what}</div>${compare(d)}`;
}

function atlas(d: AuditSectionData): SafeHtml | string {
  const a = d.audit;
  if (!a.atlasUrl) return '';
  const cls = (a.classes as { class: number; name: string; images: number }[] | undefined)?.find(
    (c) => c.class === a.atlasClass,
  );
  return html`<h2>Where the model looks: the heat atlas</h2>
<div class="atlas"><img src="${a.atlasUrl}" alt="heat atlas" width="320" height="320" loading="eager"><div>
<p>The mean of the normalised Grad-CAM over the ${cls?.images ?? ''} <b>${cls?.name ?? ''}</b> predictions, in the model input's frame, drawn over the mean of a few of those images.</p>
${legendSvg('mean normalised CAM')}
<p class="muted">Compact places where many images put their CAM peak are tested by occlusion below; pathology spreads with the anatomy, a marker or stamp sits in one place.</p></div></div>`;
}

function finding(f: Finding & { exampleUrls?: string[] }, k: number): SafeHtml {
  const o = f.occlusion;
  const b = f.box;
  return html`<h3>Finding ${k + 1}: ${f.className ?? f.class}, ${f.place ?? ''}</h3>
<p>${pct(f.imageShare)} of the ${f.className ?? ''} predictions (${f.carriers ?? ''} images) put their CAM peak in this region, a ${pct(b.width * b.height, 1)} box at x ${fmt(b.x, 2)}, y ${fmt(b.y, 2)}, ${fmt(b.width, 2)} x ${fmt(b.height, 2)} of the model input; it holds ${pct(f.heatShare)} of their heat. Occluding it flips <b>${pct(o.flipRate)}</b> of them and lowers their probability by <b>${fmt(o.scoreDrop, 2)}</b>; equally sized regions where the class's evidence usually lies flip ${pct(o.controlFlipRate)} and lower it by ${fmt(o.controlScoreDrop, 2)} (${o.images ?? ''} images, ${o.controls ?? ''} controls each, Wilcoxon p = ${o.pValue ?? '–'}).</p>
<div class="examples">${(f.exampleUrls ?? []).map((u, i) => html`<img src="${u}" alt="example ${i + 1} of finding ${k + 1}: ${f.examples[i] ?? ''}" title="${f.examples[i] ?? ''}" width="180" height="180" loading="eager">`)}</div>`;
}

function regionTable(cs: Candidate[]): SafeHtml {
  return html`<table><tr><th class="k">class</th><th class="k">where</th><th>images</th><th>heat</th><th>flips</th><th>drop</th><th>control flips</th><th>control drop</th><th>p</th></tr>${cs.map(
    (c) =>
      html`<tr><td class="k">${c.className ?? c.class}</td><td class="k">${c.place ?? ''}</td><td>${pct(c.imageShare)}</td><td>${pct(c.heatShare)}</td><td>${pct(c.occlusion.flipRate)}</td><td>${fmt(c.occlusion.scoreDrop, 2)}</td><td>${pct(c.occlusion.controlFlipRate)}</td><td>${fmt(c.occlusion.controlScoreDrop, 2)}</td><td>${c.occlusion.pValue ?? '–'}</td></tr>`,
  )}</table>`;
}

function faithfulness(f: Faithfulness | undefined): SafeHtml | string {
  if (!f?.images) return '';
  return html`<h3>Are the explanations faithful to the model?</h3>
<p>Deletion and insertion curves on ${f.images} images (pixels replaced by a blurred copy, hottest CAM first, against a random order): ${f.faithful ? 'the CAMs beat chance' : 'the CAMs do not beat chance: read the heat with care'}.</p>
<table><tr><th class="k">order</th><th>deletion AUC (lower is better)</th><th>insertion AUC (higher is better)</th></tr>
<tr><td class="k">CAM</td><td>${fmt(f.deletionAuc)}</td><td>${fmt(f.insertionAuc)}</td></tr>
<tr><td class="k">random</td><td>${fmt(f.randomDeletionAuc)}</td><td>${fmt(f.randomInsertionAuc)}</td></tr></table>`;
}

function compare(d: AuditSectionData): SafeHtml | string {
  if (d.compareWith.length === 0) return '';
  const q = (other: string) =>
    `/v1/compare?runs=${encodeURIComponent(`${d.run.runId},${other}`)}${d.link ? `&link=${encodeURIComponent(d.link)}` : ''}`;
  return html`<p>Compare with another run over the same images: ${d.compareWith.map(
    (c, i) => html`${i > 0 ? ', ' : ''}<a href="${q(c.runId)}">${c.model}</a>`,
  )}</p>`;
}
