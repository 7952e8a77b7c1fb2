import { describe, expect, it } from 'vitest';
import {
  dicomStorageKey,
  explainJobId,
  InvalidUidError,
  isDicomUid,
  matchDicomRule,
  parseDicomDestinations,
  parseDicomRules,
} from '../src/index.js';

const id = {
  studyInstanceUID: '1.2.826.0.1.3680043.10.1010.1.1',
  seriesInstanceUID: '1.2.826.0.1.3680043.10.1010.2.1',
  sopInstanceUID: '1.2.826.0.1.3680043.10.1010.3.1.1',
};

describe('DICOM UIDs and storage keys', () => {
  it('accepts the UID grammar and nothing else', () => {
    expect(isDicomUid('1.2.840.10008.1.2.1')).toBe(true);
    expect(isDicomUid('2.25.0')).toBe(true);
    for (const bad of [
      '',
      '1',
      '1..2',
      '1.02',
      '.1.2',
      '1.2.',
      '1.2/3',
      '1.2.a',
      `1.${'9'.repeat(63)}`,
    ]) {
      expect(isDicomUid(bad), bad).toBe(false);
    }
  });

  it('builds dicom/<study>/<series>/<sop>.dcm from valid UIDs only', () => {
    expect(dicomStorageKey(id)).toBe(
      'dicom/1.2.826.0.1.3680043.10.1010.1.1/1.2.826.0.1.3680043.10.1010.2.1/1.2.826.0.1.3680043.10.1010.3.1.1.dcm',
    );
    for (const sop of ['..', '../../x', '1.2/../../3', '1.2\n3', '', `1.2.${'3'.repeat(70)}`]) {
      const err = (() => {
        try {
          dicomStorageKey({ ...id, sopInstanceUID: sop });
        } catch (e) {
          return e;
        }
      })();
      expect(err, sop).toBeInstanceOf(InvalidUidError);
      // The message names the attribute, never echoes the value.
      expect((err as Error).message).toMatch(/sopInstanceUID/);
      if (sop) expect((err as Error).message).not.toContain(sop);
    }
  });
});

describe('routing rules and destinations', () => {
  const destinations = parseDicomDestinations(
    JSON.stringify({
      pacs: { type: 'dimse', host: '127.0.0.1', port: 4242, aeTitle: 'ORTHANC' },
      web: { type: 'dicomweb', url: 'http://127.0.0.1:8042/dicom-web' },
    }),
  );

  it('takes the first rule whose given fields all match', () => {
    const rules = parseDicomRules(
      JSON.stringify([
        { model: 'a@1', callingAET: 'CT_SCANNER', modality: 'CT' },
        { model: 'b@1', modality: 'CR', bodyPart: 'CHEST', destination: 'pacs' },
        { model: 'c@1' },
      ]),
      destinations,
    );
    expect(matchDicomRule(rules, { callingAET: 'CT_SCANNER', modality: 'CT' })?.model).toBe('a@1');
    expect(matchDicomRule(rules, { callingAET: 'OTHER', modality: 'CT' })?.model).toBe('c@1');
    expect(matchDicomRule(rules, { modality: 'CR', bodyPart: 'CHEST ' })?.model).toBe('b@1');
    expect(matchDicomRule(rules.slice(0, 2), { modality: 'MR' })).toBeUndefined();
  });

  it('refuses unknown destinations, bad AE titles and unknown fields, naming them', () => {
    expect(() =>
      parseDicomRules('[{"model":"a@1","destination":"nowhere"}]', destinations),
    ).toThrow(/nowhere.*CAMFLOW_DICOM_DESTINATIONS/);
    expect(() => parseDicomRules('[{"model":"a@1","colour":"red"}]')).toThrow(
      /CAMFLOW_DICOM_RULES/,
    );
    expect(() =>
      parseDicomDestinations('{"p":{"type":"dimse","host":"h","port":1,"aeTitle":"A\\\\B"}}'),
    ).toThrow(/AE titles/);
    expect(() => parseDicomDestinations('{"p":{"type":"dicomweb","url":"not a url"}}')).toThrow(
      /CAMFLOW_DICOM_DESTINATIONS: p.url/,
    );
  });

  it('puts frame and destination into the job id, and nothing when absent', () => {
    const source = { bucket: 'b-1', key: 'k' };
    const base = { model: 'a@1', method: 'gradcam' as const, target: 'predicted' as const };
    const plain = explainJobId(source, base);
    expect(explainJobId(source, { ...base, dicom: {} })).not.toBe(plain);
    expect(explainJobId(source, { ...base, dicom: { frame: 1 } })).not.toBe(
      explainJobId(source, { ...base, dicom: { frame: 0 } }),
    );
    expect(explainJobId({ ...source, dicom: id }, base)).toBe(plain);
  });
});
