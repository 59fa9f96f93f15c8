// Small HTTP plumbing for the fake: request/response shapes, the service's error JSON, routing.
import type { IncomingHttpHeaders } from 'node:http';
import type { Project } from './types.js';
import type { Backend } from './backend.js';

/** An error answered with the service's error JSON ({$id, innerException, message, typeName, typeKey, errorCode, eventId}). */
export class ApiError extends Error {
  readonly status: number;
  readonly typeKey: string;
  readonly typeName: string;
  readonly headers: Record<string, string>;
  constructor(status: number, typeKey: string, message: string, opts: { typeName?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.typeKey = typeKey;
    this.typeName = opts.typeName ?? typeNameOf(typeKey);
    this.headers = opts.headers ?? {};
  }
}

const NAMESPACES: Array<[RegExp, string]> = [
  [/^Project|^TeamProject/, 'Microsoft.TeamFoundation.Core.WebApi.%s, Microsoft.TeamFoundation.Core.WebApi'],
  [/^TaskAgent|^VariableGroup|^DistributedTask/, 'Microsoft.TeamFoundation.DistributedTask.WebApi.%s, Microsoft.TeamFoundation.DistributedTask.WebApi'],
  [/^Git/, 'Microsoft.TeamFoundation.Git.Server.%s, Microsoft.TeamFoundation.Git.Server'],
  [/ServiceConnection|ServiceEndpoint/, 'Microsoft.VisualStudio.Services.ServiceEndpoints.WebApi.%s, Microsoft.VisualStudio.Services.ServiceEndpoints.WebApi'],
  [/Extension/, 'Microsoft.VisualStudio.Services.ExtensionManagement.WebApi.%s, Microsoft.VisualStudio.Services.ExtensionManagement.WebApi'],
  [/^Pipeline|^UnsupportedConfiguration|^InvalidRepositoryInformation/, 'Microsoft.Azure.Pipelines.WebApi.%s, Microsoft.Azure.Pipelines.WebApi'],
  [/^Definition|^Build|^Timeline/, 'Microsoft.TeamFoundation.Build.WebApi.%s, Microsoft.TeamFoundation.Build2.WebApi'],
  [/^Unauthorized/, 'Microsoft.TeamFoundation.Framework.Server.%s, Microsoft.TeamFoundation.Framework.Server'],
  [/^Argument|^InvalidOperation|^Exception$/, 'System.%s, mscorlib'],
];

function typeNameOf(typeKey: string): string {
  for (const [re, fmt] of NAMESPACES) if (re.test(typeKey)) return fmt.replace('%s', typeKey);
  return `Microsoft.VisualStudio.Services.WebApi.${typeKey}, Microsoft.VisualStudio.Services.WebApi`;
}

export function errorJson(typeKey: string, message: string, typeName = typeNameOf(typeKey)): Record<string, unknown> {
  return { $id: '1', innerException: null, message, typeName, typeKey, errorCode: 0, eventId: 3000 };
}

export interface Res {
  status: number;
  /** JSON body (`null` is sent as the literal null). */
  json?: unknown;
  /** Raw body, sent as is with `contentType`. */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export const ok = (json: unknown, status = 200): Res => ({ status, json });
export const noContent = (): Res => ({ status: 204 });
export const list = <T>(value: T[]): Res => ({ status: 200, json: { count: value.length, value } });

/** Query parameters, looked up case-insensitively like ASP.NET binding does. */
export class Query {
  private readonly map = new Map<string, string>();
  readonly raw: Record<string, string> = {};
  constructor(params: URLSearchParams) {
    for (const [k, v] of params) {
      this.map.set(k.toLowerCase(), v);
      this.raw[k] = v;
    }
  }
  get(name: string): string | undefined {
    const v = this.map.get(name.toLowerCase());
    return v === undefined || v === '' ? undefined : v;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  bool(name: string): boolean | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : v.toLowerCase() === 'true';
  }
  int(name: string): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = Number.parseInt(v, 10);
    return Number.isFinite(n) ? n : undefined;
  }
  /** Comma-separated list (also accepts repeated keys' last value). */
  list(name: string): string[] | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
}

export interface Req {
  method: string;
  /** Path after `_apis/`, decoded segments joined by '/'. */
  rest: string;
  query: Query;
  body: unknown;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  accept: string;
  apiVersion: string | undefined;
  /** The `{project}` path segment, decoded, when the route is project-scoped. */
  projectSegment: string | undefined;
  /** Resolved project (wellFormed), set for project-scoped routes. */
  project: Project | undefined;
  params: Record<string, string>;
}

export type Scope = 'org' | 'project' | 'any';

export interface Route {
  scope: Scope;
  method: string;
  /** e.g. 'git/repositories/:repositoryId/pushes/:pushId?' (relative to `_apis/`). */
  pattern: string;
  /** Location id, for the api-version check. */
  location: string;
  handler: (b: Backend, r: Req) => Res | Promise<Res>;
}

export interface CompiledRoute extends Route {
  re: RegExp;
  names: string[];
}

export function compileRoute(route: Route): CompiledRoute {
  const names: string[] = [];
  let src = '^';
  for (const seg of route.pattern.split('/')) {
    if (seg.startsWith(':')) {
      const optional = seg.endsWith('?');
      const name = seg.slice(1, optional ? -1 : undefined);
      const rest = name.startsWith('*');
      names.push(rest ? name.slice(1) : name);
      const capture = rest ? '(.+)' : '([^/]+)';
      src += optional ? `(?:/${capture})?` : `/${capture}`;
    } else {
      src += `/${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
    }
  }
  src += '/?$';
  return { ...route, re: new RegExp(src, 'i'), names };
}

export function matchRoute(route: CompiledRoute, rest: string): Record<string, string> | undefined {
  const m = route.re.exec(`/${rest}`);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  route.names.forEach((n, i) => {
    const v = m[i + 1];
    if (v !== undefined) params[n] = v;
  });
  return params;
}

/** Body as an object, or a 400 like the service when it is missing / not JSON. */
export function bodyObject(r: Req, what = 'body'): Record<string, unknown> {
  if (r.body === undefined || r.body === null || typeof r.body !== 'object' || Array.isArray(r.body)) {
    throw new ApiError(400, 'ArgumentNullException', `Value cannot be null.\r\nParameter name: ${what}`);
  }
  return r.body as Record<string, unknown>;
}

export function bodyArray(r: Req, what = 'body'): unknown[] {
  if (!Array.isArray(r.body)) {
    throw new ApiError(400, 'ArgumentNullException', `Value cannot be null.\r\nParameter name: ${what}`);
  }
  return r.body;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

export function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function parseApiVersion(accept: string | undefined, query: Query): string | undefined {
  const m = /api-version\s*=\s*([0-9]+(?:\.[0-9]+)?(?:-preview(?:\.[0-9]+)?)?)/i.exec(accept ?? '');
  return m?.[1] ?? query.get('api-version');
}
