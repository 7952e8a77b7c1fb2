import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { seedCard } from '@camflow/imaging';
import { usage } from '../args.js';
import { folderLabels } from '../audit/folder-labels.js';
import { listImages, readLabels } from '../audit/inputs.js';
import { runLocalAudit } from '../audit/local.js';
import { formatAudit } from '../audit/text.js';
import { writeAuditFolder } from '../audit/write.js';
import { parseClasses } from '../dataset/folder-source.js';
import { loadModelSource } from '../model-source.js';
import { UsageError } from '../usage.js';
import { engineOptions } from './runtime-options.js';

/**
 * `camflow audit <input...|dir> --model <dir> [--labels <csv>|folder [--classes F=i,...]] [--layer] [--method] [--json]
 * [--out <dir>]`: the data-set audit of a folder of images, locally (no Redis or S3).
 */
export async function auditCommand(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        card: { type: 'string' },
        labels: { type: 'string' },
        classes: { type: 'string' },
        layer: { type: 'string' },
        method: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  const source = await loadModelSource(values.model, values.card);
  const card = source.card ?? seedCard;
  const { files, roots } = await listImages(positionals);
  if (values.classes && values.labels !== 'folder')
    throw new UsageError('--classes needs --labels folder');
  const labels =
    values.labels === 'folder'
      ? {
          ...folderLabels(
            files,
            roots,
            card,
            card.name ?? values.model ?? 'the model',
            parseClasses(values.classes),
          ),
          unmatched: 0,
        }
      : values.labels
        ? await readLabels(values.labels, files, roots)
        : undefined;
  if (labels && labels.unmatched > 0) {
    process.stderr.write(
      `camflow: warning: ${labels.unmatched} rows of ${values.labels} match no input; ignored\n`,
    );
  }
  const audit = await runLocalAudit(source, card, files, engineOptions(config), {
    layer: values.layer,
    method: values.method,
    labels: labels?.labels,
    progress: !values.json && process.stderr.isTTY === true,
  });
  if (values.out) await writeAuditFolder(values.out, audit);
  if (values.json) process.stdout.write(`${JSON.stringify(audit.doc)}\n`);
  else
    process.stdout.write(
      `${formatAudit(audit.doc)}${values.out ? `\nreport: ${values.out}/report.html\n` : ''}`,
    );
  return 0;
}
