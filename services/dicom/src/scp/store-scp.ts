/**
 * The C-STORE / C-ECHO SCP (dcmjs-dimse): checks the called and calling AE titles, accepts
 * Verification and every storage SOP class in the first proposed transfer syntax camflow can
 * decode (so compressed instances stay compressed), keeps each data set's bytes as received,
 * and answers a C-STORE only once `receive` has stored it: success, 0xA700 (out of resources:
 * the sender keeps the instance and retries) or 0xC000 (cannot understand: a malformed file;
 * the association goes on).
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { DECODABLE_SYNTAXES, toPart10 } from '@camflow/dicom';
import dimse from 'dcmjs-dimse';

const { Scp, Dataset } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { Status, PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass } =
  dimse.constants;

/** DIMSE statuses camflow answers with (PS3.4 B.2.3 and C.4.2.1.4). */
export const STORE_STATUS = {
  success: 0x0000,
  outOfResources: 0xa700,
  cannotUnderstand: 0xc000,
} as const;

export interface StoredOutcome {
  status: number;
}

/** What the SCP needs from the service around it. */
export interface ScpHandlers {
  calledAET: string;
  /** `["*"]` or a list of calling AE titles. */
  allowedAETs: string[];
  /** Stores and routes one instance; resolves to the status to answer. */
  receive(
    part10: Uint8Array,
    ctx: { callingAET: string; sopInstanceUID: string; sopClassUID: string },
  ): Promise<StoredOutcome>;
  /** Association events for logs and metrics (no PHI: AE titles and counts). */
  onAssociation?(event: { callingAET: string; accepted: boolean; reason?: string }): void;
}

/** A data set's bytes as received, carried from the store stream to cStoreRequest. */
type RawDataset = InstanceType<typeof Dataset> & { raw?: Buffer; transferSyntaxUID?: string };

/** Builds the SCP class dcmjs-dimse instantiates per connection, bound to `handlers`. */
export function storeScpClass(handlers: ScpHandlers): typeof Scp {
  const decodable = new Set(DECODABLE_SYNTAXES);
  const allowAll = handlers.allowedAETs.includes('*');
  const allowed = new Set(handlers.allowedAETs.map((a) => a.trim()));

  return class StoreScp extends Scp {
    /** The peer's AE title, once the association is requested. */
    callingAET = '';

    constructor(socket: Socket, opts?: ConstructorParameters<typeof Scp>[1]) {
      super(socket, opts);
    }

    override associationRequested(
      association: Parameters<InstanceType<typeof Scp>['associationRequested']>[0],
    ): void {
      this.callingAET = association.getCallingAeTitle().trim();
      const called = association.getCalledAeTitle().trim();
      let reason: number | undefined;
      if (called !== handlers.calledAET) reason = RejectReason.CalledAeNotRecognized;
      else if (!allowAll && !allowed.has(this.callingAET))
        reason = RejectReason.CallingAeNotRecognized;
      if (reason !== undefined) {
        handlers.onAssociation?.({
          callingAET: this.callingAET,
          accepted: false,
          reason:
            reason === RejectReason.CalledAeNotRecognized
              ? 'called AE title'
              : 'calling AE title not allowed',
        });
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, reason);
        return;
      }
      for (const c of association.getPresentationContexts()) {
        const context = association.getPresentationContext(c.id);
        const proposed = context.getTransferSyntaxUids();
        const pick = proposed.find((ts) => decodable.has(ts));
        if (context.getAbstractSyntaxUid() === SopClass.Verification) {
          context.setResult(PresentationContextResult.Accept, proposed[0]);
        } else if (pick) context.setResult(PresentationContextResult.Accept, pick);
        else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      handlers.onAssociation?.({ callingAET: this.callingAET, accepted: true });
      this.sendAssociationAccept();
    }

    override abort(): void {
      handlers.onAssociation?.({
        callingAET: this.callingAET,
        accepted: false,
        reason: 'aborted by the peer',
      });
    }

    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(
      request: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[0],
      callback: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[1],
    ): void {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    }

    // Keep the data set's bytes: no parse and re-encode by dcmjs, and no PHI in its logs.
    override createDatasetFromStoreWritableStream(
      writable: Writable,
      context: Parameters<InstanceType<typeof Scp>['createDatasetFromStoreWritableStream']>[1],
      callback: (dataset: InstanceType<typeof Dataset>) => void,
    ): void {
      const ds = new Dataset({}, context.getAcceptedTransferSyntaxUid()) as RawDataset;
      ds.raw = (writable as Writable & { toBuffer(): Buffer }).toBuffer();
      ds.transferSyntaxUID = context.getAcceptedTransferSyntaxUid();
      callback(ds);
    }

    override cStoreRequest(
      request: Parameters<InstanceType<typeof Scp>['cStoreRequest']>[0],
      callback: Parameters<InstanceType<typeof Scp>['cStoreRequest']>[1],
    ): void {
      const response = CStoreResponse.fromRequest(request);
      const ds = request.getDataset() as RawDataset | undefined;
      const sopInstanceUID = request.getAffectedSopInstanceUid();
      const sopClassUID = request.getAffectedSopClassUid();
      if (!ds?.raw || !ds.transferSyntaxUID) {
        response.setStatus(STORE_STATUS.cannotUnderstand);
        callback(response);
        return;
      }
      const part10 = toPart10(ds.raw, {
        sopClassUID,
        sopInstanceUID,
        transferSyntaxUID: ds.transferSyntaxUID,
        sourceAET: this.callingAET,
      });
      handlers
        .receive(part10, { callingAET: this.callingAET, sopInstanceUID, sopClassUID })
        .then(
          (o) => response.setStatus(o.status),
          () => response.setStatus(STORE_STATUS.outOfResources),
        )
        .finally(() => callback(response));
    }
  };
}
