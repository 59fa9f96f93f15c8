// distributedtask: agent pools, agents, queues, variable groups, agent packages.
// Shapes: distributedTask/7.1/taskAgent.json (TaskAgentPool, TaskAgent, TaskAgentQueue, VariableGroup)
// and distributedTask/7.1/httpExamples/variablegroups/*.json.
import { ApiError, bodyObject, list, noContent, obj, ok, str, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { Agent, Pool, ProjectReferenceRef, Queue, VariableGroup, VariableValue } from '../types.js';

const POOLS = 'a8c47e17-4d56-4a56-92bb-de7ea7dc65be';
const AGENTS = 'e298ef32-5878-4cab-993c-043836571f42';
const QUEUES = '900fa995-c559-4923-aae7-f8424fe4fbea';
const VG_PROJECT = 'f5b09dd5-9d54-45a1-8b5a-1c8287d634cc';
const VG_ORG = 'ef5b7057-ffc3-4c77-bbad-c10b4a4abcc7';
const PACKAGES = '8ffcd551-079c-493a-9c02-54346299d144';

/**
 * `Test*` style filter of the service (case-insensitive, `*` wildcard): the spec's example
 * distributedTask/7.1/httpExamples/variablegroups/GET_VariableGroupsByGroupName.json asks
 * `groupName=Test*` and gets TestVariableGroup1 and TestVariableGroup2. A name without `*` matches
 * the whole name only (not a prefix).
 */
export function nameFilter(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return (name) => re.test(name);
}

// ---------------------------------------------------------------- pools

export function renderPoolRef(b: Backend, pool: Pool): Record<string, unknown> {
  return {
    id: pool.id,
    scope: pool.scope,
    name: pool.name,
    isHosted: pool.isHosted,
    poolType: pool.poolType,
    size: b.world.agents.filter((a) => a.poolId === pool.id).length,
    isLegacy: false,
    options: 'none',
  };
}

function renderPool(b: Backend, pool: Pool): Record<string, unknown> {
  return {
    createdOn: pool.createdOn,
    autoProvision: pool.autoProvision,
    autoUpdate: pool.autoUpdate,
    autoSize: pool.autoSize,
    targetSize: null,
    agentCloudId: null,
    createdBy: b.identity(),
    owner: b.identity(),
    ...renderPoolRef(b, pool),
  };
}

function poolNotFound(id: string | number): ApiError {
  return new ApiError(404, 'TaskAgentPoolNotFoundException', `Agent pool ${id} not found.`);
}

function requirePool(b: Backend, id: string | undefined): Pool {
  const n = Number(id);
  const pool = Number.isInteger(n) ? b.world.findPool(n) : undefined;
  if (!pool) throw poolNotFound(id ?? '');
  return pool;
}

function listPools(b: Backend, r: Req): Res {
  const match = nameFilter(r.query.get('poolName'));
  const type = r.query.get('poolType')?.toLowerCase();
  const ids = r.query.list('poolIds')?.map(Number);
  const value = b.world.pools.filter(
    (p) => match(p.name) && (!type || p.poolType === type) && (!ids || ids.includes(p.id)),
  );
  return list(value.map((p) => renderPool(b, p)));
}

function getPool(b: Backend, r: Req): Res {
  return ok(renderPool(b, requirePool(b, r.params['poolId'])));
}

function addPool(b: Backend, r: Req): Res {
  const body = bodyObject(r, 'pool');
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentException', 'The pool name is required.\r\nParameter name: pool.Name');
  if (b.world.findPool(name)) throw new ApiError(409, 'TaskAgentPoolExistsException', `Agent pool ${name} already exists.`);
  const poolType = str(body['poolType'])?.toLowerCase() === 'deployment' ? 'deployment' : 'automation';
  const pool = b.newPool(name, {
    poolType,
    autoProvision: body['autoProvision'] === true,
    autoUpdate: body['autoUpdate'] !== false,
    autoSize: body['autoSize'] !== false,
  });
  return ok(renderPool(b, pool));
}

function updatePool(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  const body = bodyObject(r, 'pool');
  const name = str(body['name'])?.trim();
  if (name && name.toLowerCase() !== pool.name.toLowerCase()) {
    if (b.world.findPool(name)) throw new ApiError(409, 'TaskAgentPoolExistsException', `Agent pool ${name} already exists.`);
    pool.name = name;
  }
  if (typeof body['autoProvision'] === 'boolean') pool.autoProvision = body['autoProvision'];
  if (typeof body['autoUpdate'] === 'boolean') pool.autoUpdate = body['autoUpdate'];
  return ok(renderPool(b, pool));
}

function deletePool(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  if (pool.isHosted) throw new ApiError(400, 'InvalidOperationException', `The pool ${pool.name} is a hosted pool and cannot be deleted.`);
  const w = b.world;
  const queueIds = new Set(w.queues.filter((q) => q.poolId === pool.id).map((q) => String(q.id)));
  w.pools = w.pools.filter((p) => p !== pool);
  w.agents = w.agents.filter((a) => a.poolId !== pool.id);
  w.queues = w.queues.filter((q) => q.poolId !== pool.id);
  w.permissions = w.permissions.filter((p) => !(p.resourceType === 'queue' && queueIds.has(p.resourceId)));
  return noContent();
}

// ---------------------------------------------------------------- agents

function renderAgent(b: Backend, a: Agent): Record<string, unknown> {
  return {
    _links: {
      self: { href: b.api(`_apis/distributedtask/Pools/${a.poolId}/Agents/${a.id}`) },
      web: { href: b.api(`_settings/agentpools?poolId=${a.poolId}&agentId=${a.id}`) },
    },
    maxParallelism: 1,
    createdOn: a.createdOn,
    statusChangedOn: a.statusChangedOn,
    authorization: { clientId: b.sha1('agent', String(a.id)).slice(0, 8) + '-0000-4000-8000-000000000000', publicKey: { exponent: 'AQAB', modulus: 'fake' } },
    id: a.id,
    name: a.name,
    version: a.version,
    osDescription: a.osDescription,
    enabled: a.enabled,
    status: a.status,
    provisioningState: 'Provisioned',
    accessPoint: 'CodexAccessMapping',
  };
}

function requireAgent(b: Backend, pool: Pool, id: string | undefined): Agent {
  const agent = b.world.agents.find((a) => a.poolId === pool.id && String(a.id) === id);
  if (!agent) throw new ApiError(404, 'TaskAgentNotFoundException', `No agent found in pool ${pool.id} with ID ${id}.`);
  return agent;
}

function listAgents(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  const name = r.query.get('agentName')?.toLowerCase();
  return list(b.world.agents.filter((a) => a.poolId === pool.id && (!name || a.name.toLowerCase() === name)).map((a) => renderAgent(b, a)));
}

function getAgent(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  return ok(renderAgent(b, requireAgent(b, pool, r.params['agentId'])));
}

function updateAgent(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  const agent = requireAgent(b, pool, r.params['agentId']);
  const body = bodyObject(r, 'agent');
  if (typeof body['enabled'] === 'boolean') agent.enabled = body['enabled'];
  return ok(renderAgent(b, agent));
}

function deleteAgent(b: Backend, r: Req): Res {
  const pool = requirePool(b, r.params['poolId']);
  const agent = requireAgent(b, pool, r.params['agentId']);
  b.world.agents = b.world.agents.filter((a) => a !== agent);
  return noContent();
}

// ---------------------------------------------------------------- queues

function renderQueue(b: Backend, q: Queue): Record<string, unknown> {
  const pool = b.world.findPool(q.poolId);
  return { id: q.id, projectId: q.projectId, name: q.name, pool: pool ? renderPoolRef(b, pool) : null };
}

function listQueues(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const name = r.query.get('queueName');
  const names = r.query.list('queueNames')?.map((s) => s.toLowerCase());
  const ids = r.query.list('queueIds')?.map(Number);
  const poolIds = r.query.list('poolIds')?.map(Number);
  const match = nameFilter(name);
  const value = b.world.queues.filter(
    (q) =>
      q.projectId === p.id &&
      match(q.name) &&
      (!names || names.includes(q.name.toLowerCase())) &&
      (!ids || ids.includes(q.id)) &&
      (!poolIds || poolIds.includes(q.poolId)),
  );
  return list(value.map((q) => renderQueue(b, q)));
}

function getQueue(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const q = b.world.queues.find((x) => x.projectId === p.id && String(x.id) === r.params['queueId']);
  if (!q) throw new ApiError(404, 'TaskAgentQueueNotFoundException', `Queue with ID ${r.params['queueId']} does not exist or you do not have permissions to access it.`);
  return ok(renderQueue(b, q));
}

function addQueue(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const body = bodyObject(r, 'queue');
  const poolId = Number(obj(body['pool'])?.['id']);
  if (!Number.isInteger(poolId) || poolId <= 0) throw new ApiError(400, 'ArgumentException', 'A pool id is required to create a queue.\r\nParameter name: queue.Pool');
  const pool = b.world.findPool(poolId);
  if (!pool) throw poolNotFound(poolId);
  const name = str(body['name'])?.trim() || pool.name;
  const clash = b.world.queues.find((q) => q.projectId === p.id && (q.name.toLowerCase() === name.toLowerCase() || q.poolId === pool.id));
  if (clash) throw new ApiError(409, 'TaskAgentQueueExistsException', `A queue with the name ${clash.name} already exists in project ${p.name}.`);
  const q = b.ensureQueue(p.id, pool, name);
  if (r.query.bool('authorizePipelines')) b.authorize(p.id, 'queue', String(q.id), 'all');
  return ok(renderQueue(b, q));
}

function deleteQueue(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const q = b.world.queues.find((x) => x.projectId === p.id && String(x.id) === r.params['queueId']);
  if (!q) throw new ApiError(404, 'TaskAgentQueueNotFoundException', `Queue with ID ${r.params['queueId']} does not exist or you do not have permissions to access it.`);
  b.world.queues = b.world.queues.filter((x) => x !== q);
  b.world.permissions = b.world.permissions.filter((x) => !(x.projectId === p.id && x.resourceType === 'queue' && x.resourceId === String(q.id)));
  return noContent();
}

// ---------------------------------------------------------------- variable groups

function shortIdentity(b: Backend): Record<string, unknown> {
  const u = b.world.user;
  return { displayName: u.displayName, id: u.id, uniqueName: u.uniqueName };
}

export function renderVariableGroup(b: Backend, g: VariableGroup): Record<string, unknown> {
  const variables: Record<string, VariableValue> = {};
  for (const [k, v] of Object.entries(g.variables)) {
    variables[k] = v.isSecret ? { value: null, isSecret: true, ...(v.isReadOnly ? { isReadOnly: true } : {}) } : { value: v.value, ...(v.isReadOnly ? { isReadOnly: true } : {}) };
  }
  return {
    variables,
    id: g.id,
    type: g.type,
    name: g.name,
    description: g.description,
    ...(g.providerData !== undefined ? { providerData: g.providerData } : {}),
    createdBy: shortIdentity(b),
    createdOn: g.createdOn,
    modifiedBy: shortIdentity(b),
    modifiedOn: g.modifiedOn,
    isShared: g.variableGroupProjectReferences.length > 1,
    variableGroupProjectReferences: g.variableGroupProjectReferences,
  };
}

/** The references of a POST/PUT body, resolved to existing projects; 400 when absent (live-verified wording). */
function projectReferences(b: Backend, body: Record<string, unknown>, groupName: string, description: string): ProjectReferenceRef[] {
  const raw = body['variableGroupProjectReferences'];
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ApiError(400, 'ArgumentException', 'Atleast one variable group project reference is required');
  }
  return raw.map((x) => b.projectReference(x, groupName, description));
}

