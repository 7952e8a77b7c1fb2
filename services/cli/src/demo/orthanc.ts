/**
 * Orthanc (Debian `orthanc`, `orthanc-dicomweb`) as a hospital PACS on this machine: a child
 * process with its own config, ports and storage folder, loopback only. The demo, the DICOM
 * latency benchmark and the tests start it the same way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@camflow/storage';

export const ORTHANC_BIN = '/usr/sbin/Orthanc';
export const ORTHANC_PLUGINS = '/usr/share/orthanc/plugins';

/** Whether the Orthanc binary is installed. */
export function hasOrthanc(): boolean {
  return existsSync(ORTHANC_BIN);
}

/** How to get it, for the messages that say it is missing. */
export const ORTHANC_INSTALL = 'apt-get install orthanc orthanc-dicomweb';

export interface OrthancOptions {
  /** DICOM peers Orthanc may C-STORE to: name -> [AE title, host, port]. */
  modalities?: Record<string, [string, string, number]>;
  /** DICOMweb peers Orthanc may send to (`POST /dicom-web/servers/<name>/stow`). */
  dicomWebServers?: Record<string, { Url: string; HttpHeaders?: Record<string, string> }>;
  /** Fixed ports (default: free ones). */
  httpPort?: number;
  dicomPort?: number;
}

export interface Orthanc {
  url: string;
  httpPort: number;
  dicomPort: number;
  aeTitle: string;
  child: ChildProcess;
  /** GET (no body) or POST (JSON, or bytes as is) on the REST API; throws on HTTP errors. */
  rest<T = unknown>(path: string, body?: unknown): Promise<T>;
  /** SIGTERM and wait for the exit. */
  close(): Promise<void>;
}

/** Starts Orthanc with its data under `dir`; resolves once its REST API answers. */
export async function startOrthanc(dir: string, opts: OrthancOptions = {}): Promise<Orthanc> {
  const httpPort = opts.httpPort ?? (await freePort());
  const dicomPort = opts.dicomPort ?? (await freePort());
  mkdirSync(join(dir, 'db'), { recursive: true });
  const config = {
    Name: 'camflow-pacs',
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'ORTHANC',
    StorageDirectory: join(dir, 'db'),
    IndexDirectory: join(dir, 'db'),
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomModalities: opts.modalities ?? {},
    DicomAlwaysAllowStore: true,
    DicomCheckCalledAet: false,
    UnknownSopClassAccepted: true,
    Plugins: [ORTHANC_PLUGINS],
    DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: opts.dicomWebServers ?? {} },
    HttpTimeout: 60,
  };
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(ORTHANC_BIN, [configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
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
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  // Ready when the REST API answers (Orthanc opens it last).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited: ${stderr}`);
    try {
      await rest('/system');
      break;
    } catch {
      if (Date.now() > deadline) {
        await close();
        throw new Error(`Orthanc did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, httpPort, dicomPort, aeTitle: 'ORTHANC', child, rest, close };
}
