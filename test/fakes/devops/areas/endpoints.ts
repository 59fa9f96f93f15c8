// serviceendpoint: service connections.
// Shapes: serviceEndpoint/7.1/httpExamples/endpoints/{CreateAzureRMEndpoint,GetServiceEndpointsByName,
// UpdateServiceEndpoint,DeleteServiceEndpoint,ShareServiceEndpoint}.json.
import { ApiError, bodyArray, bodyObject, list, noContent, obj, ok, str, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { Project, ProjectReferenceRef, ServiceEndpoint } from '../types.js';

const EP_PROJECT = 'e85f1c62-adfc-4b74-b618-11a150fb195e';
const EP_ORG = '14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0';

/** Authorization parameters the service never returns (answered as null). */
const SECRET_PARAMS = new Set(['serviceprincipalkey', 'password', 'apitoken', 'accesstoken', 'certificate', 'serviceprincipalcertificate', 'clientsecret', 'secret', 'privatekey']);

export function isSecretParam(name: string): boolean {
  return SECRET_PARAMS.has(name.toLowerCase());
}

export function renderEndpoint(b: Backend, e: ServiceEndpoint): Record<string, unknown> {
  const parameters: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(e.authorization.parameters)) parameters[k] = isSecretParam(k) ? null : v;
  return {
    data: e.data,
    id: e.id,
    name: e.name,
    type: e.type,
    url: e.url,
    createdBy: b.identity(e.createdBy),
    description: e.description,
    authorization: { parameters, scheme: e.authorization.scheme },
    isShared: e.isShared,
    isReady: e.isReady,
    isOutdated: false,
    operationStatus: e.isReady ? { state: 'Ready', statusMessage: '' } : { state: 'InProgress', statusMessage: '' },
    owner: e.owner,
    serviceEndpointProjectReferences: e.serviceEndpointProjectReferences,
  };
}

/** A GET that returns the endpoint: isReady flips to true after `readyAfterPolls` of them. */
function observe(e: ServiceEndpoint): void {
  e.polls += 1;
  e.isReady = e.polls > e.readyAfterPolls;
}

function resolveRefs(b: Backend, raw: unknown, fallbackProject: Project | undefined, name: string, description: string): ProjectReferenceRef[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    if (fallbackProject) return [{ projectReference: { id: fallbackProject.id, name: fallbackProject.name }, name, description }];
    throw new ApiError(400, 'ArgumentException', 'Service endpoint must be associated with at least one project: serviceEndpointProjectReferences is required.\r\nParameter name: endpoint.ServiceEndpointProjectReferences');
  }
  return raw.map((x) => b.projectReference(x, name, description));
}

function duplicate(b: Backend, name: string, refs: ProjectReferenceRef[], except?: string): void {
  const projects = new Set(refs.map((r) => r.projectReference.id));
  const clash = b.world.endpoints.find(
    (e) => e.id !== except && e.name.toLowerCase() === name.toLowerCase() && e.serviceEndpointProjectReferences.some((r) => projects.has(r.projectReference.id)),
  );
  if (clash) {
    throw new ApiError(
      b.opts.duplicateEndpointStatus,
      'DuplicateServiceConnectionException',
      `Service connection with name ${name} already exists. Only a user having Administrator/User role permissions on service connection ${name} can see it.`,
    );
  }
}

function applyWorkloadIdentity(b: Backend, e: ServiceEndpoint): void {
  if (e.authorization.scheme.toLowerCase() !== 'workloadidentityfederation') return;
  const ref = e.serviceEndpointProjectReferences[0];
  const project = ref ? b.world.findProject(ref.projectReference.id) : undefined;
  e.authorization.parameters['workloadIdentityFederationIssuer'] = `https://vstoken.dev.azure.com/${b.world.org.id}`;
  e.authorization.parameters['workloadIdentityFederationSubject'] = `sc://${b.opts.org}/${project?.name ?? ref?.projectReference.name ?? ''}/${e.name}`;
}

function requiredParams(scheme: string, params: Record<string, string>): void {
  const need: Record<string, string[]> = {
    workloadidentityfederation: ['tenantid', 'serviceprincipalid'],
    serviceprincipal: ['tenantid', 'serviceprincipalid'],
  };
  const lower = new Set(Object.keys(params).map((k) => k.toLowerCase()));
  for (const p of need[scheme.toLowerCase()] ?? []) {
    if (!lower.has(p)) throw new ApiError(400, 'ArgumentException', `The authorization parameter '${p}' is required for scheme ${scheme}.`);
  }
}

