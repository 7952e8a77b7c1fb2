import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const lib = (name: string) =>
  fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url));
const service = (name: string) =>
  fileURLToPath(new URL(`./services/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources; the CLI tests run the compiled launcher (built by `tsc -b`).
    alias: {
      '@camflow/onnx': lib('onnx'),
      '@camflow/engine': lib('engine'),
      '@camflow/imaging': lib('imaging'),
      '@camflow/audit': lib('audit'),
      '@camflow/dicom': lib('dicom'),
      '@camflow/config': lib('config'),
      '@camflow/contracts': lib('contracts'),
      '@camflow/storage': lib('storage'),
      '@camflow/telemetry': lib('telemetry'),
      '@camflow/worker': service('worker'),
      '@camflow/ingest': service('ingest'),
      '@camflow/dicom-service': service('dicom'),
      '@camflow/results-api': service('results-api'),
    },
  },
  test: {
    include: ['libs/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Long fault and load tests run with CAMFLOW_LONG=1 (`npm run test:reliability`), not in `npm test`.
    exclude:
      process.env.CAMFLOW_LONG === '1'
        ? configDefaults.exclude
        : [...configDefaults.exclude, '**/*.long.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
