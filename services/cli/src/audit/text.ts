import type { AuditDocument, Finding } from '@camflow/contracts';

const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
const f2 = (v: number) => v.toFixed(2);

/** The audit as a person reads it in a terminal: verdict first, then the evidence. */
export function formatAudit(doc: AuditDocument): string {
  const lines = [
    `${doc.model}: ${doc.images} images: ${doc.verdict.toUpperCase()}`,
    `  ${doc.summary ?? ''}`,
  ];
  const candidates = (doc.candidates as (Finding & { finding: boolean })[] | undefined) ?? [];
  if (candidates.length > 0) {
    lines.push(
      '',
      '  regions (box in the model input: x, y, width, height)        carriers   heat   occluded: flips, drop   controls: flips, drop   p',
    );
    for (const c of candidates) {
      const b = c.box;
      const o = c.occlusion;
      lines.push(
        `  ${c.finding ? 'FINDING ' : 'tested  '} ${(c.className ?? String(c.class)).padEnd(12)} ${`${f2(b.x)}, ${f2(b.y)}, ${f2(b.width)}, ${f2(b.height)}`.padEnd(22)} ${String(c.place ?? '').padEnd(18)} ${pct(c.imageShare).padStart(5)}   ${pct(c.heatShare).padStart(4)}   ${pct(o.flipRate).padStart(5)}, ${f2(o.scoreDrop).padStart(5)}           ${pct(o.controlFlipRate).padStart(5)}, ${f2(o.controlScoreDrop).padStart(5)}      ${o.pValue ?? ''}`,
      );
    }
  }
  const fa = doc.faithfulness as Record<string, number | null | boolean>;
  if (fa.images) {
    lines.push(
      '',
      `  faithfulness (${fa.images} images, deletion/insertion AUC, blur baseline): CAM order ${f2(Number(fa.deletionAuc))} / ${f2(Number(fa.insertionAuc))}, random order ${f2(Number(fa.randomDeletionAuc))} / ${f2(Number(fa.randomInsertionAuc))}: ${fa.faithful ? 'the CAMs beat chance' : 'the CAMs do not beat chance'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
