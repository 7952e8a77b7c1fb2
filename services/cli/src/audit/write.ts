import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalAudit } from './local.js';

/** Writes the audit folder: audit.json (the `--json` document). */
export async function writeAuditFolder(dir: string, audit: LocalAudit): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'audit.json'), `${JSON.stringify(audit.doc, null, 1)}\n`);
}
