import { Counter, type Registry } from '@camflow/telemetry';

/** The DICOM service's metrics: outcomes and associations, labelled without PHI. */
export function createDicomMetrics(registry: Registry) {
  return {
    registry,
    /** Instances by outcome: queued, skipped (no rule, not an image), refused (invalid, unavailable). */
    instances: new Counter({
      name: 'camflow_dicom_instances_total',
      help: 'DICOM instances received by C-STORE, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    associations: new Counter({
      name: 'camflow_dicom_associations_total',
      help: 'DICOM associations, by result (accepted, rejected, aborted)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type DicomMetrics = ReturnType<typeof createDicomMetrics>;