interface IncomingVariable {
  /** undefined when the key was absent (a secret sent back without its value). */
  value: string | null | undefined;
  isSecret?: boolean;
  isReadOnly?: boolean;
}

function parseVariables(body: Record<string, unknown>): Record<string, IncomingVariable> {
  const raw = obj(body['variables']);
  if (!raw || Object.keys(raw).length === 0) throw new ApiError(400, 'ArgumentException', 'Variable group must have at least one variable defined.');
  const out: Record<string, IncomingVariable> = {};
  for (const [k, v] of Object.entries(raw)) {
    const val = obj(v);
    if (!val) throw new ApiError(400, 'ArgumentException', `The value of variable '${k}' must be an object like {"value": "...", "isSecret": false}.`);
    const value = val['value'];
    out[k] = {
      value: value === undefined ? undefined : value === null ? null : String(value),
      ...(val['isSecret'] === true ? { isSecret: true } : {}),
      ...(val['isReadOnly'] === true ? { isReadOnly: true } : {}),
    };
  }
  return out;
}

function stored(v: IncomingVariable, value: string | null): VariableValue {
  return { value, ...(v.isSecret ? { isSecret: true } : {}), ...(v.isReadOnly ? { isReadOnly: true } : {}) };
}

function nameTaken(b: Backend, name: string, refs: ProjectReferenceRef[], except?: number): boolean {
  const projects = new Set(refs.map((r) => r.projectReference.id));
  return b.world.variableGroups.some(
    (g) => g.id !== except && g.name.toLowerCase() === name.toLowerCase() && g.variableGroupProjectReferences.some((r) => projects.has(r.projectReference.id)),
  );
}

