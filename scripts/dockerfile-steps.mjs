#!/usr/bin/env node
// Runs a Dockerfile's build stages as written, without a Docker engine, in a clean folder and
// with no compiler on PATH (no cc/gcc/g++/make/python: what `node:*-slim` lacks), so that a
// step that would need one (an install script building a native addon) fails here as it would
// in the image. CI runs it on both images (.ci/run).
//
//   node scripts/dockerfile-steps.mjs infra/docker/Dockerfile [--skip-stage <name>]...
//     [--build-arg NAME=value]... [--keep]
//
// What it does with each instruction of every stage but the last (the runtime stage, whose
// steps need root and the base image: useradd, a CUDA base):
//   FROM <image> AS <name>  a new, empty stage root; stages are run in file order
//   WORKDIR <abs path>      <stage root><path>, created
//   ARG / ENV               into the environment of later RUN steps
//   COPY [--from=<stage>]   from the build context (the repository, filtered by .dockerignore)
//                           or from an earlier stage's root
//   RUN [--mount=...] cmd   /bin/sh -c cmd in the WORKDIR; cache mounts are ignored (npm uses
//                           its normal cache). A RUN that names an absolute path (other than
//                           /dev/null) is refused: the stage root is not `/` here.
// For the last stage it checks that every `COPY --from=<stage> <path>` names something that
// exists. Stages named with --skip-stage (e.g. one that downloads from outside the package
// registries) are reported as skipped, and so are the steps that copy from them.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
/** Build tools a slim Node image does not have. */
const COMPILERS =
  /^(cc|c\+\+|cpp|gcc|g\+\+|clang|clang\+\+|make|gmake|cmake|ninja|ld|as|python\d*(\.\d+)?|node-gyp)$|^(gcc|g\+\+|cpp|clang|c\+\+)-|-(gcc|g\+\+|cc|c\+\+|cpp)(-[\d.]+)?$/;

/** The folder of this run, removed at the end, failures included (unless --keep). */
let workDir;
let keepWork = false;

