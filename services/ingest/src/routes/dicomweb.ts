import { canUseBucket, isDicomUid } from '@camflow/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DicomIntakeDeps } from '../dicom-intake.js';
import { MultipartError, parseMediaType, splitMultipart } from '../dicomweb/multipart.js';
import { storeParts, stowResponse } from '../dicomweb/stow.js';
import { HttpError } from '../http-error.js';
import type { Guards } from './guards.js';

/** Largest STOW-RS request (a study can be sent in several). */
export const STOW_BODY_LIMIT = 256 * 1024 * 1024;

/**
 * `POST /dicomweb/studies[/{study}]` (STOW-RS): `multipart/related; type="application/dicom"`
 * parts, each through the DICOM intake (stored in S3, routed, queued) as a C-STORE would be;
 * the answer is the Store Instances Response in `application/dicom+json`. The token (scope
 * `dicom:write`) is checked before the body is read.
 */
export function registerDicomWebRoutes(
  app: FastifyInstance,
  intake: DicomIntakeDeps,
  guards: Guards,
): void {
  void app.register(async (scope) => {
    // Only this scope reads multipart bodies; anything else is answered 415 with what to send.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'multipart/related',
      { parseAs: 'buffer', bodyLimit: STOW_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    scope.addContentTypeParser('*', (req, _payload, done) =>
      done(unsupported(req.headers['content-type']), undefined),
    );
    const opts = { onRequest: guards.write('dicom:write'), bodyLimit: STOW_BODY_LIMIT };
    const handler = (req: FastifyRequest, reply: FastifyReply) => stow(intake, req, reply);
    scope.post('/dicomweb/studies', opts, handler);
    scope.post('/dicomweb/studies/:study', opts, handler);
  });
}

async function stow(intake: DicomIntakeDeps, req: FastifyRequest, reply: FastifyReply) {
  const media = parseMediaType(req.headers['content-type']);
  if (media?.type !== 'multipart/related') throw unsupported(req.headers['content-type']);
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
    throw new HttpError(400, 'bad_request', 'the request has no body: send the instances as parts');
  }
  const type = media.params.type?.toLowerCase();
  if (type !== undefined && type !== 'application/dicom') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `type="${type}" is not supported: send DICOM files as type="application/dicom" parts (the metadata and bulk data form is not accepted)`,
    );
  }
  const study = (req.params as { study?: string }).study;
  if (study !== undefined && !isDicomUid(study)) {
    throw new HttpError(400, 'bad_request', 'the study in the path is not a DICOM UID');
  }
  if (!canUseBucket(req.principal!, intake.bucket)) {
    throw new HttpError(403, 'forbidden', `this token may not use bucket ${intake.bucket}`);
  }
  const boundary = media.params.boundary;
  if (!boundary) {
    throw new HttpError(400, 'bad_request', 'the Content-Type has no boundary parameter');
  }
  let parts: ReturnType<typeof splitMultipart>;
  try {
    parts = splitMultipart(req.body, boundary);
  } catch (err) {
    if (err instanceof MultipartError) throw new HttpError(400, 'bad_request', err.message);
    throw err;
  }
  if (parts.length === 0) throw new HttpError(400, 'bad_request', 'the request has no parts');

  const results = await storeParts(intake, parts, study);
  for (const r of results) {
    if (r.outcome.status === 'refused') {
      // UIDs and the reason only: intake messages never carry patient data.
      req.log.warn(
        { sopInstanceUID: r.sopInstanceUID, cause: r.outcome.cause, message: r.outcome.message },
        'STOW-RS instance refused',
      );
    }
  }
  const { status, body } = stowResponse(results);
  if (status === 503) reply.header('retry-after', '30');
  return reply.code(status).type('application/dicom+json').send(JSON.stringify(body));
}

function unsupported(contentType: string | undefined): HttpError {
  return new HttpError(
    415,
    'unsupported_media_type',
    `${contentType ? `Content-Type ${contentType.split(';')[0]}` : 'no Content-Type'}: STOW-RS takes multipart/related; type="application/dicom"; boundary=...`,
  );
}
