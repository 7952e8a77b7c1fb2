import { ConfigError, loadConfig } from '@camflow/config';
import { CompileError, InputShapeError, UnsupportedOpError } from '@camflow/engine';
import { OnnxFormatError, UnknownLayerError } from '@camflow/onnx';
import { joinNegativeValues } from './args.js';
import { auditCommand } from './commands/audit.js';
import { benchCommand } from './commands/bench.js';
import { evaluateCommand } from './commands/evaluate.js';
import { explainCommand } from './commands/explain.js';
import { inspectCommand } from './commands/inspect.js';
import { makeModelCommand } from './commands/make-model.js';
import { modelsCommand } from './commands/models.js';
import { runsCommand } from './commands/runs.js';
import { serveCommand } from './commands/serve.js';
import { synthCommand } from './commands/synth.js';
import { uploadCommand } from './commands/upload.js';
import { demoCommand } from './demo/demo.js';
import { HELP, UsageError } from './usage.js';

/** Errors that mean "your request cannot work": one line, exit code 2. */
const USER_ERRORS = [
  UsageError,
  ConfigError,
  OnnxFormatError,
  UnknownLayerError,
  UnsupportedOpError,
  InputShapeError,
  CompileError,
];

/** Wires argv to a command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = joinNegativeValues(argv);
  try {
    const config = loadConfig();
    switch (command) {
      case 'explain':
        return await explainCommand(rest, config);
      case 'bench':
        return await benchCommand(rest, config);
      case 'evaluate':
        return await evaluateCommand(rest, config);
      case 'audit':
        return await auditCommand(rest, config);
      case 'inspect':
        return await inspectCommand(rest);
      case 'demo':
        // "REDIS_URL if reachable": only a REDIS_URL the user set counts, not the default.
        return await demoCommand(rest, config, process.env.REDIS_URL !== undefined);
      case 'serve':
        return await serveCommand(rest, config);
      case 'models':
        return await modelsCommand(rest, config);
      case 'runs':
        return await runsCommand(rest, config);
      case 'upload':
        return await uploadCommand(rest, config);
      case 'synth':
        return await synthCommand(rest);
      case 'make-model':
        return await makeModelCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"; try camflow help`);
    }
  } catch (err) {
    if (isMissingS3Credentials(err)) {
      process.stderr.write(
        'camflow: no S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, and S3_ENDPOINT for a store other than AWS (MinIO, s3rver: also S3_FORCE_PATH_STYLE=true; S3_REGION defaults to us-east-1)\n',
      );
      return 2;
    }
    if (USER_ERRORS.some((E) => err instanceof E)) {
      process.stderr.write(`camflow: ${(err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw err;
  }
}

/** The AWS SDK's default chain found nothing: the S3_* settings are missing, not the store. */
function isMissingS3Credentials(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'CredentialsProviderError' ||
      /Could not load credentials from any providers/.test(err.message))
  );
}
