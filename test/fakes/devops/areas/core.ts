// core (projects), operations, Location/ConnectionData.
// Shapes: core/7.1/httpExamples/projects/{GET__projects,POST__projects}.json, operations/7.1/operations.json.
import { ApiError, bodyObject, list, obj, ok, str, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { Operation, Project } from '../types.js';

const PROJECTS = '603fe2ac-9723-48b9-88ad-09305aa6c6e1';
const OPERATIONS = '9a1b74b4-2ca8-4a9f-8470-c2f2e6fdc949';
const CONNECTION_DATA = '00d9565f-ed9c-4a06-9a50-00e7896ccab4';

// Naming restrictions of projects: \ / : * ? " ' < > ; # $ * { } , + = [ ] |
const INVALID_NAME = /[\\/:*?"'<>;#$*{},+=[\]|]/;

function renderProject(b: Backend, p: Project, includeCapabilities: boolean): Record<string, unknown> {
  const json: Record<string, unknown> = {
    ...b.projectRef(p),
    _links: {
      self: { href: b.api(`_apis/projects/${p.id}`) },
      collection: { href: b.api(`_apis/projectCollections/${b.world.org.id}`) },
      web: { href: b.api(encodeURIComponent(p.name)) },
    },
    defaultTeam: { id: p.defaultTeamId, name: `${p.name} Team`, url: b.api(`_apis/projects/${p.id}/teams/${p.defaultTeamId}`) },
  };
  if (includeCapabilities) {
    json['capabilities'] = {
      versioncontrol: { sourceControlType: p.sourceControlType, gitEnabled: String(p.sourceControlType === 'Git'), tfvcEnabled: String(p.sourceControlType !== 'Git') },
      processTemplate: { templateName: 'Agile', templateTypeId: p.processTemplateId },
    };
  }
  return json;
}

function renderOperation(b: Backend, op: Operation): Record<string, unknown> {
  const url = b.api(`_apis/operations/${op.id}`);
  return {
    id: op.id,
    status: op.status,
    url,
    _links: { self: { href: url } },
    resultMessage: op.resultMessage,
  };
}

/** One poll of a pending operation; completes it once polls exceed pollsBeforeDone. */
export function pollOperation(b: Backend, op: Operation): void {
  if (op.status === 'succeeded' || op.status === 'failed' || op.status === 'cancelled') return;
  op.polls += 1;
  if (op.polls <= op.pollsBeforeDone) {
    op.status = 'inProgress';
    return;
  }
  const project = b.world.projects.find((p) => p.id === op.projectId);
  if (op.kind === 'createProject') {
    if (b.opts.projectCreateResult === 'failed') {
      op.status = 'failed';
      op.resultMessage = `Project creation failed for ${op.projectName}: TF30170: The plugin Microsoft.ProjectCreationWizard.Git failed during task CreateRepository (fake failure).`;
      if (project) b.dropProject(project);
    } else {
      op.status = 'succeeded';
      if (project) b.materializeProject(project);
    }
  } else {
    op.status = 'succeeded';
    if (project) b.dropProject(project);
  }
}

/** Project GETs also advance pending operations (a caller may wait on the project instead of the operation). */
function tickPending(b: Backend): void {
  for (const op of b.world.operations) if (op.status === 'queued' || op.status === 'inProgress') pollOperation(b, op);
}

function listProjects(b: Backend, r: Req): Res {
  tickPending(b);
  const stateFilter = (r.query.get('stateFilter') ?? 'wellFormed').toLowerCase();
  let value = b.world.projects.filter((p) => stateFilter === 'all' || p.state.toLowerCase() === stateFilter);
  value = [...value].sort((x, y) => x.name.localeCompare(y.name));
  const skip = r.query.int('$skip') ?? 0;
  const top = r.query.int('$top') ?? 100;
  return list(value.slice(skip, skip + top).map((p) => b.projectRef(p)));
}

function getProject(b: Backend, r: Req): Res {
  const key = r.params['projectId'] ?? '';
  if (b.world.findProject(key)?.state === 'createPending') tickPending(b);
  const p = b.requireProject(key);
  return ok(renderProject(b, p, r.query.bool('includeCapabilities') ?? false));
}

function createProject(b: Backend, r: Req): Res {
  const body = bodyObject(r, 'projectToCreate');
  const name = str(body['name'])?.trim();
  const caps = obj(body['capabilities']);
  const scm = str(obj(caps?.['versioncontrol'])?.['sourceControlType']);
  const template = str(obj(caps?.['processTemplate'])?.['templateTypeId']);
  if (!name || !scm || !template) {
    throw new ApiError(
      400,
      'ArgumentException',
      'The project information supplied to project create is not valid. You must provide all and only these properties/capabilities: name, description, visibility, capabilities.versioncontrol.sourceControlType, capabilities.processTemplate.templateTypeId.',
    );
  }
  if (name.length > 64 || INVALID_NAME.test(name) || name.startsWith('_') || name.startsWith('.') || name.endsWith('.')) {
    throw new ApiError(400, 'ProjectNameNotValidException', `TF200020: The following project name is not valid: ${name}. Verify that the name does not exceed the maximum character limit, only contains valid characters, and is not a reserved name.`);
  }
  if (b.world.findProject(name)) {
    throw new ApiError(
      400,
      'ProjectAlreadyExistsException',
      `TF200019: The following project already exists on the Azure DevOps Server: ${name}. You cannot create a new project with the same name as an existing project. Provide a different name.`,
    );
  }
  const visibility = str(body['visibility'])?.toLowerCase() === 'public' ? 'public' : 'private';
  const p = b.newProject(name, str(body['description']) ?? '', visibility, scm, template);
  return queueOperation(b, 'createProject', p);
}

/** A queued project operation, answered like the service: 202 with its reference. */
function queueOperation(b: Backend, kind: Operation['kind'], p: Project): Res {
  const op: Operation = { id: b.uuid(), kind, projectId: p.id, projectName: p.name, status: 'queued', polls: 0, pollsBeforeDone: b.opts.projectCreateOperationPolls, resultMessage: null };
  b.world.operations.push(op);
  return ok({ id: op.id, status: op.status, url: b.api(`_apis/operations/${op.id}`) }, 202);
}

function deleteProject(b: Backend, r: Req): Res {
  const p = b.requireProject(r.params['projectId'] ?? '');
  p.state = 'deleting';
  return queueOperation(b, 'deleteProject', p);
}

function getOperation(b: Backend, r: Req): Res {
  const id = (r.params['operationId'] ?? '').toLowerCase();
  const op = b.world.operations.find((o) => o.id === id);
  if (!op) throw new ApiError(404, 'OperationNotFoundException', `The operation ${id} could not be found.`);
  pollOperation(b, op);
  return ok(renderOperation(b, op));
}

function connectionData(b: Backend): Res {
  const u = b.world.user;
  const identity = {
    id: u.id,
    descriptor: `Microsoft.IdentityModel.Claims.ClaimsIdentity;${b.world.org.id}\\${u.uniqueName}`,
    subjectDescriptor: u.descriptor,
    providerDisplayName: u.displayName,
    isActive: true,
    properties: { Account: { $type: 'System.String', $value: u.uniqueName } },
    resourceVersion: 2,
    metaTypeId: 0,
  };
  return ok({
    authenticatedUser: identity,
    authorizedUser: identity,
    instanceId: b.world.org.id,
    deploymentId: b.world.org.id,
    deploymentType: 'hosted',
    locationServiceData: {
      serviceOwner: '00025394-6065-48ca-87d9-7f5672854ef7',
      defaultAccessMappingMoniker: 'PublicAccessMapping',
      lastChangeId: 1,
      lastChangeId64: 1,
    },
  });
}

export const coreRoutes: Route[] = [
  { scope: 'org', method: 'GET', pattern: 'connectionData', location: CONNECTION_DATA, handler: connectionData },
  { scope: 'org', method: 'GET', pattern: 'projects', location: PROJECTS, handler: listProjects },
  { scope: 'org', method: 'GET', pattern: 'projects/:projectId', location: PROJECTS, handler: getProject },
  { scope: 'org', method: 'POST', pattern: 'projects', location: PROJECTS, handler: createProject },
  { scope: 'org', method: 'DELETE', pattern: 'projects/:projectId', location: PROJECTS, handler: deleteProject },
  { scope: 'org', method: 'GET', pattern: 'operations/:operationId', location: OPERATIONS, handler: getOperation },
];
