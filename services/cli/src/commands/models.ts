import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { listModels, ModelNameMismatchError, type ModelSummary, pushModel } from '@camflow/ingest';
import { S3Store } from '@camflow/storage';
import { usage } from '../args.js';
import { UsageError } from '../usage.js';

const USAGE =
  'usage: camflow models push <model.onnx> --card <model.json> [--name <n> --version <v>] | camflow models list [--json]';

/**
 * `camflow models push <model.onnx> --card <model.json> [--name <n>] [--version <v>]`: the name
 * and version default to the card's and must agree with it when given; the card is checked
 * against the model before anything is uploaded. `camflow models list [--json]`.
 */
export async function modelsCommand(argv: string[], config: Config): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return list(rest, config);
  if (sub !== 'push') throw new UsageError(USAGE);
  const { values, positionals } = usage(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      options: { card: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' } },
    }),
  );
  if (positionals.length !== 1 || !values.card) throw new UsageError(USAGE);
  // Checked before S3 is reached, so the mix-up is named even where S3 is not set up.
  if (extname(positionals[0]).toLowerCase() === '.json')
    throw new UsageError(
      `${positionals[0]} is a model card (JSON), not an ONNX model: models push <model.onnx> --card ${positionals[0]}`,
    );
  const store = S3Store.fromConfig(config);
  try {
    await store.ensureBucket(config.CAMFLOW_MODEL_BUCKET);
    const pushed = await pushModel(store, config, {
      onnxPath: positionals[0],
      cardPath: values.card,
      name: values.name,
      version: values.version,
      strictName: true,
    }).catch((err: Error) => {
      throw new UsageError(
        err instanceof ModelNameMismatchError ? err.message : err.message.split('\n')[0],
      );
    });
    process.stdout.write(`pushed ${pushed.ref} to s3://${pushed.bucket}/${pushed.onnxKey}\n`);
    return 0;
  } finally {
    store.close();
  }
}

async function list(argv: string[], config: Config): Promise<number> {
  const { values } = usage(() =>
    parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } }),
  );
  const store = S3Store.fromConfig(config);
  try {
    const models = await listModels(store, config.CAMFLOW_MODEL_BUCKET);
    if (values.json) process.stdout.write(`${JSON.stringify({ items: models })}\n`);
    else process.stdout.write(table(models));
    return 0;
  } finally {
    store.close();
  }
}

/** One line per model: what to name in runs, what it predicts, what it takes. */
function table(models: ModelSummary[]): string {
  if (models.length === 0)
    return 'no models pushed yet: camflow models push <model.onnx> --card <model.json>\n';
  const rows = models.map((m) => {
    if (m.error) return [m.model, 'unreadable card', m.error];
    const classes =
      m.classes.length > 4
        ? `${m.classes.slice(0, 3).join(', ')}, ... (${m.classes.length})`
        : m.classes.join(', ');
    const input = `${m.input.channels}x${m.input.size[0]}x${m.input.size[1]} ${m.input.layout}`;
    return [m.model, `${m.kind} (${m.activation})`, classes, input, m.layer ?? 'default layer'];
  });
  const header = ['model', 'outputs', 'classes', 'input', 'layer'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}
