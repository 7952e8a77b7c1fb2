/**
 * A DICOM Secondary Capture (SOP class 1.2.840.10008.5.1.4.1.1.7) of an explanation, written
 * with dcmjs: the source's patient and study (so the PACS files it in the same study), a series
 * per (source series, model), the overlay as 8-bit RGB, SourceImageSequence pointing at the
 * source instance, the prediction in ImageComments, and BurnedInAnnotation YES when a caption is
 * drawn into the pixels (NO when it could not be: the caption is then only in ImageComments).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { DicomError } from './errors.js';
import { type DataSet, parseDicom, text } from './parse.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './part10.js';

const require = createRequire(import.meta.url);
interface DcmjsData {
  DicomDict: new (meta: object) => { dict: object; write(): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(ds: object): object };
}
const { data: dcmjs } = require('dcmjs') as { data: DcmjsData };

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A UID from a hash: 2.25 + a 128-bit integer (PS3.5 B.2), the same for the same inputs. */
export function derivedUid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/** What the Secondary Capture keeps of its source (read from the source's bytes). */
export interface SourceStudy {
  patient: Record<string, string>;
  study: Record<string, string>;
  seriesInstanceUID: string;
  seriesNumber?: string;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
}

const PATIENT_TAGS: Record<string, string> = {
  PatientName: 'x00100010',
  PatientID: 'x00100020',
  PatientBirthDate: 'x00100030',
  PatientSex: 'x00100040',
  IssuerOfPatientID: 'x00100021',
};
const STUDY_TAGS: Record<string, string> = {
  StudyDate: 'x00080020',
  StudyTime: 'x00080030',
  StudyID: 'x00200010',
  AccessionNumber: 'x00080050',
  ReferringPhysicianName: 'x00080090',
  StudyDescription: 'x00081030',
};

/** Reads the patient and study attributes the Secondary Capture copies. */
export function readSourceStudy(bytes: Uint8Array | DataSet): SourceStudy {
  const ds = bytes instanceof Uint8Array ? parseDicom(bytes, 'x7fe00010') : bytes;
  const need = (tag: string, name: string) => {
    const v = text(ds, tag);
    if (!v)
      throw new DicomError(
        'corrupt',
        `DICOM source has no ${name}: cannot file a Secondary Capture with it`,
      );
    return v;
  };
  const pick = (tags: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(tags).flatMap(([k, t]) => {
        const v = ds.string(t)?.replace(/\0/g, '').trimEnd();
        return v ? [[k, v]] : [];
      }),
    );
  return {
    patient: pick(PATIENT_TAGS),
    study: pick(STUDY_TAGS),
    studyInstanceUID: need('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUID: need('x0020000e', 'SeriesInstanceUID'),
    seriesNumber: text(ds, 'x00200011'),
    sopClassUID: need('x00080016', 'SOPClassUID'),
    sopInstanceUID: need('x00080018', 'SOPInstanceUID'),
  };
}

export interface SecondaryCaptureInput {
  source: SourceStudy;
  /** Interleaved 8-bit RGB, width x height. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** `name@version`: names the series and seeds its UID. */
  model: string;
  /** Seeds the instance UID: the same job writes the same instance (a retry replaces it). */
  jobId: string;
  /** Starts with "Grad-CAM" (callers add the model and method). */
  seriesDescription: string;
  /** The prediction, in words. */
  imageComments: string;
  /** Frame of the source explained (multi-frame sources). */
  frame?: number;
  /** Whether text is burned into the pixels (BurnedInAnnotation YES/NO); default true. */
  captioned?: boolean;
  /** When the capture was made (default now). */
  now?: Date;
}

/** The Secondary Capture's identity, for results and delivery. */
export interface SecondaryCapture {
  bytes: Uint8Array;
  seriesInstanceUID: string;
  sopInstanceUID: string;
}

/** Encodes the Secondary Capture as a Part 10 file (explicit VR little endian). */
export function encodeSecondaryCapture(input: SecondaryCaptureInput): SecondaryCapture {
  const { source, width, height, rgb } = input;
  if (rgb.length !== width * height * 3) {
    throw new Error(`Secondary Capture pixels: ${rgb.length} bytes for ${width}x${height} RGB`);
  }
  const seriesInstanceUID = derivedUid('camflow-sc-series', source.seriesInstanceUID, input.model);
  const sopInstanceUID = derivedUid(
    'camflow-sc',
    source.sopInstanceUID,
    input.jobId,
    String(input.frame ?? 0),
  );
  const now = input.now ?? new Date();
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  const time = now.toISOString().slice(11, 19).replaceAll(':', '');
  const reference = {
    ReferencedSOPClassUID: source.sopClassUID,
    ReferencedSOPInstanceUID: source.sopInstanceUID,
    ...(input.frame !== undefined &&
      input.frame > 0 && { ReferencedFrameNumber: String(input.frame + 1) }),
  };
  const dataset = {
    _vrMap: { PixelData: 'OB' },
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'SECONDARY'],
    SOPClassUID: SECONDARY_CAPTURE,
    SOPInstanceUID: sopInstanceUID,
    ...source.patient,
    StudyInstanceUID: source.studyInstanceUID,
    ...source.study,
    SeriesInstanceUID: seriesInstanceUID,
    SeriesNumber: String(9000 + (Number.parseInt(source.seriesNumber ?? '0', 10) % 1000 || 0)),
    SeriesDescription: input.seriesDescription.slice(0, 64),
    SeriesDate: date,
    SeriesTime: time,
    Modality: 'OT',
    ConversionType: 'WSD',
    Manufacturer: 'camflow',
    SecondaryCaptureDeviceManufacturer: 'camflow',
    SecondaryCaptureDeviceManufacturerModelName: input.model.slice(0, 64),
    InstanceNumber: String((input.frame ?? 0) + 1),
    ContentDate: date,
    ContentTime: time,
    DerivationDescription: 'Grad-CAM explanation overlay (not for diagnosis)',
    SourceImageSequence: [reference],
    ReferencedImageSequence: [reference],
    ImageComments: input.imageComments.slice(0, 10240),
    BurnedInAnnotation: input.captioned === false ? 'NO' : 'YES',
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: height,
    Columns: width,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    PixelData: [rgb.buffer.slice(rgb.byteOffset, rgb.byteOffset + rgb.byteLength)],
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SECONDARY_CAPTURE,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dict = new dcmjs.DicomDict(dcmjs.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.DicomMetaDictionary.denaturalizeDataset(dataset);
  return { bytes: new Uint8Array(dict.write()), seriesInstanceUID, sopInstanceUID };
}
