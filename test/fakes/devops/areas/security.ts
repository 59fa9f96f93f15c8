// Security: access control entries, and the permission check the build area needs.
// Shapes: security/7.1/security.json of MicrosoftDocs/vsts-rest-api-specs ("Access Control
// Entries_Set Access Control Entries", definition AccessControlEntry) and its example
// httpExamples/accessControlEntries/POST__accesscontrolentries__securityNamespaceId__.json
// (the security area is not among ../shared/azure-devops-rest-specs). azure-devops-node-api has no
// client for this area: callers use the connection's rest client.
import { ApiError, bodyObject, list, obj, str, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { AccessControlEntry, Project } from '../types.js';

/** Location id of AccessControlEntries (area Security, route `_apis/{resource}/{securityNamespaceId}`). */
export const ACCESS_CONTROL_ENTRIES = 'ac08c8ff-4323-4b08-af90-bcd018d380ce';

/**
 * The Build security namespace and its "Stop builds" bit (StopBuilds = 512). Tokens are
 * hierarchical: `{projectId}` for the project, `{projectId}/{definitionId}` for one pipeline in the
 * root folder (DESIGN.md section 2a).
 */
export const BUILD_NAMESPACE = '33344d9c-fc72-4d6f-aba5-fa317101a7e9';
export const STOP_BUILDS = 512;

/**
 * The identity a run's System.AccessToken stands for when "Limit job authorization scope to
 * current project" is on (the default for new projects): `{Project} Build Service ({org})`, a
 * service identity whose descriptor is `Microsoft.TeamFoundation.ServiceIdentity;{collection
 * id}:Build:{project id}` (the form ACLs and identity reads of the service show; no reference page
 * spells it out). Callers read it through the identities API, which this fake does not serve:
 * tests take it from `FakeDevOps.buildServiceIdentity`.
 */
export function buildServiceIdentity(b: Backend, p: Project): { descriptor: string; displayName: string } {
  return {
    descriptor: `Microsoft.TeamFoundation.ServiceIdentity;${b.world.org.id}:Build:${p.id}`,
    displayName: `${p.name} Build Service (${b.world.org.name})`,
  };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Does `descriptor` have `bit` in `namespace` for the first of `tokens` (most specific first, then
 * its parents)? The closest token with an entry that sets the bit decides; a deny beats an allow
 * on the same token. No entry anywhere: not allowed. Group membership is not modelled: only
 * entries for the identity itself count.
 */
export function hasPermission(b: Backend, namespace: string, tokens: string[], descriptor: string, bit: number): boolean {
  for (const token of tokens) {
    const aces = b.world.accessControlEntries.filter(
      (e) => same(e.securityNamespaceId, namespace) && same(e.token, token) && same(e.descriptor, descriptor),
    );
    if (aces.some((e) => (e.deny & bit) !== 0)) return false;
    if (aces.some((e) => (e.allow & bit) !== 0)) return true;
  }
  return false;
}

function bits(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : Number(str(v));
  if (!Number.isInteger(n)) throw new ApiError(400, 'ArgumentException', `${what} must be an integer.`);
  return n;
}

const render = (e: AccessControlEntry): Record<string, unknown> => ({ descriptor: e.descriptor, allow: e.allow, deny: e.deny, extendedInfo: {} });

/**
 * Set Access Control Entries: `{token, merge, accessControlEntries: [{descriptor, allow, deny}]}`.
 * An entry for a descriptor already in the token's ACL is replaced, or with `merge: true` has its
 * allow and deny OR-ed with the incoming ones (the operation's description in the spec). Answers
 * the entries as stored, as a collection.
 */
function setAccessControlEntries(b: Backend, r: Req): Res {
  const namespace = r.params['securityNamespaceId'] ?? '';
  const body = bodyObject(r, 'container');
  const token = str(body['token']);
  if (!token) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: token');
  const entries = body['accessControlEntries'];
  if (!Array.isArray(entries)) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: accessControlEntries');
  const merge = body['merge'] === true;
  const stored = entries.map((raw) => {
    const x = obj(raw);
    const descriptor = str(x?.['descriptor']);
    if (!descriptor) throw new ApiError(400, 'ArgumentNullException', 'Value cannot be null.\r\nParameter name: descriptor');
    const allow = bits(x?.['allow'], 'allow');
    const deny = bits(x?.['deny'], 'deny');
    const existing = b.world.accessControlEntries.find(
      (e) => same(e.securityNamespaceId, namespace) && same(e.token, token) && same(e.descriptor, descriptor),
    );
    if (existing) {
      existing.allow = merge ? existing.allow | allow : allow;
      existing.deny = merge ? existing.deny | deny : deny;
      return existing;
    }
    const e: AccessControlEntry = { securityNamespaceId: namespace.toLowerCase(), token, descriptor, allow, deny };
    b.world.accessControlEntries.push(e);
    return e;
  });
  return list(stored.map(render));
}

export const securityRoutes: Route[] = [
  { scope: 'org', method: 'POST', pattern: 'accesscontrolentries/:securityNamespaceId', location: ACCESS_CONTROL_ENTRIES, handler: setAccessControlEntries },
];
