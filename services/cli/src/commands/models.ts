import { parseArgs } from 'node:util';
import type { Config } from '@camflow/config';
import { pushModel } from '@camflow/ingest';
import { S3Store } from '@camflow/storage';
import { usage } from '../args.js';
import { UsageError } from '../usage.js';

/** `camflow models push <model.onnx> --card <model.json> --name <n> --version <v>`. */
export async function modelsCommand(argv: string[], config: Config): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'push')
    throw new UsageError(
      'usage: camflow models push <model.onnx> --card <model.json> --name <n> --version <v>',
    );
  const { values, positionals } = usage(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      options: { card: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' } },
    }),
  );
  if (positionals.length !== 1 || !values.card || !values.name || !values.version) {
    throw new UsageError(
      'usage: camflow models push <model.onnx> --card <model.json> --name <n> --version <v>',
    );
  }
  const store = S3Store.fromConfig(config);
  try {
    await store.ensureBucket(config.CAMFLOW_MODEL_BUCKET);
    const pushed = await pushModel(store, config, {
      onnxPath: positionals[0],
      cardPath: values.card,
      name: values.name,
      version: values.version,
    }).catch((err: Error) => {
      throw new UsageError(err.message.split('\n')[0]);
    });
    process.stdout.write(
      `pushed ${values.name}@${values.version} to s3://${pushed.bucket}/${pushed.onnxKey}\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}