function stringParams(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(raw) ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/** Creates an endpoint from a request body (also used by the seeding helper). */
export function createEndpoint(b: Backend, body: Record<string, unknown>, fallbackProject: Project | undefined): ServiceEndpoint {
  const name = str(body['name'])?.trim();
  if (!name) throw new ApiError(400, 'ArgumentException', 'The service endpoint name cannot be empty.\r\nParameter name: endpoint.Name');
  const type = str(body['type']);
  if (!type) throw new ApiError(400, 'ArgumentException', 'The service endpoint type cannot be empty.\r\nParameter name: endpoint.Type');
  const auth = obj(body['authorization']);
  const scheme = str(auth?.['scheme']);
  if (!scheme) throw new ApiError(400, 'ArgumentException', 'The authorization scheme of the endpoint cannot be empty.\r\nParameter name: endpoint.Authorization.Scheme');
  const description = str(body['description']) ?? '';
  const refs = resolveRefs(b, body['serviceEndpointProjectReferences'], fallbackProject, name, description);
  const parameters = stringParams(auth?.['parameters']);
  requiredParams(scheme, parameters);
  duplicate(b, name, refs);
  const e: ServiceEndpoint = {
    id: b.uuid(),
    name,
    type,
    url: str(body['url']) ?? '',
    description,
    data: stringParams(body['data']),
    authorization: { scheme, parameters },
    isShared: refs.length > 1,
    isReady: b.opts.endpointReadyAfterPolls === 0,
    owner: str(body['owner']) ?? 'library',
    serviceEndpointProjectReferences: refs,
    createdBy: b.world.user,
    readyAfterPolls: b.opts.endpointReadyAfterPolls,
    polls: 0,
  };
  applyWorkloadIdentity(b, e);
  b.world.endpoints.push(e);
  return e;
}

function createOrg(b: Backend, r: Req): Res {
  return ok(renderEndpoint(b, createEndpoint(b, bodyObject(r, 'endpoint'), undefined)));
}

function createInProject(b: Backend, r: Req): Res {
  if (r.query.has('endpointIds')) {
    throw new ApiError(501, 'FakeNotImplemented', 'Fake Azure DevOps: getServiceEndpointsWithRefreshedAuthentication (POST {project}/_apis/serviceendpoint/endpoints?endpointIds=) is not implemented.');
  }
  return ok(renderEndpoint(b, createEndpoint(b, bodyObject(r, 'endpoint'), b.projectOf(r))));
}

function listInProject(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const names = r.query.list('endpointNames')?.map((s) => s.toLowerCase());
  const ids = r.query.list('endpointIds')?.map((s) => s.toLowerCase());
  const type = r.query.get('type')?.toLowerCase();
  const schemes = r.query.list('authSchemes')?.map((s) => s.toLowerCase());
  const owner = r.query.get('owner')?.toLowerCase();
  const value = b.world.endpointsOf(p.id).filter((e) => {
    const refName = e.serviceEndpointProjectReferences.find((x) => x.projectReference.id === p.id)?.name ?? e.name;
    return (
      (!names || names.includes(e.name.toLowerCase()) || names.includes(refName.toLowerCase())) &&
      (!ids || ids.includes(e.id)) &&
      (!type || e.type.toLowerCase() === type) &&
      (!schemes || schemes.includes(e.authorization.scheme.toLowerCase())) &&
      (!owner || e.owner.toLowerCase() === owner)
    );
  });
  for (const e of value) observe(e);
  return list(value.map((e) => renderEndpoint(b, e)));
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'ServiceEndpointNotFoundException', `Service connection with id ${id} could not be found.`);
}

function getInProject(b: Backend, r: Req): Res {
  const p = b.projectOf(r);
  const id = (r.params['endpointId'] ?? '').toLowerCase();
  const e = b.world.endpointsOf(p.id).find((x) => x.id === id);
  if (!e) throw notFound(id);
  observe(e);
  return ok(renderEndpoint(b, e));
}

