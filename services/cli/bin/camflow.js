#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `tsc -b` (run by `npm ci` through `prepare`).
import { main } from '../dist/main.js';

// `camflow ... | head`: the reader has what it wanted once it closes the pipe; stop quietly.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`camflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
