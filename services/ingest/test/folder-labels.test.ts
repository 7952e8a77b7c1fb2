// Labels from folder names: where a key sits in an ImageFolder layout, the survey of a source
// (counts and example keys of everything that is not a labelled image), and classes from a card.
import { describe, expect, test } from 'vitest';
import {
  cardClasses,
  FolderClasses,
  FolderClassesError,
  FolderSurvey,
  placeKey,
  resolveFolderClasses,
  surveyError,
  surveyWarnings,
} from '../src/index.js';

const CLASSES = new FolderClasses({ NORMAL: 0, PNEUMONIA: 1 });

describe('placeKey', () => {
  test('the nearest class folder is the label, the folder above it the split', () => {
    expect(placeKey('chest_xray/test/NORMAL/IM-0001.jpeg', CLASSES)).toEqual({
      kind: 'image',
      label: 0,
      className: 'NORMAL',
      split: 'test',
      splitPath: 'chest_xray/test',
      extension: '.jpeg',
    });
    // Nested extra folders, as the real archive has them; case-insensitive names.
    const nested = placeKey('chest_xray/chest_xray/train/pneumonia/p1_virus.JPG', CLASSES);
    expect(nested).toMatchObject({
      kind: 'image',
      label: 1,
      className: 'PNEUMONIA',
      split: 'train',
      splitPath: 'chest_xray/chest_xray/train',
      extension: '.JPG',
    });
    // Folders below the class folder do not change it; a class folder at the top has no split.
    expect(placeKey('NORMAL/2019/a.png', CLASSES)).toMatchObject({ label: 0, splitPath: '' });
    expect(placeKey('NORMAL/2019/a.png', CLASSES)).not.toHaveProperty('split');
  });

  test('folders naming no class, and files that are not images', () => {
    expect(placeKey('set/val/healthy/a.png', CLASSES)).toEqual({
      kind: 'unlabelled',
      folder: 'healthy',
      folderPath: 'set/val/healthy',
      extension: '.png',
    });
    expect(placeKey('a.png', CLASSES)).toMatchObject({ kind: 'unlabelled', folder: '' });
    for (const k of [
      'set/test/NORMAL/notes.txt',
      'set/test/NORMAL/.DS_Store',
      '__MACOSX/set/test/NORMAL/._a.jpeg',
      'set/test/NORMAL/._a.jpeg',
      'set/test/NORMAL/scan',
    ])
      expect(placeKey(k, CLASSES).kind, k).toBe('not-image');
    // Sniffed bytes override the name (an extension-less DICOM file, a text file named .jpeg).
    expect(placeKey('set/test/NORMAL/scan', CLASSES, true).kind).toBe('image');
    expect(placeKey('set/test/NORMAL/a.jpeg', CLASSES, false).kind).toBe('not-image');
  });

  test('two spellings of one name must agree', () => {
    expect(() => new FolderClasses({ normal: 0, NORMAL: 1 })).toThrow(/differ only by case/);
    expect(new FolderClasses({ normal: 0, NORMAL: 0 }).find('Normal')?.index).toBe(0);
  });
});

