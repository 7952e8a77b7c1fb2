import type { AuditView } from '../store/audit.js';
import { auditSection } from './audit-section.js';
import { CSS } from './style.js';
import { html, raw } from './template.js';

/**
 * A page with only the audit (what `camflow audit --out` writes beside its pictures): the same
 * section the run report opens with, for an audit of a local folder.
 */
export function renderAuditPage(audit: AuditView, title: string, note: string): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${raw(CSS)}</style></head><body>
<h1>${title}</h1>
<div class="muted">${note}</div>
${auditSection({ audit, compareWith: [], run: { runId: '' } })}
</body></html>`.value;
}
