/**
 * A folder-labelled run's layout as ingest's survey found it (the run hash's `layout` field):
 * images per split and class, and what was reported with counts and example keys (folders naming
 * no class, files that are not images, mixed extensions, empty splits). Read as stored; shown in
 * the run status and the report.
 */
export interface Examples {
  count: number;
  examples: string[];
}

export interface RunLayout {
  images: number;
  classes: Record<string, number>;
  splits: { split: string | null; path: string; images: number; classes: Record<string, number> }[];
  unknownFolders: ({ folder: string; path: string } & Examples)[];
  notImages: Examples;
  unsafeKeys: Examples;
  mixedExtensions: ({ extension: string } & Examples)[];
  emptySplits: { split: string; path: string }[];
  missingClasses: { split: string | null; path: string; classes: string[] }[];
  /** One line each, as ingest worded them. */
  warnings: string[];
  /** Why the run could not start (folders naming no class, no images). */
  error?: string;
}

/** The stored layout, or undefined when it is unreadable. */
export function parseLayout(raw: string): RunLayout | undefined {
  try {
    const v = JSON.parse(raw) as Partial<RunLayout>;
    if (typeof v !== 'object' || v === null || !Array.isArray(v.splits)) return undefined;
    return {
      images: v.images ?? 0,
      classes: v.classes ?? {},
      splits: v.splits,
      unknownFolders: v.unknownFolders ?? [],
      notImages: v.notImages ?? { count: 0, examples: [] },
      unsafeKeys: v.unsafeKeys ?? { count: 0, examples: [] },
      mixedExtensions: v.mixedExtensions ?? [],
      emptySplits: v.emptySplits ?? [],
      missingClasses: v.missingClasses ?? [],
      warnings: v.warnings ?? [],
      ...(v.error && { error: v.error }),
    };
  } catch {
    return undefined;
  }
}

/** The status document's `splits` and `layout` (absent for runs without either). */
export function splitFigures(run: { layout?: RunLayout }, splits: SplitView[] | undefined) {
  const l = run.layout;
  return {
    ...(splits && { splits }),
    ...(l && {
      layout: {
        ...l,
        // A source with thousands of stray folders would make every status poll heavy.
        unknownFolders: l.unknownFolders.slice(0, 20),
      },
    }),
  };
}

/** One split's figures in a run's status. */
export interface SplitView {
  /** The split's name; null for images not under a split folder. */
  split: string | null;
  /** Images the source survey found in it (folder labels), when known. */
  images: number | null;
  completed: number;
  failed: number;
  /** Completed results whose label names a class. */
  labelled: number;
  correct: number;
  accuracy: number | null;
  /** Rows: label, columns: prediction, over `classes`. */
  confusion: number[][] | null;
  classes: string[] | null;
}
