/**
 * One gallery card: the overlay, what the model predicted (a class, or a multi-label model's
 * set), each CAM's class and its own score, the ground truth by name, and a badge on a CAM that
 * is zero everywhere (drawn, it would read as "no evidence" when the map is just empty).
 */
import type { CompletedEvent, CompletionEvent, Finding } from '@camflow/contracts';
import { classNames, labelIndex, predictedIndex } from '../store/labels.js';
import type { GalleryItem } from './data.js';
import { fmt, html, type SafeHtml } from './template.js';

type EmptyCam = NonNullable<CompletedEvent['emptyCam']>;

const EMPTY_REASONS: Record<EmptyCam['reason'], string> = {
  saturated: 'saturated output',
  'no-evidence': 'no evidence for the class',
};

/** The badge of an all-zero CAM, with its likely reason (the worker's message on hover). */
export function emptyBadge(empty: EmptyCam | undefined): SafeHtml | string {
  if (!empty) return '';
  const reason = EMPTY_REASONS[empty.reason] ?? empty.reason;
  return html`<span class="tag empty" title="${empty.message}">empty map: ${reason}</span>`;
}

/** A class index by name (the index itself when the model names no classes). */
export function className(classes: string[], i: number): string {
  return classes[i] ?? String(i);
}

export function card(g: GalleryItem, findings: Finding[], eager: boolean): SafeHtml {
  const e = g.event;
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
  return html`<div class="card${g.regions.length ? ' flagged' : ''}" data-job="${e.jobId}">${img}
<div class="key">${e.source.bucket}/${e.source.key}</div>${study(e)}
<div class="pred">${prediction(e)}${truth(e)}</div>${e.cams?.length ? cams(g) : e.emptyCam ? html`<div>${emptyBadge(e.emptyCam)}</div>` : ''}
<div class="muted">border energy ${fmt(s.borderEnergy)}, peak ${peak}, entropy ${fmt(s.entropy, 2)}</div>
<div>${tags}</div>${g.resultUrl ? html`<div class="muted"><a href="${g.resultUrl}">result JSON</a></div>` : ''}</div>`;
}

/** "predicted X (score)", or a multi-label model's set with each label's score. */
function prediction(e: CompletedEvent): SafeHtml {
  const p = e.prediction;
  const classes = classNames(p);
  if (p.kind === 'multi-label') {
    const set = p.labels ?? [];
    if (set.length === 0) return html`predicted <b>no label</b> (none at its threshold)`;
    return html`predicted <b>{${set.map((k, i) => html`${i ? ', ' : ''}${className(classes, k)}`)}}</b> (${set.map(
      (k, i) => html`${i ? ', ' : ''}${fmt(p.scores[k])}`,
    )})`;
  }
  const pred = className(classes, predictedIndex(p));
  const single = p.scores.length === 1;
  const predScore = single ? p.scores[0] : p.scores[p.predicted];
  const target = className(classes, single ? 1 : p.target);
  // With `cams` each CAM says its class below; otherwise name the one CAM's when it differs.
  const explains =
    single || e.cams?.length || target === pred
      ? ''
      : html`; CAM explains <b>${target}</b> (score ${fmt(p.scores[p.target])})`;
  return html`predicted <b>${pred}</b> (score ${fmt(predScore)})${explains}`;
}

/** The ground truth, by class name where it names one. */
function truth(e: CompletedEvent): SafeHtml | string {
  const classes = classNames(e.prediction);
  const name = (l: number | string) => {
    const i = labelIndex(l, classes);
    return i === undefined ? String(l) : className(classes, i);
  };
  if (e.labels !== undefined) {
    return e.labels.length
      ? html`, labels <b>{${e.labels.map((l, i) => html`${i ? ', ' : ''}${name(l)}`)}}</b>`
      : html`, labels <b>none</b>`;
  }
  return e.label !== undefined ? html`, label <b>${name(e.label)}</b>` : '';
}

/** One line per CAM: its class, its own score, its overlay, and a badge when it is empty. */
function cams(g: GalleryItem): SafeHtml | string {
  const list = g.event.cams;
  if (!list?.length) return '';
  const classes = classNames(g.event.prediction);
  return html`<ul class="cams">${list.map((c, i) => {
    const url = g.camUrls?.[i];
    const link = url ? html` <a href="${url}" title="overlay of this CAM">overlay</a>` : '';
    return html`<li>CAM: <b>${c.className ?? className(classes, c.target)}</b> ${fmt(c.score, 2)}${link} ${emptyBadge(c.empty)}</li>`;
  })}</ul>`;
}

/** A DICOM source's study, by its UID only: patient data never leaves the DICOM objects. */
function study(e: CompletionEvent) {
  const uid = e.source.dicom?.studyInstanceUID;
  return uid ? html`<div class="muted">study ${uid}</div>` : '';
}
