/**
 * Sends a Secondary Capture to a CAMFLOW_DICOM_DESTINATIONS entry: C-STORE SCU (dcmjs-dimse) or
 * STOW-RS (multipart/related over fetch). A few quick tries with backoff absorb a blip; a
 * destination still down then fails the job as transient, so BullMQ retries it with its own
 * (longer) backoff and the Secondary Capture stays in S3 meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { type DicomDestination, PermanentError, TransientError } from '@camflow/contracts';
import dimse from 'dcmjs-dimse';

const { Client, Dataset } = dimse;
const { CStoreRequest } = dimse.requests;
// dcmjs-dimse logs every association to the console at info level (plain text, outside the
// service's JSON log); the worker logs delivery outcomes itself.
dimse.log.setLevel('error');

export interface DeliverOptions {
  /** Tries within the job (default 3) and the first backoff (default 500 ms, doubling). */
  tries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/** Delivers one Part 10 instance; throws TransientError when the destination stays unreachable. */
export async function deliver(
  name: string,
  destination: DicomDestination,
  bytes: Uint8Array,
  opts: DeliverOptions = {},
): Promise<void> {
  const tries = opts.tries ?? 3;
  let wait = opts.backoffMs ?? 500;
  let last: Error | undefined;
  for (let i = 0; i < tries; i++) {
    try {
      if (destination.type === 'dimse') await cStore(destination, bytes, opts.timeoutMs ?? 30_000);
      else await stow(destination, bytes, opts.timeoutMs ?? 30_000);
      return;
    } catch (err) {
      if (err instanceof PermanentError) throw err;
      last = err as Error;
      if (i + 1 < tries) await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
  throw new TransientError(
    'destination-unreachable',
    `DICOM destination "${name}" did not take the Secondary Capture after ${tries} tries: ${last?.message ?? 'unknown error'}`,
  );
}

function cStore(
  d: Extract<DicomDestination, { type: 'dimse' }>,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const request = new CStoreRequest(datasetOf(bytes));
    let status: number | undefined;
    request.on('response', (response: { getStatus(): number }) => {
      status = response.getStatus();
    });
    client.addRequest(request);
    client.on('networkError', (e: Error) =>
      reject(new Error(`C-STORE to ${d.aeTitle}@${d.host}:${d.port}: ${e.message}`)),
    );
    client.on('associationRejected', (r: { reason?: number }) =>
      reject(
        new PermanentError(
          'destination-rejected',
          `DICOM destination ${d.aeTitle}@${d.host}:${d.port} rejected the association (reason ${r?.reason ?? '?'})`,
        ),
      ),
    );
    client.on('closed', () => {
      if (status === 0) resolve();
      else if (status === undefined)
        reject(new Error(`C-STORE to ${d.aeTitle}@${d.host}:${d.port}: no response`));
      // 0xA7xx: out of resources (retry); other failures: the PACS refuses this object.
      else if ((status & 0xff00) === 0xa700)
        reject(new Error(`C-STORE status 0x${status.toString(16)}`));
      else
        reject(
          new PermanentError(
            'destination-refused',
            `DICOM destination ${d.aeTitle} answered C-STORE status 0x${status.toString(16)}`,
          ),
        );
    });
    client.send(d.host, d.port, d.callingAET ?? 'CAMFLOW', d.aeTitle, {
      connectTimeout: timeoutMs,
      associationTimeout: timeoutMs,
      pduTimeout: timeoutMs,
    });
  });
}

/**
 * dcmjs-dimse takes a data set without the Part 10 header: skip the preamble, "DICM" and the
 * meta group (its length is the first element's value); the Secondary Capture is explicit LE.
 */
function datasetOf(part10: Uint8Array): InstanceType<typeof Dataset> {
  const buf = Buffer.from(part10.buffer, part10.byteOffset, part10.byteLength);
  const start = 132 + 12 + buf.readUInt32LE(140);
  return new Dataset(buf.subarray(start), '1.2.840.10008.1.2.1');
}

async function stow(
  d: Extract<DicomDestination, { type: 'dicomweb' }>,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<void> {
  const boundary = `camflow-${randomBytes(12).toString('hex')}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await fetch(`${d.url.replace(/\/+$/, '')}/studies`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
      ...(d.token && { authorization: `Bearer ${d.token}` }),
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  if (res.status >= 500 || res.status === 429) throw new Error(`STOW-RS ${res.status}`);
  throw new PermanentError(
    'destination-refused',
    `DICOMweb destination answered STOW-RS ${res.status}`,
  );
}
