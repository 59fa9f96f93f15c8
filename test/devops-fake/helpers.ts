// Shared setup for the fake Azure DevOps tests: the real azure-devops-node-api client against
// FakeDevOps, and a few waits that follow the service's flows.
import * as azdev from 'azure-devops-node-api';
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces.js';
import { SourceControlTypes, type TeamProject } from 'azure-devops-node-api/interfaces/CoreInterfaces.js';
import { FakeDevOps, type FakeDevOpsOptions } from '../fakes/devops/server.js';

export const PAT = 'fake-pat';
export const AGILE = 'adcc42ab-9882-485e-a3ed-7678f01f66bc';

export interface Harness {
  fake: FakeDevOps;
  api: azdev.WebApi;
}

export async function startFake(opts: FakeDevOpsOptions = {}, requestOptions?: IRequestOptions): Promise<Harness> {
  const fake = await FakeDevOps.start(opts);
  const api = new azdev.WebApi(fake.orgUrl, azdev.getPersonalAccessTokenHandler(opts.pat ?? PAT), requestOptions);
  return { fake, api };
}

/** What a caller catches from the library: Error + statusCode + parsed body (+ headers). */
export interface LibError extends Error {
  statusCode?: number;
  result?: { typeKey?: string; message?: string } | null;
  responseHeaders?: Record<string, string>;
  rateLimit?: { retryAfter?: number; resource?: string; remaining?: number };
  code?: string;
}

export async function rejection(p: Promise<unknown>): Promise<LibError> {
  try {
    await p;
  } catch (e) {
    return e as LibError;
  }
  throw new Error('expected the call to reject');
}

export interface OperationJson {
  id: string;
  status: string;
  url: string;
  resultMessage?: string | null;
}

/** queueCreateProject, then poll the operation's url with the connection's rest client. */
export async function createProject(api: azdev.WebApi, name: string): Promise<TeamProject> {
  const core = await api.getCoreApi();
  const ref = await core.queueCreateProject({
    name,
    description: `${name} project`,
    capabilities: { versioncontrol: { sourceControlType: SourceControlTypes[SourceControlTypes.Git] }, processTemplate: { templateTypeId: AGILE } },
  });
  for (let i = 0; i < 20; i++) {
    const op = await api.rest.get<OperationJson>(ref.url ?? '', { acceptHeader: 'application/json;api-version=7.1' });
    if (op.result?.status === 'succeeded') break;
    if (op.result?.status === 'failed') throw new Error(`project creation failed: ${op.result.resultMessage ?? ''}`);
  }
  return core.getProject(name);
}