describe('FolderSurvey', () => {
  test('images per split and class; every problem with a count and example keys', () => {
    const s = new FolderSurvey(CLASSES);
    for (let i = 0; i < 5; i++) s.addKey(`cx/train/NORMAL/n${i}.jpeg`);
    for (let i = 0; i < 7; i++) s.addKey(`cx/train/PNEUMONIA/p${i}.jpeg`);
    s.addKey('cx/train/PNEUMONIA/p9.png');
    s.addKey('cx/test/PNEUMONIA/t0.jpeg');
    s.addKey('cx/train/NORMAL/readme.txt');
    s.addKey('cx/.DS_Store');
    s.addKey('cx/val/'); // an empty split, as a folder placeholder
    s.addKey('cx/test/NORMAL/'); // an empty class folder
    s.addKey('cx/train/NORMAL/bad\u0007name.jpeg');
    const r = s.result();
    expect(r.images).toBe(14);
    expect(r.splits).toEqual([
      { split: 'test', path: 'cx/test', images: 1, classes: { PNEUMONIA: 1 } },
      { split: 'train', path: 'cx/train', images: 13, classes: { NORMAL: 5, PNEUMONIA: 8 } },
    ]);
    expect(r.notImages).toEqual({
      count: 2,
      examples: ['cx/train/NORMAL/readme.txt', 'cx/.DS_Store'],
    });
    expect(r.unsafeKeys.count).toBe(1);
    expect(r.mixedExtensions).toEqual([
      { extension: '.jpeg', count: 13, examples: expect.any(Array) },
      { extension: '.png', count: 1, examples: ['cx/train/PNEUMONIA/p9.png'] },
    ]);
    expect(r.emptySplits).toEqual([{ split: 'val', path: 'cx/val' }]);
    expect(r.missingClasses).toEqual([{ split: 'test', path: 'cx/test', classes: ['NORMAL'] }]);
    expect(surveyError(r)).toBeUndefined();
    const w = surveyWarnings(r).join('\n');
    expect(w).toMatch(/2 files not an image, skipped, e\.g\. cx\/train\/NORMAL\/readme\.txt/);
    expect(w).toMatch(/1 key refused by the key policy/);
    expect(w).toMatch(
      /mixed extensions \(all explained\): \.jpeg 13.*\.png 1, e\.g\. cx\/train\/PNEUMONIA\/p9\.png/,
    );
    expect(w).toMatch(/empty split "val" \(cx\/val\/\)/);
    expect(w).toMatch(/split "test" \(cx\/test\/\) has no NORMAL images/);
  });

  test('folders naming no class fail with their names, counts and examples', () => {
    const single = new FolderClasses({ pneumonia: 1 });
    const s = new FolderSurvey(single);
    for (let i = 0; i < 3; i++) s.addKey(`cx/test/NORMAL/n${i}.jpeg`);
    s.addKey('cx/test/PNEUMONIA/p.jpeg');
    s.addKey('loose.png');
    const r = s.result();
    expect(r.unknownFolders.map((u) => [u.folder, u.count])).toEqual([
      ['NORMAL', 3],
      ['', 1],
    ]);
    const msg = surveyError(r, 'HINT');
    expect(msg).toMatch(
      /^4 images in folders that name no class \(classes: pneumonia=1\): "NORMAL" \(3 images, e\.g\. cx\/test\/NORMAL\/n0\.jpeg, cx\/test\/NORMAL\/n1\.jpeg, cx\/test\/NORMAL\/n2\.jpeg\); "\(top level\)" \(1 image, e\.g\. loose\.png\); HINT$/,
    );
  });

  test('the nested duplicate of the real archive: two splits named test, debris left out', () => {
    const s = new FolderSurvey(CLASSES);
    for (const root of ['chest_xray', 'chest_xray/chest_xray']) {
      s.addFolder(`${root}/test/`);
      s.addKey(`${root}/test/NORMAL/a.jpeg`);
      s.addKey(`${root}/test/PNEUMONIA/b.jpeg`);
    }
    s.addFolder('chest_xray/__MACOSX/');
    s.addKey('chest_xray/__MACOSX/chest_xray/test/NORMAL/._a.jpeg');
    const r = s.result();
    expect(r.splits.map((x) => [x.path, x.split, x.images])).toEqual([
      ['chest_xray/chest_xray/test', 'test', 2],
      ['chest_xray/test', 'test', 2],
    ]);
    expect(r.emptySplits).toEqual([]);
    expect(r.notImages.count).toBe(1);
  });

  test('no images at all', () => {
    const s = new FolderSurvey(CLASSES);
    s.addKey('x/notes.txt');
    expect(surveyError(s.result())).toMatch(
      /no images in class folders \(1 file that are not images, e\.g\. x\/notes\.txt\)/,
    );
  });
});

describe('resolveFolderClasses', () => {
  test('a single-output card names the positive class; its negatives must be mapped', () => {
    const card = cardClasses({ output: { activation: 'sigmoid', classes: ['pneumonia'] } });
    const r = resolveFolderClasses({ from: 'folder' }, card, 'xray@1');
    expect(r.classes).toEqual({ pneumonia: 1 });
    expect(r.hint).toMatch(
      /xray@1 has one output, "pneumonia" \(class 1\).*never guessed.*\{"NORMAL": 0, "PNEUMONIA": 1\}/,
    );
    expect(
      resolveFolderClasses({ from: 'folder', classes: { NORMAL: 0, PNEUMONIA: 1 } }, card, 'x@1')
        .classes,
    ).toEqual({ NORMAL: 0, PNEUMONIA: 1 });
    expect(() =>
      resolveFolderClasses({ from: 'folder', classes: { NORMAL: 0, OTHER: 2 } }, card, 'x@1'),
    ).toThrow(/OTHER=2 out of range: x@1 has one output/);
  });

  test('a multi-class card maps every class; a card without classes needs the map', () => {
    const card = cardClasses({ output: { classes: ['normal', 'pneumonia', 'cardiomegaly'] } });
    expect(resolveFolderClasses({ from: 'folder' }, card, 'm@1').classes).toEqual({
      normal: 0,
      pneumonia: 1,
      cardiomegaly: 2,
    });
    expect(() => resolveFolderClasses({ from: 'folder' }, cardClasses({}), 'm@1')).toThrow(
      FolderClassesError,
    );
    expect(() =>
      resolveFolderClasses({ from: 'folder', classes: { a: 0, A: 1 } }, card, 'm@1'),
    ).toThrow(/differ only by case/);
  });
});
