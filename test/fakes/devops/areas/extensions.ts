// ExtensionManagement: installed extensions by name.
// Shapes: extensionManagement/7.1/extensionManagement.json (InstalledExtension, InstalledExtensionState).
import { ApiError, list, noContent, ok, type Req, type Res, type Route } from '../http.js';
import type { Backend } from '../backend.js';
import type { InstalledExtension } from '../types.js';

const INSTALLED = '275424d0-c844-4fe2-bda6-04933a1357d8';
const BY_NAME = 'fb0da285-f23e-4b56-8b53-3ef5f9f6de66';

/** What the fake "Marketplace" knows: publisher.extension -> display names and version. */
const CATALOG: Record<string, { publisher: string; extension: string; version: string }> = {
  'ms-air-aiagility.azureml-v2': { publisher: 'Microsoft DevLabs', extension: 'Azure Machine Learning', version: '2.1.4' },
  'ms-air-aiagility.vss-services-azureml': { publisher: 'Microsoft DevLabs', extension: 'Machine Learning', version: '0.1.160' },
  'ms-devlabs.custom-terraform-tasks': { publisher: 'Microsoft DevLabs', extension: 'Terraform', version: '0.1.29' },
  'ms-devlabs.utilitytasks': { publisher: 'Microsoft DevLabs', extension: 'Utility Tasks', version: '1.0.3' },
};

export function catalogEntry(b: Backend, publisher: string, extension: string): { publisher: string; extension: string; version: string } | undefined {
  const key = `${publisher}.${extension}`.toLowerCase();
  const known = CATALOG[key];
  if (known) return known;
  if (b.opts.marketplace.some((m) => m.toLowerCase() === key)) return { publisher, extension, version: '1.0.0' };
  return undefined;
}

function render(b: Backend, e: InstalledExtension): Record<string, unknown> {
  return {
    extensionId: e.extensionId,
    extensionName: e.extensionName,
    publisherId: e.publisherId,
    publisherName: e.publisherName,
    version: e.version,
    registrationId: e.registrationId,
    manifestVersion: 1,
    baseUri: `https://${e.publisherId}.gallerycdn.vsassets.io/extensions/${e.publisherId}/${e.extensionId}/${e.version}/1700000000000`,
    fallbackBaseUri: `https://${e.publisherId}.gallery.vsassets.io/_apis/public/gallery/publisher/${e.publisherId}/extension/${e.extensionId}/${e.version}/assetbyname`,
    scopes: [],
    flags: 'none',
    installState: { flags: 'none', installationIssues: [], lastUpdated: e.installedOn },
    lastPublished: '2025-06-01T00:00:00Z',
    files: [],
    contributions: [],
    contributionTypes: [],
    demands: [],
    language: '',
    eventCallbacks: null,
  };
}

function find(b: Backend, publisher: string, extension: string): InstalledExtension | undefined {
  return b.world.extensions.find(
    (e) => e.publisherId.toLowerCase() === publisher.toLowerCase() && e.extensionId.toLowerCase() === extension.toLowerCase(),
  );
}

function notInstalled(publisher: string, extension: string): ApiError {
  return new ApiError(404, 'InstalledExtensionNotFoundException', `The requested extension '${publisher}.${extension}' is not installed for this organization.`);
}

export function installExtension(b: Backend, publisher: string, extension: string, version?: string): InstalledExtension {
  const entry = catalogEntry(b, publisher, extension) ?? { publisher, extension, version: '1.0.0' };
  const e: InstalledExtension = {
    publisherId: publisher,
    publisherName: entry.publisher,
    extensionId: extension,
    extensionName: entry.extension,
    version: version ?? entry.version,
    registrationId: b.uuid(),
    installedOn: b.now(),
  };
  b.world.extensions.push(e);
  return e;
}

function listInstalled(b: Backend): Res {
  return list(b.world.extensions.map((e) => render(b, e)));
}

function getByName(b: Backend, r: Req): Res {
  const publisher = r.params['publisherName'] ?? '';
  const extension = r.params['extensionName'] ?? '';
  const e = find(b, publisher, extension);
  if (!e) throw notInstalled(publisher, extension);
  return ok(render(b, e));
}

function installByName(b: Backend, r: Req): Res {
  const publisher = r.params['publisherName'] ?? '';
  const extension = r.params['extensionName'] ?? '';
  if (find(b, publisher, extension)) {
    throw new ApiError(409, 'ExtensionAlreadyInstalledException', `The extension '${publisher}.${extension}' is already installed in this organization.`);
  }
  if (!catalogEntry(b, publisher, extension)) {
    throw new ApiError(404, 'ExtensionDoesNotExistException', `The extension '${publisher}.${extension}' does not exist.`);
  }
  return ok(render(b, installExtension(b, publisher, extension, r.params['version'])));
}

function uninstallByName(b: Backend, r: Req): Res {
  const publisher = r.params['publisherName'] ?? '';
  const extension = r.params['extensionName'] ?? '';
  const e = find(b, publisher, extension);
  if (!e) throw notInstalled(publisher, extension);
  b.world.extensions = b.world.extensions.filter((x) => x !== e);
  return noContent();
}

export const extensionRoutes: Route[] = [
  { scope: 'org', method: 'GET', pattern: 'extensionmanagement/installedextensions', location: INSTALLED, handler: listInstalled },
  { scope: 'org', method: 'GET', pattern: 'extensionmanagement/installedextensionsbyname/:publisherName/:extensionName', location: BY_NAME, handler: getByName },
  { scope: 'org', method: 'POST', pattern: 'extensionmanagement/installedextensionsbyname/:publisherName/:extensionName/:version?', location: BY_NAME, handler: installByName },
  { scope: 'org', method: 'DELETE', pattern: 'extensionmanagement/installedextensionsbyname/:publisherName/:extensionName', location: BY_NAME, handler: uninstallByName },
];
