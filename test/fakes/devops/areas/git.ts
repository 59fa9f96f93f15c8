// git: repositories, refs, pushes, items, commits.
// Shapes: git/7.1/httpExamples/repositories/*.json and pushes/*.json; push validation follows the
// service's ModifyPaths (stale ref -> 409 GitReferenceStaleException TF401028, add of an existing
// path / edit of a missing one -> 400).
import { createHash } from 'node:crypto';
import { ApiError, bodyArray, bodyObject, list, noContent, obj, ok, str, type Req, type Res, type Route } from '../http.js';
import { ZERO_ID, type Backend } from '../backend.js';
import type { Commit, Project, Repo } from '../types.js';

const REPOS = '225f7195-f9c7-4d14-ab28-a83f7ff77e1f';
const REFS = '2d874a60-a811-4f62-9c9f-963a6ea0a55b';
const PUSHES = 'ea98d07b-3c87-4971-8ede-a613694ffb55';
const ITEMS = 'fb93c0db-47ed-4a31-8c20-47552878fb44';
const COMMITS = 'c2570c3b-5b3f-41b8-98bf-5407bfde8d58';

// ---------------------------------------------------------------- rendering

function projectOfRepo(b: Backend, repo: Repo): Project {
  const p = b.world.projects.find((x) => x.id === repo.projectId);
  if (!p) throw new ApiError(500, 'Exception', `Fake: repository ${repo.id} has no project`);
  return p;
}

function repoApi(b: Backend, repo: Repo, tail = ''): string {
  return b.api(`${repo.projectId}/_apis/git/repositories/${repo.id}${tail}`);
}

export function renderRepo(b: Backend, repo: Repo, withLinks = false): Record<string, unknown> {
  const p = projectOfRepo(b, repo);
  const web = `${b.orgUrl}/${encodeURIComponent(p.name)}/_git/${encodeURIComponent(repo.name)}`;
  const json: Record<string, unknown> = {
    id: repo.id,
    name: repo.name,
    url: repoApi(b, repo),
    project: b.projectRef(p),
    ...(repo.defaultBranch ? { defaultBranch: repo.defaultBranch } : {}),
    size: Object.values(repo.commits).reduce((n, c) => n + Object.values(c.tree).reduce((m, f) => m + f.length, 0), 0),
    remoteUrl: web.replace('://', `://${b.opts.org}@`),
    sshUrl: `git@ssh.dev.azure.com:v3/${b.opts.org}/${encodeURIComponent(p.name)}/${encodeURIComponent(repo.name)}`,
    webUrl: web,
    isDisabled: repo.isDisabled,
    isInMaintenance: false,
  };
  if (withLinks) {
    json['_links'] = {
      self: { href: repoApi(b, repo) },
      project: { href: `vstfs:///Classification/TeamProject/${p.id}` },
      web: { href: web },
      commits: { href: repoApi(b, repo, '/commits') },
      refs: { href: repoApi(b, repo, '/refs') },
      pullRequests: { href: repoApi(b, repo, '/pullRequests') },
      items: { href: repoApi(b, repo, '/items') },
      pushes: { href: repoApi(b, repo, '/pushes') },
    };
  }
  return json;
}

function renderCommitRef(b: Backend, repo: Repo, c: Commit): Record<string, unknown> {
  return {
    treeId: c.treeId,
    commitId: c.commitId,
    author: c.author,
    committer: c.committer,
    comment: c.comment,
    parents: c.parents,
    url: repoApi(b, repo, `/commits/${c.commitId}`),
  };
}

function renderPush(b: Backend, repo: Repo, pushId: number, withDetail: boolean): Record<string, unknown> {
  const push = repo.pushes.find((p) => p.pushId === pushId);
  if (!push) throw new ApiError(404, 'GitPushNotFoundException', `TF401180: The requested push ${pushId} could not be found.`);
  const url = repoApi(b, repo, `/pushes/${pushId}`);
  const first = push.refUpdates[0]?.name ?? '';
  return {
    ...(withDetail
      ? {
          commits: push.commitIds.map((id) => repo.commits[id]).filter((c): c is Commit => c !== undefined).map((c) => renderCommitRef(b, repo, c)),
          refUpdates: push.refUpdates.map((u) => ({ repositoryId: repo.id, ...u })),
          repository: renderRepo(b, repo),
        }
      : {}),
    pushedBy: b.identity(),
    pushId,
    date: push.date,
    url,
    _links: {
      self: { href: url },
      repository: { href: repoApi(b, repo) },
      commits: { href: `${url}/commits` },
      pusher: { href: b.api(`_apis/Identities/${b.world.user.id}`) },
      refs: { href: repoApi(b, repo, `/refs/${first}`) },
    },
  };
}

