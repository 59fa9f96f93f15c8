// git: repositories, refs, pushes, items, via the real GitApi.
import {
  GitVersionType,
  ItemContentType,
  VersionControlChangeType,
  VersionControlRecursionType,
  type GitPush,
} from 'azure-devops-node-api/interfaces/GitInterfaces.js';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection, startFake, type Harness } from './helpers.js';

const ZERO = '0000000000000000000000000000000000000000';

let h: Harness | undefined;
afterEach(async () => {
  await h?.fake.stop();
  h = undefined;
});

async function readStream(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function firstPush(files: Record<string, string>, branch = 'refs/heads/main', oldObjectId = ZERO): GitPush {
  return {
    refUpdates: [{ name: branch, oldObjectId }],
    commits: [
      {
        comment: 'Initial commit by azure-mlops',
        changes: Object.entries(files).map(([path, content]) => ({
          changeType: VersionControlChangeType.Add,
          item: { path },
          newContent: { content: Buffer.from(content).toString('base64'), contentType: ItemContentType.Base64Encoded },
        })),
      },
    ],
  };
}

describe('repositories', () => {
  it('create (201), find by name or id, duplicate 409 TF400948, missing -> null, delete', async () => {
    h = await startFake();
    const p = h.fake.addProject('mlops');
    const git = await h.api.getGitApi();
    // a new project has its default repository
    expect((await git.getRepositories('mlops')).map((r) => r.name)).toEqual(['mlops']);
    const repo = await git.createRepository({ name: 'mlops-code', project: { id: p.id } }, 'mlops');
    expect(h.fake.requests.at(-1)?.status).toBe(201);
    expect(repo).toMatchObject({ name: 'mlops-code', project: { id: p.id, name: 'mlops' }, isDisabled: false });
    expect(repo.defaultBranch).toBeUndefined();
    expect(repo.remoteUrl).toBe(`${h.fake.orgUrl.replace('://', '://contoso@')}/mlops/_git/mlops-code`);
    expect((await git.getRepository('MLOPS-CODE', 'mlops')).id).toBe(repo.id);
    expect((await git.getRepository(repo.id ?? '')).name).toBe('mlops-code'); // by id, org route
    const dup = await rejection(git.createRepository({ name: 'mlops-code' }, 'mlops'));
    expect(dup.statusCode).toBe(409);
    expect(dup.message).toBe('TF400948: A Git repository with the name mlops-code already exists.');
    expect(await git.getRepository('nope', 'mlops')).toBeNull();
    // an empty repository has no refs
    expect(await git.getRefs(repo.id ?? '', 'mlops')).toEqual([]);
    await git.deleteRepository(repo.id ?? '', 'mlops');
    expect(await git.getRepository('mlops-code', 'mlops')).toBeNull();
  });
});

describe('pushes and items', () => {
  it('push the first commit (oldObjectId zeros), then read every file back', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    const git = await h.api.getGitApi();
    const repo = await git.createRepository({ name: 'code' }, 'mlops');
    const files = {
      '/devops_pipelines/azdo-ci-build-train.yml': 'trigger: none\nsteps:\n  - script: echo hi\n',
      '/templates/src/train.py': 'print("train")\n',
      '/README.md': '# MLOps\n',
    };
    const push = await git.createPush(firstPush(files), repo.id ?? '', 'mlops');
    expect(h.fake.requests.at(-1)).toMatchObject({ method: 'POST', status: 201, apiVersion: '7.1-preview.3' });
    expect(push.pushId).toBe(1);
    const newObjectId = push.refUpdates?.[0]?.newObjectId ?? '';
    expect(push.refUpdates?.[0]).toMatchObject({ name: 'refs/heads/main', oldObjectId: ZERO });
    expect(push.commits?.[0]).toMatchObject({ commitId: newObjectId, comment: 'Initial commit by azure-mlops', parents: [] });
    // the fake's view of the tree
    expect(h.fake.files('mlops', 'code')).toEqual(files);
    // the repo now has a default branch and one ref
    expect((await git.getRepository('code', 'mlops')).defaultBranch).toBe('refs/heads/main');
    const refs = await git.getRefs('code', 'mlops', 'heads/');
    expect(refs.map((r) => [r.name, r.objectId])).toEqual([['refs/heads/main', newObjectId]]);
    // read back one file as text, as JSON with content, and list the tree
    const text = await readStream(await git.getItemText('code', '/templates/src/train.py', 'mlops'));
    expect(text).toBe('print("train")\n');
    const item = await git.getItem('code', '/README.md', 'mlops', undefined, undefined, false, false, false, { version: 'main', versionType: GitVersionType.Branch }, true);
    expect(item).toMatchObject({ path: '/README.md', content: '# MLOps\n', commitId: newObjectId });
    const tree = await git.getItems('code', 'mlops', '/', VersionControlRecursionType.Full);
    expect(tree.filter((i) => !i.isFolder).map((i) => i.path)).toEqual(['/devops_pipelines/azdo-ci-build-train.yml', '/README.md', '/templates/src/train.py']);
    expect(tree.filter((i) => i.isFolder).map((i) => i.path)).toEqual(['/', '/devops_pipelines', '/templates', '/templates/src']);
    // a missing path: null as JSON, a 404 message for the stream flavours
    expect(await git.getItem('code', '/nope.txt', 'mlops')).toBeNull();
    const missing = await git.getItemContent('code', '/nope.txt', 'mlops');
    expect((missing as unknown as { statusCode: number }).statusCode).toBe(404);
  });

  it('a stale oldObjectId is 409 GitReferenceStaleException (TF401028); add of an existing path / edit of a missing one are 400', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    h.fake.addRepo('mlops', 'code', { '/a.txt': 'one' });
    const git = await h.api.getGitApi();
    const head = h.fake.world.repos.find((r) => r.name === 'code')?.refs['refs/heads/main'] ?? '';
    const stale = await rejection(git.createPush(firstPush({ '/b.txt': 'two' }), 'code', 'mlops'));
    expect(stale.statusCode).toBe(409);
    expect(stale.result?.typeKey).toBe('GitReferenceStaleException');
    expect(stale.message).toMatch(/^TF401028: The reference 'refs\/heads\/main' has already been updated by another client/);
    const addExisting = await rejection(git.createPush(firstPush({ '/a.txt': 'again' }, 'refs/heads/main', head), 'code', 'mlops'));
    expect(addExisting.statusCode).toBe(400);
    expect(addExisting.message).toBe("The path '/a.txt' specified in the add operation already exists. Please specify a new path.");
    const editMissing = await rejection(
      git.createPush(
        { refUpdates: [{ name: 'refs/heads/main', oldObjectId: head }], commits: [{ comment: 'edit', changes: [{ changeType: VersionControlChangeType.Edit, item: { path: '/zzz.txt' }, newContent: { content: 'x', contentType: ItemContentType.RawText } }] }] },
        'code',
        'mlops',
      ),
    );
    expect(editMissing.statusCode).toBe(400);
    // string enums work as well; an edit on the right head makes a second commit
    const edit = await git.createPush(
      { refUpdates: [{ name: 'refs/heads/main', oldObjectId: head }], commits: [{ comment: 'edit', changes: [{ changeType: 'edit' as never, item: { path: '/a.txt' }, newContent: { content: 'ONE', contentType: 'rawtext' as never } }] }] },
      'code',
      'mlops',
    );
    expect(edit.commits?.[0]?.parents).toEqual([head]);
    expect(h.fake.readFile('mlops', 'code', '/a.txt')).toBe('ONE');
    const history = await git.getCommits('code', { itemVersion: { version: 'main' } }, 'mlops');
    expect(history.map((c) => c.comment)).toEqual(['edit', 'Seeded by FakeDevOps']);
    expect(h.fake.world.repos.find((r) => r.name === 'code')?.pushes).toHaveLength(2);
  });

  it('a new branch from zeros starts empty; branches keep their own trees', async () => {
    h = await startFake();
    h.fake.addProject('mlops');
    h.fake.addRepo('mlops', 'code', { '/main.txt': 'main' });
    const git = await h.api.getGitApi();
    await git.createPush(firstPush({ '/feature.txt': 'f' }, 'refs/heads/feature'), 'code', 'mlops');
    expect(h.fake.files('mlops', 'code', 'feature')).toEqual({ '/feature.txt': 'f' });
    expect(h.fake.files('mlops', 'code')).toEqual({ '/main.txt': 'main' });
    expect((await git.getRefs('code', 'mlops', 'heads/')).map((r) => r.name)).toEqual(['refs/heads/feature', 'refs/heads/main']);
  });
});
