// What a user may see of a GitLab project or group, as GitLab says with that user's own token:
// whether it exists for them, its visibility, and their access level (members/all counts membership
// inherited from parent groups and through shared groups).
import type { GitlabApi } from "./client.js";
import { gitlabStatusOf } from "./client.js";

export type Visibility = "public" | "internal" | "private";

/** GitLab's access levels (https://docs.gitlab.com/api/members/#roles). */
export const ACCESS_LEVEL = { none: 0, minimal: 5, guest: 10, planner: 15, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export interface ResourceAccess {
  kind: "project" | "group";
  id: number;
  /** As GitLab spells it (path_with_namespace or full_path). */
  fullPath: string;
  visibility: Visibility;
  /** The user's effective access level; `owner` for GitLab administrators. */
  accessLevel: number;
}

type Json = Record<string, unknown>;

function visibilityOf(value: unknown): Visibility {
  // Unknown values count as private: the strictest reading.
  return value === "public" || value === "internal" ? value : "private";
}

function levelOf(value: unknown): number {
  if (value && typeof value === "object" && "access_level" in value && typeof value.access_level === "number") return value.access_level;
  return 0;
}

async function orUndefinedOn404<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const status = gitlabStatusOf(error);
    if (status === 404 || status === 403) return undefined;
    throw error;
  }
}


/**
 * The project, else the group, at `path`, as the user sees it; undefined when GitLab says neither
 * exists for them (not found, or not visible to them).
 */
export async function resourceAccess(api: GitlabApi, gitlabUserId: number, path: string): Promise<ResourceAccess | undefined> {
  const project = (await orUndefinedOn404(() => api.Projects.show(path))) as Json | undefined;
  let access: ResourceAccess;
  if (project) {
    const permissions = (project.permissions ?? {}) as Json;
    access = {
      kind: "project",
      id: Number(project.id),
      fullPath: String(project.path_with_namespace ?? path),
      visibility: visibilityOf(project.visibility),
      accessLevel: Math.max(levelOf(permissions.project_access), levelOf(permissions.group_access)),
    };
    if (access.accessLevel < ACCESS_LEVEL.reporter) {
      const member = (await orUndefinedOn404(() => api.ProjectMembers.show(access.id, gitlabUserId, { includeInherited: true }))) as Json | undefined;
      access.accessLevel = Math.max(access.accessLevel, levelOf(member));
    }
  } else {
    const group = (await orUndefinedOn404(() => api.Groups.show(path, { withProjects: false } as Record<string, unknown>))) as Json | undefined;
    if (!group) return undefined;
    access = {
      kind: "group",
      id: Number(group.id),
      fullPath: String(group.full_path ?? path),
      visibility: visibilityOf(group.visibility),
      accessLevel: 0,
    };
    const member = (await orUndefinedOn404(() => api.GroupMembers.show(access.id, gitlabUserId, { includeInherited: true }))) as Json | undefined;
    access.accessLevel = levelOf(member);
  }
  if (access.accessLevel < ACCESS_LEVEL.reporter) {
    // Administrators see everything without being members.
    const me = (await api.Users.showCurrentUser()) as unknown as Json;
    if (me.is_admin === true) access.accessLevel = ACCESS_LEVEL.owner;
  }
  return access;
}
