#!/usr/bin/env node
// Checks the deployment files against the configuration schema (libs/config, built):
//   - every environment variable that the Kubernetes manifests (each kustomize folder, rendered
//     with `kubectl kustomize`), docker-compose.yml and the images' Dockerfiles give a camflow
//     container is one the schema knows (a misspelt name is silently ignored by the services);
//   - the reverse for what a deployed service cannot do without (the defaults suit one machine
//     only): REDIS_URL, HOST, METRICS_PORT, and API tokens for ingest and the results API,
//     image threads for workers;
//   - a Secret that a folder renders holds every key that its containers require from it.
// Run after `tsc -b`: node scripts/check-deploy-env.mjs (CI does).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const { envSchema } = await import(join(ROOT, 'libs/config/dist/index.js'));
const KNOWN = new Set(Object.keys(envSchema.shape));
/** Set by the images for Node and the NVIDIA runtime, not read by camflow. */
const IMAGE_ONLY = new Set(['NODE_ENV', 'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES']);
const REQUIRED = {
  ingest: ['REDIS_URL', 'HOST', 'METRICS_PORT', 'CAMFLOW_API_TOKENS'],
  results: ['REDIS_URL', 'HOST', 'METRICS_PORT', 'CAMFLOW_API_TOKENS'],
  worker: ['REDIS_URL', 'HOST', ['METRICS_PORT', 'WORKER_METRICS_PORT']],
};
/**
 * Kubernetes pods also size their threads: without a CPU limit a pod sees the node's cores
 * (compose containers share one host, where the cores are the right answer).
 */
const REQUIRED_K8S = { worker: ['WORKER_IMAGE_THREADS'] };
const FOLDERS = [
  'infra/k8s',
  'infra/k8s/base',
  'infra/k8s/gpu',
  'infra/k8s/dev',
  'infra/k8s/external-secrets',
];

const problems = [];
const notes = [];
const isCamflowImage = (image = '') => /(^|\/)camflow(-gpu)?(:|@|$)/.test(image);

// ---------------------------------------------------------------------------------------------
// Kubernetes

function render(folder) {
  if (folder === 'infra/k8s/dev' && !existsSync(join(ROOT, folder, 'secrets.env'))) {
    execFileSync('sh', [join(ROOT, 'infra/k8s/dev/make-secrets.sh')], { stdio: 'ignore' });
    notes.push('infra/k8s/dev: generated secrets.env and keda.env (make-secrets.sh)');
  }
  const text = execFileSync('kubectl', ['kustomize', join(ROOT, folder)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS());
}

function checkRendered(folder, docs) {
  const byKind = (kind) => docs.filter((d) => d?.kind === kind);
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
  const secrets = new Map(
    byKind('Secret').map((s) => [s.metadata.name, { ...(s.data ?? {}), ...(s.stringData ?? {}) }]),
  );
  let containers = 0;
  for (const w of docs.filter((d) =>
    ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(d?.kind),
  )) {
    for (const c of w.spec?.template?.spec?.containers ?? []) {
      if (!isCamflowImage(c.image)) continue;
      containers++;
      const where = `${folder}: ${w.kind}/${w.metadata.name} container ${c.name}`;
      const names = new Set();
      for (const e of c.env ?? []) {
        names.add(e.name);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !ref.optional && secrets.has(ref.name) && !(ref.key in secrets.get(ref.name))) {
          problems.push(`${where}: Secret ${ref.name} has no key ${ref.key} (for ${e.name})`);
        }
      }
      for (const src of c.envFrom ?? []) {
        if (src.configMapRef) {
          const data = configMaps.get(src.configMapRef.name);
          if (!data)
            problems.push(`${where}: ConfigMap ${src.configMapRef.name} is not in the render`);
          for (const k of Object.keys(data ?? {})) names.add(k);
        } else if (src.secretRef) {
          const data = secrets.get(src.secretRef.name);
          if (data) for (const k of Object.keys(data)) names.add(k);
          else
            notes.push(
              `${where}: envFrom Secret ${src.secretRef.name} not rendered: keys not checked`,
            );
        }
      }
      checkNames(where, names, serviceOf(c.args ?? c.command ?? []), REQUIRED_K8S);
    }
  }
  if (containers === 0) problems.push(`${folder}: no camflow container found`);
  return containers;
}

function serviceOf(args) {
  const i = args.indexOf('serve');
  return i >= 0 ? args[i + 1] : undefined;
}

function checkNames(where, names, service, extra = {}) {
  for (const n of names) {
    if (!KNOWN.has(n) && !IMAGE_ONLY.has(n))
      problems.push(`${where}: ${n} is not a camflow setting`);
  }
  for (const req of [...(REQUIRED[service] ?? []), ...(extra[service] ?? [])]) {
    const options = Array.isArray(req) ? req : [req];
    if (!options.some((o) => names.has(o))) {
      problems.push(`${where} (serve ${service}): sets none of ${options.join(' / ')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml and the Dockerfiles

function checkCompose() {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
  let n = 0;
  for (const [name, svc] of Object.entries(compose.services ?? {})) {
    const dockerfile = svc.build?.dockerfile ?? '';
    if (
      !isCamflowImage(String(svc.image ?? '').replace(/^\$\{[^:]+:-([^}]+)\}$/, '$1')) &&
      !dockerfile.startsWith('infra/docker/')
    ) {
      continue;
    }
    n++;
    const env = Array.isArray(svc.environment)
      ? svc.environment.map((e) => e.split('=')[0])
      : Object.keys(svc.environment ?? {});
    const command = Array.isArray(svc.command)
      ? svc.command
      : String(svc.command ?? '').split(/\s+/);
    // The images set HOST and METRICS_PORT themselves (ENV): count them as set.
    checkNames(
      `docker-compose.yml: service ${name}`,
      new Set([...env, ...imageEnv]),
      serviceOf(command),
    );
  }
  if (n === 0) problems.push('docker-compose.yml: no camflow service found');
  return n;
}

/** ENV names of a Dockerfile's last stage. */
function dockerfileEnv(path) {
  const text = readFileSync(join(ROOT, path), 'utf8').replace(/\\\n/g, ' ');
  const last = text.split(/^FROM /m).at(-1);
  const names = new Set();
  for (const line of last.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    if (m) for (const kv of m[1].matchAll(/(\w+)=/g)) names.add(kv[1]);
  }
  for (const n of names) {
    if (!KNOWN.has(n) && !IMAGE_ONLY.has(n))
      problems.push(`${path}: ENV ${n} is not a camflow setting`);
  }
  return names;
}

const imageEnv = new Set();
for (const f of ['infra/docker/Dockerfile', 'infra/docker/Dockerfile.gpu']) {
  const names = dockerfileEnv(f);
  for (const required of ['HOST', 'METRICS_PORT']) {
    if (!names.has(required)) problems.push(`${f}: the image does not set ${required}`);
  }
  if (f.endsWith('Dockerfile')) for (const n of names) imageEnv.add(n);
}
const summary = [];
for (const folder of FOLDERS) summary.push(`${folder} ${checkRendered(folder, render(folder))}`);
summary.push(`docker-compose.yml ${checkCompose()}`);

for (const n of notes) process.stdout.write(`note: ${n}\n`);
if (problems.length) {
  for (const p of problems) process.stderr.write(`check-deploy-env: ${p}\n`);
  process.exit(1);
}
process.stdout.write(
  `check-deploy-env: ok (camflow containers checked: ${summary.join(', ')}; ${KNOWN.size} settings in the schema)\n`,
);
