import { stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { S3Store } from '@camflow/storage';
import { positiveInt, usage } from '../args.js';
import { walkFolder } from '../dataset/local-tree.js';
import { formatUpload, uploadFolder, uploadJson } from '../dataset/upload.js';
import { UsageError } from '../usage.js';
import { parseS3Url } from './runs.js';

/** A local folder that must exist (one line when it does not). */
export async function localFolder(path: string): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isDirectory()) throw new UsageError(`${path}: not a folder`);
  return path;
}

/**
 * `camflow upload <dir> s3://<bucket>/<prefix>`: what the folder holds that the bucket does not
 * (by content hash), resumably; the summary on stdout, the progress on stderr.
 */
export async function uploadCommand(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length !== 2 || !positionals[1].startsWith('s3://'))
    throw new UsageError('usage: camflow upload <dir> s3://<bucket>/<prefix> [--json]');
  const dir = await localFolder(positionals[0]);
  const dest = parseS3Url(positionals[1]);
  const concurrency = positiveInt(values.concurrency, 'concurrency', 8);
  const store = S3Store.fromConfig(config);
  try {
    const tree = await walkFolder(dir);
    const s = await uploadFolder(store, tree, dest, { concurrency, progress: !values.json });
    process.stdout.write(values.json ? `${JSON.stringify(uploadJson(s))}\n` : formatUpload(s));
    return 0;
  } finally {
    store.close();
  }
}