function listVariableGroups(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const match = nameFilter(r.query.get('groupName'));
  const ids = r.query.list('groupIds')?.map(Number);
  let value = b.world.variableGroupsOf(p.id).filter((g) => match(g.name) && (!ids || ids.includes(g.id)));
  const asc = r.query.get('queryOrder')?.toLowerCase() === 'idascending' || ids !== undefined;
  value = [...value].sort((x, y) => (asc ? x.id - y.id : y.id - x.id));
  const top = r.query.int('$top');
  if (top !== undefined) value = value.slice(0, top);
  return list(value.map((g) => renderVariableGroup(b, g)));
}

function getVariableGroup(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const g = b.world.variableGroupsOf(p.id).find((x) => String(x.id) === r.params['groupId']);
  // Live-verified: an unknown id (or one of another project) answers 200 with a null body.
  return ok(g ? renderVariableGroup(b, g) : null);
}

function addVariableGroup(b: Backend, r: Req): Res {
  const body = bodyObject(r, 'variableGroupParameters');
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentException', 'Variable group name cannot be empty.\r\nParameter name: variableGroupParameters.Name');
  const description = str(body['description']) ?? '';
  const refs = projectReferences(b, body, name, description);
  const variables: Record<string, VariableValue> = {};
  for (const [k, v] of Object.entries(parseVariables(body))) variables[k] = stored(v, v.value ?? null);
  if (nameTaken(b, name, refs)) throw new ApiError(409, 'VariableGroupExistsException', `Variable group with name ${name} already exists.`);
  const now = b.now();
  const g: VariableGroup = {
    id: b.next('variableGroup'),
    name,
    description,
    type: str(body['type']) ?? 'Vsts',
    variables,
    variableGroupProjectReferences: refs,
    providerData: body['providerData'] ?? undefined,
    createdBy: b.world.user,
    createdOn: now,
    modifiedBy: b.world.user,
    modifiedOn: now,
  };
  b.world.variableGroups.push(g);
  return ok(renderVariableGroup(b, g));
}

