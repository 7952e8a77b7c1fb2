#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `tsc -b` (run by `npm ci` through `prepare`).
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`camflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