function update(b: Backend, r: Req): Res {
  const id = (r.params['endpointId'] ?? '').toLowerCase();
  const e = b.world.endpoints.find((x) => x.id === id);
  if (!e) throw notFound(id);
  const body = bodyObject(r, 'endpoint');
  const bodyId = str(body['id'])?.toLowerCase();
  if (bodyId && bodyId !== id) throw new ApiError(400, 'ArgumentException', `The endpoint id ${bodyId} in the body does not match the id ${id} in the URL.`);
  const name = str(body['name'])?.trim() || e.name;
  const description = str(body['description']) ?? e.description;
  const refs = body['serviceEndpointProjectReferences'] === undefined ? e.serviceEndpointProjectReferences : resolveRefs(b, body['serviceEndpointProjectReferences'], undefined, name, description);
  duplicate(b, name, refs, e.id);
  const auth = obj(body['authorization']);
  const scheme = str(auth?.['scheme']) ?? e.authorization.scheme;
  const incoming = stringParams(auth?.['parameters']);
  // A secret not sent back (or sent as null) keeps its stored value.
  for (const [k, v] of Object.entries(e.authorization.parameters)) if (isSecretParam(k) && incoming[k] === undefined) incoming[k] = v;
  delete incoming['workloadIdentityFederationIssuer'];
  delete incoming['workloadIdentityFederationSubject'];
  requiredParams(scheme, incoming);
  e.name = name;
  e.description = description;
  e.type = str(body['type']) ?? e.type;
  e.url = str(body['url']) ?? e.url;
  if (body['data'] !== undefined) e.data = stringParams(body['data']);
  e.authorization = { scheme, parameters: incoming };
  e.serviceEndpointProjectReferences = refs;
  e.isShared = refs.length > 1;
  applyWorkloadIdentity(b, e);
  return ok(renderEndpoint(b, e));
}

function share(b: Backend, r: Req): Res {
  const id = (r.params['endpointId'] ?? '').toLowerCase();
  const e = b.world.endpoints.find((x) => x.id === id);
  if (!e) throw notFound(id);
  const refs = resolveRefs(b, bodyArray(r, 'endpointProjectReferences'), undefined, e.name, e.description);
  for (const ref of refs) {
    if (!e.serviceEndpointProjectReferences.some((x) => x.projectReference.id === ref.projectReference.id)) {
      duplicate(b, ref.name, [ref], e.id);
      e.serviceEndpointProjectReferences.push(ref);
    }
  }
  e.isShared = e.serviceEndpointProjectReferences.length > 1;
  return noContent();
}

function remove(b: Backend, r: Req): Res {
  const id = (r.params['endpointId'] ?? '').toLowerCase();
  const e = b.world.endpoints.find((x) => x.id === id);
  if (!e) throw notFound(id);
  const projectIds = r.query.list('projectIds');
  if (!projectIds || projectIds.length === 0) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: projectIds');
  const drop = new Set(projectIds.map((x) => b.world.findProject(x)?.id ?? x.toLowerCase()));
  e.serviceEndpointProjectReferences = e.serviceEndpointProjectReferences.filter((ref) => !drop.has(ref.projectReference.id));
  if (e.serviceEndpointProjectReferences.length === 0) {
    b.world.endpoints = b.world.endpoints.filter((x) => x !== e);
    b.world.permissions = b.world.permissions.filter((p) => !(p.resourceType === 'endpoint' && p.resourceId.toLowerCase() === e.id));
  }
  e.isShared = e.serviceEndpointProjectReferences.length > 1;
  return noContent();
}

export const endpointRoutes: Route[] = [
  { scope: 'project', method: 'GET', pattern: 'serviceendpoint/endpoints', location: EP_PROJECT, handler: listInProject },
  { scope: 'project', method: 'GET', pattern: 'serviceendpoint/endpoints/:endpointId', location: EP_PROJECT, handler: getInProject },
  { scope: 'project', method: 'POST', pattern: 'serviceendpoint/endpoints', location: EP_PROJECT, handler: createInProject },
  { scope: 'org', method: 'POST', pattern: 'serviceendpoint/endpoints', location: EP_ORG, handler: createOrg },
  { scope: 'org', method: 'PUT', pattern: 'serviceendpoint/endpoints/:endpointId', location: EP_ORG, handler: update },
  { scope: 'org', method: 'PATCH', pattern: 'serviceendpoint/endpoints/:endpointId', location: EP_ORG, handler: share },
  { scope: 'org', method: 'DELETE', pattern: 'serviceendpoint/endpoints/:endpointId', location: EP_ORG, handler: remove },
];