function updateVariableGroup(b: Backend, r: Req): Res {
  const id = Number(r.params['groupId']);
  const g = b.world.variableGroups.find((x) => x.id === id);
  if (!g) throw new ApiError(404, 'VariableGroupNotFoundException', `Variable group with id ${r.params['groupId']} does not exist or you do not have permissions to access it.`);
  const body = bodyObject(r, 'variableGroupParameters');
  const name = str(body['name'])?.trim() || g.name;
  const description = str(body['description']) ?? '';
  const refs = projectReferences(b, body, name, description);
  const incoming = parseVariables(body);
  if (nameTaken(b, name, refs, g.id)) throw new ApiError(409, 'VariableGroupExistsException', `Variable group with name ${name} already exists.`);
  const old = new Map(Object.entries(g.variables).map(([k, v]) => [k.toLowerCase(), v]));
  const merged: Record<string, VariableValue> = {};
  for (const [k, v] of Object.entries(incoming)) {
    const prev = old.get(k.toLowerCase());
    const value = v.value;
    if (v.isSecret && (value === undefined || value === null || value === '') && prev !== undefined) {
      // A secret sent back without a value (or with '') keeps the stored one (live-verified);
      // this also covers promoting a plain variable to secret without resending it.
      merged[k] = stored(v, prev.value);
    } else {
      // Demoting a secret without a value empties it (live-verified).
      merged[k] = stored(v, value ?? null);
    }
  }
  g.name = name;
  g.description = description;
  g.type = str(body['type']) ?? g.type;
  g.variables = merged;
  g.variableGroupProjectReferences = refs;
  if (body['providerData'] !== undefined) g.providerData = body['providerData'];
  g.modifiedOn = b.now();
  return ok(renderVariableGroup(b, g));
}