// ---------------------------------------------------------------- lookups

function repoNotFound(key: string): ApiError {
  return new ApiError(
    404,
    'GitRepositoryNotFoundException',
    `TF401019: The Git repository with name or identifier ${key} does not exist or you do not have permissions for the operation you are attempting.`,
  );
}

function requireRepo(b: Backend, r: Req): Repo {
  const key = r.params['repositoryId'] ?? '';
  const repo = b.world.findRepo(r.project?.id, key);
  if (!repo || b.world.projects.find((p) => p.id === repo.projectId)?.state !== 'wellFormed') throw repoNotFound(key);
  return repo;
}

export function normalizePath(path: string): string {
  const p = `/${path.replace(/\\/g, '/')}`.replace(/\/{2,}/g, '/');
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

// ---------------------------------------------------------------- repositories

function listRepos(b: Backend, r: Req): Res {
  const value = b.world.repos.filter(
    (x) => (!r.project || x.projectId === r.project.id) && b.world.projects.find((p) => p.id === x.projectId)?.state === 'wellFormed',
  );
  return list([...value].sort((x, y) => x.name.localeCompare(y.name)).map((x) => renderRepo(b, x)));
}

function getRepo(b: Backend, r: Req): Res {
  return ok(renderRepo(b, requireRepo(b, r), true));
}

const INVALID_REPO_NAME = /[\\/:*?"<>;#$*{},+=[\]|]|^\.|\.$|^_/;

function createRepoHandler(b: Backend, r: Req): Res {
  const body = bodyObject(r, 'gitRepositoryToCreate');
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: gitRepositoryToCreate.Name');
  if (INVALID_REPO_NAME.test(name) || name.length > 64) {
    throw new ApiError(400, 'InvalidGitRepositoryNameException', `TF401025: '${name}' is not a valid name. Names must not contain control characters or any of these characters: \\/:*?"<>;#$*{},+=[]| and must not begin or end with a period.`);
  }
  const bodyProject = str(obj(body['project'])?.['id']) ?? str(obj(body['project'])?.['name']);
  const project = r.project ?? (bodyProject ? b.requireProject(bodyProject) : undefined);
  if (!project) throw new ApiError(400, 'ArgumentException', 'A project is required to create a repository: pass it in the route or as project.id.');
  if (b.world.repos.some((x) => x.projectId === project.id && x.name.toLowerCase() === name.toLowerCase())) {
    throw new ApiError(409, 'GitRepositoryNameAlreadyExistsException', `TF400948: A Git repository with the name ${name} already exists.`);
  }
  const repo = b.createRepo(project.id, name);
  return ok(renderRepo(b, repo), 201);
}

function updateRepo(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const body = bodyObject(r, 'newRepositoryInfo');
  const name = str(body['name'])?.trim();
  if (name && name.toLowerCase() !== repo.name.toLowerCase()) {
    if (b.world.repos.some((x) => x.projectId === repo.projectId && x.name.toLowerCase() === name.toLowerCase())) {
      throw new ApiError(409, 'GitRepositoryNameAlreadyExistsException', `TF400948: A Git repository with the name ${name} already exists.`);
    }
    repo.name = name;
  }
  const defaultBranch = str(body['defaultBranch']);
  if (defaultBranch) {
    if (!repo.refs[defaultBranch]) throw new ApiError(400, 'GitRefNotFoundException', `TF401398: The branch ${defaultBranch} could not be found.`);
    repo.defaultBranch = defaultBranch;
  }
  if (typeof body['isDisabled'] === 'boolean') repo.isDisabled = body['isDisabled'];
  return ok(renderRepo(b, repo, true));
}

function deleteRepo(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  b.world.repos = b.world.repos.filter((x) => x !== repo);
  return noContent();
}

// ---------------------------------------------------------------- refs

function refUrl(b: Backend, repo: Repo, name: string): string {
  return repoApi(b, repo, `/refs?filter=${encodeURIComponent(name.replace(/^refs\//, ''))}`);
}

function listRefs(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const filter = r.query.get('filter')?.replace(/^refs\//, '');
  const contains = r.query.get('filterContains')?.toLowerCase();
  const value = Object.entries(repo.refs)
    .filter(([name]) => (!filter || name.slice(5).startsWith(filter)) && (!contains || name.toLowerCase().includes(contains)))
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([name, objectId]) => ({ name, objectId, creator: b.identity(), url: refUrl(b, repo, name) }));
  const top = r.query.int('$top');
  return list(top === undefined ? value : value.slice(0, top));
}

function updateRefs(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const value = bodyArray(r, 'refUpdates').map((x) => {
    const u = obj(x) ?? {};
    const name = str(u['name']) ?? '';
    const oldObjectId = str(u['oldObjectId']) ?? ZERO_ID;
    const newObjectId = str(u['newObjectId']) ?? ZERO_ID;
    const current = repo.refs[name] ?? ZERO_ID;
    let updateStatus = 'succeeded';
    if (!/^refs\/(heads|tags)\/[^\s~^:?*[\\]+$/.test(name)) updateStatus = 'invalidRefName';
    else if (current !== oldObjectId) updateStatus = 'staleOldObjectId';
    else if (newObjectId !== ZERO_ID && !repo.commits[newObjectId]) updateStatus = 'rejectedByPlugin';
    if (updateStatus === 'succeeded') {
      if (newObjectId === ZERO_ID) delete repo.refs[name];
      else repo.refs[name] = newObjectId;
      if (!repo.defaultBranch && newObjectId !== ZERO_ID && name.startsWith('refs/heads/')) repo.defaultBranch = name;
    }
    return { repositoryId: repo.id, name, oldObjectId, newObjectId, isLocked: false, updateStatus, success: updateStatus === 'succeeded', customMessage: null };
  });
  return list(value);
}

// ---------------------------------------------------------------- pushes

type ChangeKind = 'add' | 'edit' | 'delete' | 'rename';

function changeKind(v: unknown): ChangeKind | undefined {
  if (typeof v === 'number') return ({ 1: 'add', 2: 'edit', 16: 'delete', 8: 'rename' } as Record<number, ChangeKind>)[v];
  const s = str(v)?.toLowerCase();
  return s === 'add' || s === 'edit' || s === 'delete' || s === 'rename' ? s : undefined;
}

function contentBytes(newContent: Record<string, unknown> | undefined, path: string): Buffer {
  const content = newContent?.['content'];
  if (typeof content !== 'string') throw new ApiError(400, 'ArgumentException', `The parameters supplied are not valid: newContent.content is required for ${path}.`);
  const type = newContent?.['contentType'];
  const t = typeof type === 'number' ? (type === 1 ? 'base64encoded' : type === 0 ? 'rawtext' : '?') : (str(type) ?? 'rawtext').toLowerCase();
  if (t === 'rawtext') return Buffer.from(content, 'utf8');
  if (t === 'base64encoded') return Buffer.from(content, 'base64');
  throw new ApiError(400, 'ArgumentException', `The parameters supplied are not valid: contentType ${String(type)} of ${path} must be rawText or base64Encoded.`);
}

function applyChanges(tree: Record<string, Buffer>, changes: unknown[], base: string): Record<string, Buffer> {
  const next = { ...tree };
  const seen = new Set<string>();
  const exists = (p: string): boolean => next[p] !== undefined;
  const isFolder = (p: string): boolean => Object.keys(next).some((k) => k.startsWith(`${p}/`));
  const missing = (p: string): ApiError => new ApiError(400, 'ArgumentException', `The path '${p}' does not exist at commit '${base}'.`);
  for (const raw of changes) {
    const change = obj(raw) ?? {};
    const kind = changeKind(change['changeType']);
    const path = normalizePath(str(obj(change['item'])?.['path']) ?? '');
    if (!kind || path === '/') throw new ApiError(400, 'ArgumentException', 'The parameters supplied are not valid.');
    if (seen.has(path)) {
      throw new ApiError(400, 'ArgumentException', `Multiple operations were attempted on file '${path}' within the same request. Only a single operation may be applied to each file within the same commit.`);
    }
    seen.add(path);
    // A file standing where the path needs a folder.
    const parts = path.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      if (exists(prefix)) throw new ApiError(400, 'ArgumentException', `The path '${path}' treats the blob '${prefix}' as a tree.`);
    }
    const newContent = obj(change['newContent']);
    if (kind === 'add') {
      if (exists(path) || isFolder(path)) throw new ApiError(400, 'ArgumentException', `The path '${path}' specified in the add operation already exists. Please specify a new path.`);
      next[path] = contentBytes(newContent, path);
    } else if (kind === 'edit') {
      if (!exists(path)) throw missing(path);
      next[path] = contentBytes(newContent, path);
    } else if (kind === 'delete') {
      if (exists(path)) delete next[path];
      else if (isFolder(path)) for (const k of Object.keys(next)) if (k.startsWith(`${path}/`)) delete next[k];
      else throw missing(path);
    } else {
      const source = normalizePath(str(change['sourceServerItem']) ?? '');
      const data = next[source];
      if (data === undefined) throw missing(source);
      if (exists(path)) throw new ApiError(400, 'ArgumentException', `The rename target '${path}' already exists.`);
      delete next[source];
      next[path] = data;
    }
  }
  return next;
}

/** Applies a push body to a repo (also used by the seeding helper). Returns the push id. */
export function applyPush(b: Backend, repo: Repo, body: Record<string, unknown>): number {
  const refUpdates = body['refUpdates'];
  const commits = body['commits'];
  if (!Array.isArray(refUpdates) || refUpdates.length !== 1) throw new ApiError(400, 'ArgumentException', 'A push must contain exactly one ref update.');
  if (!Array.isArray(commits) || commits.length === 0) throw new ApiError(400, 'ArgumentException', 'A push must contain at least one commit.');
  const ru = obj(refUpdates[0]) ?? {};
  const name = str(ru['name']) ?? '';
  if (!/^refs\/heads\/[^\s~^:?*[\\]+$/.test(name) || name.endsWith('/') || name.includes('..')) {
    throw new ApiError(400, 'InvalidGitRefNameException', `TF401025: '${name}' is not a valid name for a Git ref. Use a full name like refs/heads/main.`);
  }
  const oldObjectId = (str(ru['oldObjectId']) ?? ZERO_ID).toLowerCase();
  const current = repo.refs[name];
  let parent: string | undefined;
  if (current !== undefined) {
    if (current !== oldObjectId) {
      throw new ApiError(409, 'GitReferenceStaleException', `TF401028: The reference '${name}' has already been updated by another client, so you cannot update it. Please try again.`);
    }
    parent = current;
  } else if (oldObjectId !== ZERO_ID) {
    if (!repo.commits[oldObjectId]) throw new ApiError(404, 'GitCommitDoesNotExistException', `TF401175: The commit ${oldObjectId} does not exist in repository ${repo.name}.`);
    parent = oldObjectId; // a new branch based on an existing commit
  }
  const pushId = repo.pushes.length + 1;
  const made: string[] = [];
  let tree: Record<string, Buffer> = parent ? { ...(repo.commits[parent]?.tree ?? {}) } : {};
  for (const raw of commits) {
    const c = obj(raw) ?? {};
    const comment = str(c['comment']);
    const changes = c['changes'];
    if (!comment || !Array.isArray(changes) || changes.length === 0) throw new ApiError(400, 'ArgumentException', 'The parameters supplied are not valid: every commit needs a comment and at least one change.');
    tree = applyChanges(tree, changes, parent ?? ZERO_ID);
    const commit = b.makeCommit(repo, parent, tree, comment, pushId);
    made.push(commit.commitId);
    parent = commit.commitId;
  }
  const newObjectId = parent ?? ZERO_ID;
  repo.refs[name] = newObjectId;
  if (!repo.defaultBranch) repo.defaultBranch = name;
  repo.pushes.push({ pushId, date: b.now(), commitIds: made, refUpdates: [{ name, oldObjectId: current ?? ZERO_ID, newObjectId }] });
  return pushId;
}

function createPush(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const pushId = applyPush(b, repo, bodyObject(r, 'push'));
  return ok(renderPush(b, repo, pushId, true), 201);
}

function getPush(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  return ok(renderPush(b, repo, Number(r.params['pushId']), r.query.bool('includeCommits') !== false));
}

function listPushes(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const refName = r.query.get('searchCriteria.refName');
  const value = [...repo.pushes]
    .reverse()
    .filter((p) => !refName || p.refUpdates.some((u) => u.name === refName))
    .map((p) => renderPush(b, repo, p.pushId, false));
  const skip = r.query.int('$skip') ?? 0;
  const top = r.query.int('$top') ?? 100;
  return list(value.slice(skip, skip + top));
}

// ---------------------------------------------------------------- items and commits

/** The commit a versionDescriptor (branch by default) resolves to. */
export function resolveVersion(repo: Repo, version: string | undefined, versionType: string | undefined): Commit {
  const t = (versionType ?? 'branch').toLowerCase();
  const kind = t === '2' || t === 'commit' ? 'commit' : t === '1' || t === 'tag' ? 'tag' : 'branch';
  let commitId: string | undefined;
  let label: string;
  if (kind === 'commit') {
    commitId = version;
    label = `<Commit: ${version ?? ''} >`;
  } else {
    const ref = version ? (version.startsWith('refs/') ? version : `refs/${kind === 'tag' ? 'tags' : 'heads'}/${version}`) : repo.defaultBranch;
    commitId = ref ? repo.refs[ref] : undefined;
    label = `<${kind === 'tag' ? 'Tag' : 'Branch'}: ${ref?.replace(/^refs\/(heads|tags)\//, '') ?? '(default)'} >`;
  }
  const commit = commitId ? repo.commits[commitId] : undefined;
  if (!commit) {
    throw new ApiError(404, 'GitUnresolvableToCommitException', `TF401175:The version descriptor ${label} could not be resolved to a version in the repository ${repo.name}`);
  }
  return commit;
}

/** git's blob id: sha1("blob <len>\0" + data). */
function blobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

function recursion(v: string | undefined): 'none' | 'one' | 'full' {
  const s = (v ?? 'none').toLowerCase();
  if (s === 'full' || s === '120') return 'full';
  if (s === 'onelevel' || s === '1' || s === 'onelevelplusnestedemptyfolders' || s === '4') return 'one';
  return 'none';
}

function itemJson(b: Backend, repo: Repo, commit: Commit, path: string, folder: boolean, includeContent: boolean, metadata: boolean): Record<string, unknown> {
  const data = commit.tree[path];
  const json: Record<string, unknown> = {
    objectId: folder ? b.sha1('tree', commit.commitId, path) : blobId(data ?? Buffer.alloc(0)),
    gitObjectType: folder ? 'tree' : 'blob',
    commitId: commit.commitId,
    path,
    ...(folder ? { isFolder: true } : {}),
    url: repoApi(b, repo, `/items?path=${encodeURIComponent(path)}&versionType=Commit&version=${commit.commitId}`),
  };
  if (!folder && metadata) {
    const fileName = path.split('/').pop() ?? '';
    json['contentMetadata'] = { encoding: 65001, contentType: 'text/plain', fileName, extension: fileName.includes('.') ? `.${fileName.split('.').pop()}` : '' };
  }
  if (!folder && includeContent && data) json['content'] = data.toString('utf8');
  return json;
}

function getItems(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const commit = resolveVersion(repo, r.query.get('versionDescriptor.version') ?? r.query.get('version'), r.query.get('versionDescriptor.versionType') ?? r.query.get('versionType'));
  const pathParam = r.query.get('path');
  const scope = normalizePath(pathParam ?? r.query.get('scopePath') ?? '/');
  const level = recursion(r.query.get('recursionLevel'));
  const isFile = commit.tree[scope] !== undefined;
  const isFolder = scope === '/' || Object.keys(commit.tree).some((k) => k.startsWith(`${scope}/`));
  if (!isFile && !isFolder) {
    throw new ApiError(
      404,
      'GitItemNotFoundException',
      `TF401174: The item '${scope}' could not be found in the repository '${repo.name}' at the version specified by '<Commit: ${commit.commitId} >' (resolved to commit '${commit.commitId}').`,
    );
  }
  const format = r.query.get('$format')?.toLowerCase();
  const accept = r.accept.toLowerCase();
  const wantsRaw = format === 'octetstream' || format === 'text' || (format === undefined && (accept.startsWith('application/octet-stream') || accept.startsWith('text/plain')));
  if (format === 'zip' || accept.startsWith('application/zip') || (wantsRaw && !isFile)) {
    throw new ApiError(501, 'FakeNotImplemented', 'Fake Azure DevOps: zip downloads of git items are not implemented.');
  }
  if (wantsRaw && pathParam !== undefined) {
    const data = commit.tree[scope] ?? Buffer.alloc(0);
    const headers: Record<string, string> = {};
    if (r.query.bool('download')) headers['Content-Disposition'] = `attachment; filename="${scope.split('/').pop() ?? 'file'}"`;
    return { status: 200, raw: data, contentType: format === 'text' || accept.startsWith('text/plain') ? 'text/plain; charset=utf-8' : 'application/octet-stream', headers };
  }
  const includeContent = r.query.bool('includeContent') ?? false;
  const metadata = r.query.bool('includeContentMetadata') ?? false;
  if (pathParam !== undefined && level === 'none') {
    return ok(itemJson(b, repo, commit, scope, !isFile, includeContent, metadata));
  }
  // A collection: the scope itself, then what is below it.
  const items: Record<string, unknown>[] = [];
  if (isFile) {
    items.push(itemJson(b, repo, commit, scope, false, includeContent, metadata));
    return list(items);
  }
  const prefix = scope === '/' ? '/' : `${scope}/`;
  const below = new Map<string, boolean>(); // path -> isFolder
  for (const file of Object.keys(commit.tree)) {
    if (!file.startsWith(prefix)) continue;
    const parts = file.slice(prefix.length).split('/');
    const depth = level === 'full' ? parts.length : level === 'one' ? 1 : 0;
    for (let i = 1; i <= Math.min(depth, parts.length); i++) {
      const p = prefix + parts.slice(0, i).join('/');
      below.set(p, i < parts.length);
    }
  }
  items.push(itemJson(b, repo, commit, scope, true, false, false));
  for (const [p, folder] of [...below.entries()].sort(([x], [y]) => x.localeCompare(y))) {
    items.push(itemJson(b, repo, commit, p, folder, includeContent && !folder, metadata));
  }
  return list(items);
}

function renderCommitFull(b: Backend, repo: Repo, c: Commit): Record<string, unknown> {
  const parentTree = c.parents[0] ? repo.commits[c.parents[0]]?.tree ?? {} : {};
  let Add = 0;
  let Edit = 0;
  let Delete = 0;
  for (const [k, v] of Object.entries(c.tree)) {
    const before = parentTree[k];
    if (before === undefined) Add += 1;
    else if (!before.equals(v)) Edit += 1;
  }
  for (const k of Object.keys(parentTree)) if (c.tree[k] === undefined) Delete += 1;
  return {
    ...renderCommitRef(b, repo, c),
    changeCounts: { Add, Edit, Delete },
    remoteUrl: `${renderRepo(b, repo)['webUrl'] as string}/commit/${c.commitId}`,
  };
}

function listCommits(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const version = r.query.get('searchCriteria.itemVersion.version');
  const versionType = r.query.get('searchCriteria.itemVersion.versionType');
  if (!version && !repo.defaultBranch) return list([]);
  let commit: Commit | undefined = resolveVersion(repo, version, versionType);
  const top = r.query.int('searchCriteria.$top') ?? r.query.int('$top') ?? 100;
  const out: Record<string, unknown>[] = [];
  while (commit && out.length < top) {
    out.push(renderCommitFull(b, repo, commit));
    commit = commit.parents[0] ? repo.commits[commit.parents[0]] : undefined;
  }
  return list(out);
}

function getCommit(b: Backend, r: Req): Res {
  const repo = requireRepo(b, r);
  const id = (r.params['commitId'] ?? '').toLowerCase();
  const c = repo.commits[id];
  if (!c) throw new ApiError(404, 'GitCommitDoesNotExistException', `TF401175: The commit ${id} does not exist in repository ${repo.name}.`);
  const push = repo.pushes.find((p) => p.pushId === c.pushId);
  return ok({ ...renderCommitFull(b, repo, c), push: push ? { pushedBy: b.identity(), pushId: push.pushId, date: push.date } : undefined });
}

export const gitRoutes: Route[] = [
  { scope: 'any', method: 'GET', pattern: 'git/repositories', location: REPOS, handler: listRepos },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId', location: REPOS, handler: getRepo },
  { scope: 'any', method: 'POST', pattern: 'git/repositories', location: REPOS, handler: createRepoHandler },
  { scope: 'any', method: 'PATCH', pattern: 'git/repositories/:repositoryId', location: REPOS, handler: updateRepo },
  { scope: 'any', method: 'DELETE', pattern: 'git/repositories/:repositoryId', location: REPOS, handler: deleteRepo },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/refs', location: REFS, handler: listRefs },
  { scope: 'any', method: 'POST', pattern: 'git/repositories/:repositoryId/refs', location: REFS, handler: updateRefs },
  { scope: 'any', method: 'POST', pattern: 'git/repositories/:repositoryId/pushes', location: PUSHES, handler: createPush },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/pushes', location: PUSHES, handler: listPushes },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/pushes/:pushId', location: PUSHES, handler: getPush },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/items', location: ITEMS, handler: getItems },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/commits', location: COMMITS, handler: listCommits },
  { scope: 'any', method: 'GET', pattern: 'git/repositories/:repositoryId/commits/:commitId', location: COMMITS, handler: getCommit },
];
