/**
 * A grey DICOM image instance from pixels (Digital X-Ray, for presentation; explicit VR little
 * endian), written with dcmjs: what the demo and the DICOM latency benchmark send as "the
 * scanner". Identity (patient, study, series, instance) comes from the caller; nothing here is
 * invented except the UIDs derived from the caller's seed.
 */
import { createRequire } from 'node:module';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './part10.js';
import { derivedUid } from './secondary-capture.js';

const require = createRequire(import.meta.url);
interface DcmjsData {
  DicomDict: new (meta: object) => { dict: object; write(): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(ds: object): object };
}
const { data: dcmjs } = require('dcmjs') as { data: DcmjsData };

/** Digital X-Ray Image Storage - For Presentation. */
export const DX_FOR_PRESENTATION = '1.2.840.10008.5.1.4.1.1.1.1';

export interface GreyInstanceInput {
  /** Row-major grey values: 8-bit, or 16-bit holding `bitsStored` bits. */
  pixels: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** Bits used in 16-bit pixels (default 12); ignored for 8-bit ones. */
  bitsStored?: number;
  /** Seeds the study, series and instance UIDs (same seed, same UIDs). */
  seed: string;
  /** The instance's number in its series (from 1). */
  instanceNumber?: number;
  patientName: string;
  patientID: string;
  accessionNumber?: string;
  studyDescription?: string;
  bodyPart?: string;
  /** Default DX. */
  modality?: string;
  now?: Date;
}

/** The instance as a Part 10 file, and its UIDs. */
export function encodeGreyInstance(input: GreyInstanceInput): {
  bytes: Uint8Array;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
} {
  const { width, height, pixels } = input;
  if (pixels.length !== width * height) {
    throw new Error(`grey instance: ${pixels.length} pixels for ${width}x${height}`);
  }
  const wide = pixels instanceof Uint16Array;
  const bits = wide ? (input.bitsStored ?? 12) : 8;
  const studyInstanceUID = derivedUid('camflow-grey-study', input.seed);
  const seriesInstanceUID = derivedUid('camflow-grey-series', input.seed);
  const sopInstanceUID = derivedUid(
    'camflow-grey-instance',
    input.seed,
    String(input.instanceNumber ?? 1),
  );
  const now = input.now ?? new Date();
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  const time = now.toISOString().slice(11, 19).replaceAll(':', '');
  const max = 2 ** bits - 1;
  const dataset = {
    _vrMap: { PixelData: wide ? 'OW' : 'OB' },
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['ORIGINAL', 'PRIMARY'],
    SOPClassUID: DX_FOR_PRESENTATION,
    SOPInstanceUID: sopInstanceUID,
    StudyDate: date,
    StudyTime: time,
    AccessionNumber: input.accessionNumber ?? '',
    Modality: input.modality ?? 'DX',
    Manufacturer: 'camflow',
    PatientName: input.patientName,
    PatientID: input.patientID,
    PatientBirthDate: '',
    PatientSex: '',
    BodyPartExamined: input.bodyPart ?? 'CHEST',
    StudyInstanceUID: studyInstanceUID,
    SeriesInstanceUID: seriesInstanceUID,
    StudyID: '1',
    SeriesNumber: '1',
    InstanceNumber: String(input.instanceNumber ?? 1),
    StudyDescription: input.studyDescription ?? '',
    PresentationIntentType: 'FOR PRESENTATION',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: height,
    Columns: width,
    BitsAllocated: wide ? 16 : 8,
    BitsStored: bits,
    HighBit: bits - 1,
    PixelRepresentation: 0,
    WindowCenter: String((max + 1) / 2),
    WindowWidth: String(max + 1),
    RescaleIntercept: '0',
    RescaleSlope: '1',
    LossyImageCompression: '00',
    PixelData: [pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength)],
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: DX_FOR_PRESENTATION,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dict = new dcmjs.DicomDict(dcmjs.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = dcmjs.DicomMetaDictionary.denaturalizeDataset(dataset);
  return {
    bytes: new Uint8Array(dict.write()),
    studyInstanceUID,
    seriesInstanceUID,
    sopInstanceUID,
  };
}
