// Orthanc (Debian `orthanc`, `orthanc-dicomweb`) as the hospital's PACS in tests: a child process
// with its own config, free ports and storage folder, stopped (SIGTERM) by close().
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@camflow/storage';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';
export const ORTHANC_PLUGINS = '/usr/share/orthanc/plugins';

export function hasOrthanc(): boolean {
  return existsSync(ORTHANC_BIN);
}

export interface Orthanc {
  url: string;
  httpPort: number;
  dicomPort: number;
  aeTitle: string;
  /** GET/POST JSON on the REST API. */
  rest<T = unknown>(path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export interface OrthancOptions {
  /** DICOMweb peers Orthanc may send to (`POST /dicom-web/servers/<name>/stow`). */
  dicomWebServers?: Record<string, { Url: string; HttpHeaders?: Record<string, string> }>;
  /** Fixed ports (a test that starts Orthanc late, where camflow already expects it). */
  httpPort?: number;
  dicomPort?: number;
}

export async function startOrthanc(
  dir: string,
  modalities: Record<string, [string, string, number]>,
  opts: OrthancOptions = {},
): Promise<Orthanc> {
  const httpPort = opts.httpPort ?? (await freePort());
  const dicomPort = opts.dicomPort ?? (await freePort());
  mkdirSync(join(dir, 'db'), { recursive: true });
  const config = {
    Name: 'camflow-test-pacs',
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'ORTHANC',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomModalities: modalities,
    DicomAlwaysAllowStore: true,
    DicomCheckCalledAet: false,
    UnknownSopClassAccepted: true,
    Plugins: [ORTHANC_PLUGINS],
    DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: opts.dicomWebServers ?? {} },
    HttpTimeout: 60,
  };
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child: ChildProcess = spawn(ORTHANC_BIN, [configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const rest = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + path, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body !== undefined && {
        body: body instanceof Uint8Array ? body : JSON.stringify(body),
      }),
    });
    if (!res.ok) throw new Error(`Orthanc ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  // Ready when the REST API answers (Orthanc opens it last).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited: ${stderr}`);
    try {
      await rest('/system');
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`Orthanc did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    httpPort,
    dicomPort,
    aeTitle: 'ORTHANC',
    rest,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
