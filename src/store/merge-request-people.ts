// Who a merge request concerns (author, assignees, reviewers), remembered from its own events for
// events that do not say: a pipeline's payload names no author, a comment's no reviewers.
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

/** Records the people of a merge request, unless a newer event (by its updated_at) already did. */
export async function saveMergeRequestPeople(db: Db, threadKey: string, people: MergeRequestPeople, updatedAt: string): Promise<void> {
  const row = {
    author_id: people.authorId ?? null,
    assignee_ids: JSON.stringify(people.assigneeIds),
    reviewer_ids: JSON.stringify(people.reviewerIds),
    updated_at: updatedAt,
  };
  await db
    .insertInto("merge_request_people")
    .values({ thread_key: threadKey, ...row })
    .onConflict((oc) =>
      oc
        .column("thread_key")
        .doUpdateSet(row)
        .where("merge_request_people.updated_at", "<=", updatedAt),
    )
    .execute();
}

export async function findMergeRequestPeople(db: Db, threadKey: string): Promise<MergeRequestPeople | undefined> {
  const row = await db.selectFrom("merge_request_people").selectAll().where("thread_key", "=", threadKey).executeTakeFirst();
  if (!row) return undefined;
  return {
    ...(row.author_id === null ? {} : { authorId: Number(row.author_id) }),
    assigneeIds: ids(row.assignee_ids),
    reviewerIds: ids(row.reviewer_ids),
  };
}
