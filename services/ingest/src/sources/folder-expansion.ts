/**
 * The expansion of a folder-labelled run: first a survey of the whole source (a listing, keys
 * only: about one request per 1000 objects), stored with the run as its `layout` and failing the
 * run when folders name no class, then the usual pages with each image's label and split.
 */
import { type RunRecord, redisKeys } from '@camflow/contracts';
import type { ObjectStore } from '@camflow/storage';
import type { Redis } from 'ioredis';
import { FolderClasses, placeKey } from './folder-labels.js';
import { FolderSurvey, type LayoutSurvey, surveyError, surveyWarnings } from './folder-survey.js';
import type { SourcePage } from './pages.js';

/** The run hash field holding the survey (JSON LayoutSurvey plus `warnings`). */
export const LAYOUT_FIELD = 'layout';

export interface StoredLayout extends LayoutSurvey {
  warnings: string[];
  error?: string;
}

/** Lists the run's source into a survey (explicit keys need no listing). */
export async function surveySource(
  store: ObjectStore,
  record: RunRecord,
  pageSize = 1000,
): Promise<LayoutSurvey> {
  const survey = new FolderSurvey(new FolderClasses(record.labels?.classes ?? {}));
  const { bucket, prefix, keys } = record.source;
  if (keys) {
    for (const k of keys) survey.addKey(k);
    return survey.result();
  }
  let next: string | undefined;
  do {
    const page = await store.list(bucket, prefix ?? '', next, pageSize);
    for (const o of page.objects) survey.addKey(o.key);
    next = page.next;
  } while (next);
  return survey.result();
}

/**
 * Surveys a folder-labelled run and stores the result with it; returns the reason the run
 * cannot go on (folders that name no class, no images), or undefined. `hint` is kept in the
 * record's error message (how to map the folders).
 */
export async function surveyFolderRun(
  redis: Redis,
  store: ObjectStore,
  record: RunRecord,
  pageSize?: number,
): Promise<StoredLayout> {
  const survey = await surveySource(store, record, pageSize);
  const error = surveyError(survey, record.labels?.hint);
  const layout: StoredLayout = {
    ...survey,
    warnings: surveyWarnings(survey),
    ...(error && { error }),
  };
  await redis.hset(redisKeys.run(record.runId), LAYOUT_FIELD, JSON.stringify(layout));
  return layout;
}

/**
 * Labels a run's pages from its folders: images get their class index and split; anything else
 * (not an image, in a folder naming no class: the survey reported them) is left out and counted
 * with the page's skipped entries.
 */
export async function* withFolderLabels(
  pages: AsyncGenerator<SourcePage>,
  classes: Record<string, number>,
): AsyncGenerator<SourcePage> {
  const folders = new FolderClasses(classes);
  try {
    for await (const page of pages) {
      const items = [];
      let invalid = page.invalid;
      for (const item of page.items) {
        const place = placeKey(item.source.key, folders);
        if (place.kind !== 'image') {
          invalid++;
          continue;
        }
        items.push({ ...item, label: place.label, ...(place.split && { split: place.split }) });
      }
      yield { ...page, items, invalid };
    }
  } finally {
    await pages.return(undefined);
  }
}