function deleteVariableGroup(b: Backend, r: Req): Res {
  const id = Number(r.params['groupId']);
  const g = b.world.variableGroups.find((x) => x.id === id);
  if (!g) throw new ApiError(404, 'VariableGroupNotFoundException', `Variable group with id ${r.params['groupId']} does not exist or you do not have permissions to access it.`);
  const projectIds = r.query.list('projectIds');
  if (!projectIds || projectIds.length === 0) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: projectIds');
  const drop = new Set(projectIds.map((x) => b.world.findProject(x)?.id ?? x.toLowerCase()));
  g.variableGroupProjectReferences = g.variableGroupProjectReferences.filter((ref) => !drop.has(ref.projectReference.id));
  if (g.variableGroupProjectReferences.length === 0) {
    b.world.variableGroups = b.world.variableGroups.filter((x) => x !== g);
    b.world.permissions = b.world.permissions.filter((p) => !(p.resourceType === 'variablegroup' && p.resourceId === String(g.id)));
  }
  return noContent();
}

// ---------------------------------------------------------------- agent packages

function listPackages(b: Backend, r: Req): Res {
  const type = (r.params['packageType'] ?? 'agent').toLowerCase();
  const platform = (r.params['platform'] ?? r.query.get('platform'))?.toLowerCase();
  const version = r.params['version'];
  let value = b.world.agentPackages.filter(
    (p) =>
      p.type === type &&
      (!platform || p.platform === platform) &&
      (!version || `${p.version.major}.${p.version.minor}.${p.version.patch}` === version),
  );
  value = [...value].sort(
    (x, y) => y.version.major - x.version.major || y.version.minor - x.version.minor || y.version.patch - x.version.patch,
  );
  const top = r.query.int('$top');
  if (top !== undefined) value = value.slice(0, top);
  return list(value);
}

export const taskAgentRoutes: Route[] = [
  { scope: 'org', method: 'GET', pattern: 'distributedtask/pools', location: POOLS, handler: listPools },
  { scope: 'org', method: 'GET', pattern: 'distributedtask/pools/:poolId', location: POOLS, handler: getPool },
  { scope: 'org', method: 'POST', pattern: 'distributedtask/pools', location: POOLS, handler: addPool },
  { scope: 'org', method: 'PATCH', pattern: 'distributedtask/pools/:poolId', location: POOLS, handler: updatePool },
  { scope: 'org', method: 'DELETE', pattern: 'distributedtask/pools/:poolId', location: POOLS, handler: deletePool },
  { scope: 'org', method: 'GET', pattern: 'distributedtask/pools/:poolId/agents', location: AGENTS, handler: listAgents },
  { scope: 'org', method: 'GET', pattern: 'distributedtask/pools/:poolId/agents/:agentId', location: AGENTS, handler: getAgent },
  { scope: 'org', method: 'PATCH', pattern: 'distributedtask/pools/:poolId/agents/:agentId', location: AGENTS, handler: updateAgent },
  { scope: 'org', method: 'DELETE', pattern: 'distributedtask/pools/:poolId/agents/:agentId', location: AGENTS, handler: deleteAgent },
  { scope: 'project', method: 'GET', pattern: 'distributedtask/queues', location: QUEUES, handler: listQueues },
  { scope: 'project', method: 'GET', pattern: 'distributedtask/queues/:queueId', location: QUEUES, handler: getQueue },
  { scope: 'project', method: 'POST', pattern: 'distributedtask/queues', location: QUEUES, handler: addQueue },
  { scope: 'project', method: 'DELETE', pattern: 'distributedtask/queues/:queueId', location: QUEUES, handler: deleteQueue },
  { scope: 'project', method: 'GET', pattern: 'distributedtask/variablegroups', location: VG_PROJECT, handler: listVariableGroups },
  { scope: 'project', method: 'GET', pattern: 'distributedtask/variablegroups/:groupId', location: VG_PROJECT, handler: getVariableGroup },
  { scope: 'org', method: 'POST', pattern: 'distributedtask/variablegroups', location: VG_ORG, handler: addVariableGroup },
  { scope: 'org', method: 'PUT', pattern: 'distributedtask/variablegroups/:groupId', location: VG_ORG, handler: updateVariableGroup },
  { scope: 'org', method: 'DELETE', pattern: 'distributedtask/variablegroups/:groupId', location: VG_ORG, handler: deleteVariableGroup },
  { scope: 'org', method: 'GET', pattern: 'distributedtask/packages/:packageType/:platform?/:version?', location: PACKAGES, handler: listPackages },
];
