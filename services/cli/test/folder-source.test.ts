// The pieces of a folder-labelled source the CLI decides alone: which runs to make, their
// Idempotency-Keys, and the option syntax (no servers).
import { FolderClasses, FolderSurvey } from '@camflow/ingest';
import { describe, expect, test } from 'vitest';
import { asOption, parseClasses, splitRuns } from '../src/dataset/folder-source.js';
import { runKey } from '../src/dataset/split-runs.js';
import { keyPrefix } from '../src/dataset/upload.js';

function survey(keys: string[]) {
  const s = new FolderSurvey(new FolderClasses({ NORMAL: 0, PNEUMONIA: 1 }));
  for (const k of keys) s.addKey(k);
  return s.result();
}

describe('splitRuns', () => {
  test('one run per split folder holding images, nested archive folders included', () => {
    const s = survey([
      'cx/chest_xray/train/NORMAL/a.jpeg',
      'cx/chest_xray/train/PNEUMONIA/b.jpeg',
      'cx/chest_xray/test/NORMAL/c.jpeg',
      'cx/chest_xray/val/',
    ]);
    expect(splitRuns(s, 'cx/')).toEqual([
      { split: 'test', prefix: 'cx/chest_xray/test/', images: 1 },
      { split: 'train', prefix: 'cx/chest_xray/train/', images: 2 },
    ]);
  });

  test('one run over the source when class folders are at its top or splits nest', () => {
    expect(splitRuns(survey(['NORMAL/a.jpeg', 'PNEUMONIA/b.jpeg']), '')).toEqual([
      { split: null, prefix: '', images: 2 },
    ]);
    // Class folders right under the prefix: the folder above them names the split, as in ingest.
    expect(splitRuns(survey(['d/NORMAL/a.jpeg', 'd/PNEUMONIA/b.jpeg']), 'd/')).toEqual([
      { split: 'd', prefix: 'd/', images: 2 },
    ]);
    const nested = survey(['d/train/NORMAL/a.jpeg', 'd/train/extra/NORMAL/b.jpeg']);
    expect(splitRuns(nested, 'd/')).toEqual([{ split: null, prefix: 'd/', images: 2 }]);
  });
});

describe('runKey', () => {
  const body = { model: 'm@1', source: { bucket: 'b', prefix: 'p/train/' } };
  const etags = new Map([
    ['p/train/NORMAL/a.jpeg', 'aa'],
    ['p/train/PNEUMONIA/b.jpeg', 'bb'],
    ['p/test/NORMAL/c.jpeg', 'cc'],
  ]);
  const key = runKey(body, 'p/train/', etags);

  test('the same request over the same images gives the same key; files ingest skips do not count', () => {
    expect(key).toMatch(/^camflow-folder-[0-9a-f]{48}$/);
    const more = new Map(etags).set('p/train/notes.txt', 'xx').set('p/test/NORMAL/d.jpeg', 'dd');
    expect(runKey(body, 'p/train/', more)).toBe(key);
  });

  test('a changed, added or removed image, or another request, changes it', () => {
    expect(runKey(body, 'p/train/', new Map(etags).set('p/train/NORMAL/a.jpeg', 'a2'))).not.toBe(
      key,
    );
    expect(runKey(body, 'p/train/', new Map(etags).set('p/train/NORMAL/e.jpeg', 'ee'))).not.toBe(
      key,
    );
    const fewer = new Map(etags);
    fewer.delete('p/train/PNEUMONIA/b.jpeg');
    expect(runKey(body, 'p/train/', fewer)).not.toBe(key);
    expect(runKey({ ...body, method: 'hirescam' }, 'p/train/', etags)).not.toBe(key);
  });
});

describe('options', () => {
  test('--classes F=i,... and ingest wording as options', () => {
    expect(parseClasses('NORMAL=0, PNEUMONIA=1')).toEqual({ NORMAL: 0, PNEUMONIA: 1 });
    expect(parseClasses(undefined)).toBeUndefined();
    expect(() => parseClasses('NORMAL')).toThrow(/expected FOLDER=index/);
    expect(asOption('map it to 0, e.g. labels.classes {"NORMAL": 0, "PNEUMONIA": 1}')).toBe(
      'map it to 0, e.g. --classes NORMAL=0,PNEUMONIA=1',
    );
  });

  test('an upload prefix ends with / and passes the key policy', () => {
    expect(keyPrefix('kaggle/chest_xray')).toBe('kaggle/chest_xray/');
    expect(keyPrefix('/x/')).toBe('x/');
    expect(keyPrefix('')).toBe('');
    expect(() => keyPrefix('a/../b')).toThrow();
  });
});
