// Who a merge request concerns (author, assignees, reviewers), remembered from its own events for
// events that do not say: a pipeline's payload names no author, a comment's no reviewers.
import { reusedQuery } from "./compiled.js";
import type { Db } from "./db.js";

export interface MergeRequestPeople {
  authorId?: number;
  assigneeIds: number[];
  reviewerIds: number[];
}

function ids(text: string): number[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
  } catch {
    return [];
  }
}

type PeopleRow = { threadKey: string; authorId: number | null; assigneeIds: string; reviewerIds: string; updatedAt: string };

const upsertNewerPeople = reusedQuery((db, p: PeopleRow) => {
  const row = { author_id: p.authorId, assignee_ids: p.assigneeIds, reviewer_ids: p.reviewerIds, updated_at: p.updatedAt };
  return db
    .insertInto("merge_request_people")
    .values({ thread_key: p.threadKey, ...row })
    .onConflict((oc) =>
      oc
        .column("thread_key")
        .doUpdateSet(row)
        .where("merge_request_people.updated_at", "<=", p.updatedAt),
    );
});

/** Records the people of a merge request, unless a newer event (by its updated_at) already did. */
export async function saveMergeRequestPeople(db: Db, threadKey: string, people: MergeRequestPeople, updatedAt: string): Promise<void> {
  await upsertNewerPeople.run(db, {
    threadKey,
    authorId: people.authorId ?? null,
    assigneeIds: JSON.stringify(people.assigneeIds),
    reviewerIds: JSON.stringify(people.reviewerIds),
    updatedAt,
  });
}

const selectPeople = reusedQuery((db, p: { threadKey: string }) =>
  db.selectFrom("merge_request_people").selectAll().where("thread_key", "=", p.threadKey),
);

export async function findMergeRequestPeople(db: Db, threadKey: string): Promise<MergeRequestPeople | undefined> {
  const row = await selectPeople.first(db, { threadKey });
  if (!row) return undefined;
  return {
    ...(row.author_id === null ? {} : { authorId: Number(row.author_id) }),
    assigneeIds: ids(row.assignee_ids),
    reviewerIds: ids(row.reviewer_ids),
  };
}