function fail(message) {
  process.stderr.write(`dockerfile-steps: ${message}\n`);
  if (workDir && !keepWork) rmSync(workDir, { recursive: true, force: true });
  else if (workDir) process.stderr.write(`dockerfile-steps: kept ${workDir}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text) {
  const out = [];
  let current = '';
  let line0 = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (current && trimmed.startsWith('#')) continue; // comment inside a continuation
    if (!current) line0 = i + 1;
    if (trimmed.endsWith('\\')) {
      current += `${trimmed.slice(0, -1)} `;
      continue;
    }
    current += trimmed;
    const m = /^(\S+)\s*(.*)$/s.exec(current);
    out.push({ op: m[1].toUpperCase(), rest: m[2], line: line0 });
    current = '';
  }
  return out;
}

/** `--name=value` flags at the start of an instruction, and what follows them. */
function flags(rest) {
  const found = {};
  let s = rest;
  for (;;) {
    const m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(s);
    if (!m) return { flags: found, rest: s };
    found[m[1]] = m[2] ?? 'true';
    s = s.slice(m[0].length);
  }
}

function substitute(s, vars) {
  return s.replace(/\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)/g, (all, a, def, b) => {
    const name = a ?? b;
    return vars[name] ?? def ?? (b ? all : '');
  });
}

/** KEY=value pairs (values may be quoted), as ENV and ARG write them. */
function assignments(rest) {
  const out = [];
  const re = /(\w+)(?:=("([^"]*)"|'([^']*)'|\S*))?/g;
  for (const m of rest.matchAll(re)) out.push([m[1], m[3] ?? m[4] ?? m[2]]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

function ignoreMatcher(contextDir) {
  const file = join(contextDir, '.dockerignore');
  const rules = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => {
          const negate = l.startsWith('!');
          const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
          const re = pattern
            .split('/')
            .map((part) =>
              part === '**'
                ? '.*'
                : part
                    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                    .replace(/\*/g, '[^/]*')
                    .replace(/\?/g, '[^/]'),
            )
            .join('/')
            .replace(/\.\*\//g, '(?:.*/)?');
          return { negate, pattern, re: new RegExp(`^${re}(?:/.*)?$`) };
        })
    : [];
  const ignored = (rel) => {
    let out = false;
    for (const r of rules) if (r.re.test(rel)) out = !r.negate;
    return out;
  };
  /** An ignored folder is still walked when a `!pattern` re-includes something inside it. */
  ignored.reincludesUnder = (rel) => rules.some((r) => r.negate && r.pattern.startsWith(`${rel}/`));
  return ignored;
}

/** Copies `src` (a file or folder) to `dest`, skipping what .dockerignore excludes. */
function copyFromContext(contextDir, ignored, src, dest) {
  const rel = relative(contextDir, src);
  const st = statSync(src);
  if (st.isDirectory()) {
    if (rel && ignored(rel) && !ignored.reincludesUnder(rel)) return;
    for (const name of readdirSync(src)) {
      copyFromContext(contextDir, ignored, join(src, name), join(dest, name));
    }
  } else {
    if (rel && ignored(rel)) return;
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(src, dest, { verbatimSymlinks: true });
  }
}

// ---------------------------------------------------------------------------------------------
// A PATH without compilers

function compilerFreePath(work) {
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  const dirs = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (COMPILERS.test(name) || existsSync(join(bin, name))) continue;
      const target = join(dir, name);
      try {
        if (statSync(target).isFile() && statSync(target).mode & 0o111)
          symlinkSync(target, join(bin, name));
      } catch {
        // a dangling link: skip
      }
    }
  }
  const probe = spawnSync('/bin/sh', ['-c', 'command -v cc gcc g++ c++ make python3 python'], {
    env: { PATH: bin },
    encoding: 'utf8',
  });
  if (probe.stdout.trim()) fail(`compilers still on PATH: ${probe.stdout.trim()}`);
  return bin;
}

// ---------------------------------------------------------------------------------------------
// Running

function main() {
  const argv = process.argv.slice(2);
  const dockerfile = argv[0];
  if (!dockerfile || dockerfile.startsWith('--'))
    fail(
      'usage: dockerfile-steps.mjs <Dockerfile> [--skip-stage <name>]... [--build-arg K=V]... [--keep]',
    );
  const skip = new Set(argv.flatMap((a, i) => (a === '--skip-stage' ? [argv[i + 1]] : [])));
  const buildArgs = Object.fromEntries(
    argv.flatMap((a, i) => (a === '--build-arg' ? [argv[i + 1].split(/=(.*)/s).slice(0, 2)] : [])),
  );
  const keep = argv.includes('--keep');
  keepWork = keep;
  const contextDir = ROOT;
  const ignored = ignoreMatcher(contextDir);
  const instructions = parseDockerfile(readFileSync(resolve(dockerfile), 'utf8'));

  const globalArgs = {};
  const stages = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.rest.trim());
      stages.push({
        image: substitute(m[1], { ...globalArgs, ...buildArgs }),
        name: m[2] ?? String(stages.length),
        steps: [],
      });
    } else if (stages.length === 0) {
      if (ins.op === 'ARG')
        for (const [k, v] of assignments(ins.rest)) globalArgs[k] = buildArgs[k] ?? v ?? '';
    } else {
      stages.at(-1).steps.push(ins);
    }
  }
  if (stages.length < 2) fail('expected build stages and a final runtime stage');

  const work = mkdtempSync(join(tmpdir(), 'dockerfile-steps-'));
  workDir = work;
  const bin = compilerFreePath(work);
  const home = join(work, 'home');
  mkdirSync(home);
  const npmCache = process.env.npm_config_cache || join(process.env.HOME || home, '.npm');
  const roots = new Map();
  const report = [];
  const log = (line) => {
    report.push(line);
    process.stdout.write(`${line}\n`);
  };
  log(`${dockerfile}: ${stages.length} stages; PATH without compilers (${bin})`);

  const final = stages.at(-1);
  for (const stage of stages.slice(0, -1)) {
    if (skip.has(stage.name)) {
      log(`stage ${stage.name}: skipped (--skip-stage)`);
      continue;
    }
    if (stage.steps.length === 0) {
      // Only a base image (e.g. where the GPU image copies the node binary from): nothing here.
      log(`stage ${stage.name}: FROM ${stage.image} only (nothing to run)`);
      continue;
    }
    const root = join(work, 'stages', stage.name);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    let cwd = root;
    const env = {
      PATH: bin,
      HOME: home,
      npm_config_cache: npmCache,
      npm_config_update_notifier: 'false',
    };
    for (const step of stage.steps) {
      const t0 = Date.now();
      const vars = { ...env };
      if (step.op === 'WORKDIR') {
        cwd = join(root, substitute(step.rest.trim(), vars));
        mkdirSync(cwd, { recursive: true });
      } else if (step.op === 'ENV' || step.op === 'ARG') {
        for (const [k, v] of assignments(step.rest)) {
          env[k] =
            step.op === 'ARG'
              ? (buildArgs[k] ?? globalArgs[k] ?? v ?? '')
              : substitute(v ?? '', vars);
        }
      } else if (step.op === 'COPY') {
        const { flags: f, rest } = flags(step.rest);
        const parts = rest
          .trim()
          .split(/\s+/)
          .map((p) => substitute(p, vars));
        const dest = parts.pop();
        const destPath = dest.startsWith('/') ? join(root, dest) : join(cwd, dest);
        if (f.from && skip.has(f.from)) {
          log(`stage ${stage.name}: COPY --from=${f.from} skipped (stage skipped)`);
          continue;
        }
        const fromRoot = f.from ? roots.get(f.from) : undefined;
        if (f.from && !fromRoot)
          fail(`line ${step.line}: COPY --from=${f.from}: no such stage run here`);
        for (const src of parts) {
          const srcPath = fromRoot ? join(fromRoot, src) : join(contextDir, src);
          if (!existsSync(srcPath)) fail(`line ${step.line}: COPY ${src}: not found`);
          // Docker: a folder's contents go into dest; a file goes into dest/ or becomes dest.
          const intoFolder =
            dest.endsWith('/') ||
            parts.length > 1 ||
            (existsSync(destPath) && statSync(destPath).isDirectory());
          const target =
            statSync(srcPath).isDirectory() || !intoFolder
              ? destPath
              : join(destPath, basename(src));
          mkdirSync(statSync(srcPath).isDirectory() ? target : dirname(target), {
            recursive: true,
          });
          if (fromRoot) cpSync(srcPath, target, { recursive: true, verbatimSymlinks: true });
          else copyFromContext(contextDir, ignored, srcPath, target);
        }
      } else if (step.op === 'RUN') {
        const { rest } = flags(step.rest);
        const cmd = rest.trim();
        const absolute = /(?:^|[\s"'=;(|&])(\/(?!dev\/null\b)[A-Za-z][\w./-]*)/.exec(cmd);
        if (absolute)
          fail(
            `line ${step.line}: RUN names the absolute path ${absolute[1]}; use paths relative to WORKDIR`,
          );
        const r = spawnSync('/bin/sh', ['-c', cmd], { cwd, env, stdio: 'inherit' });
        if (r.status !== 0)
          fail(
            `stage ${stage.name}, line ${step.line}: RUN failed (exit ${r.status}): ${cmd.slice(0, 160)}`,
          );
      } else if (
        [
          'LABEL',
          'EXPOSE',
          'USER',
          'HEALTHCHECK',
          'ENTRYPOINT',
          'CMD',
          'STOPSIGNAL',
          'SHELL',
          'VOLUME',
        ].includes(step.op)
      ) {
        continue;
      } else {
        fail(`line ${step.line}: ${step.op} is not supported by this runner`);
      }
      if (step.op === 'RUN' || step.op === 'COPY') {
        log(
          `stage ${stage.name}, line ${step.line}: ${step.op} ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
    }
  }

  // The final stage: what it copies from the build stages must be there.
  for (const step of final.steps.filter((s) => s.op === 'COPY')) {
    const { flags: f, rest } = flags(step.rest);
    if (!f.from) continue;
    const [src] = rest.trim().split(/\s+/);
    if (skip.has(f.from)) {
      log(`final stage ${final.name}: COPY --from=${f.from} ${src}: not checked (stage skipped)`);
    } else if (!roots.has(f.from)) {
      log(
        `final stage ${final.name}: COPY --from=${f.from} ${src}: from a base image, not checked`,
      );
    } else if (!existsSync(join(roots.get(f.from), src))) {
      fail(`final stage ${final.name}, line ${step.line}: COPY --from=${f.from} ${src}: not found`);
    } else {
      log(`final stage ${final.name}: COPY --from=${f.from} ${src}: present`);
    }
  }
  if (keep) log(`kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
  log(`${dockerfile}: build stages ran as written`);
}

main();
