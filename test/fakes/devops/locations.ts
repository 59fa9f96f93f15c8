// ApiResourceLocations served by `OPTIONS {org}/_apis/{area}`. Ids are the service's (the ones
// azure-devops-node-api 17 hard-codes); route templates are the service's; resourceVersion is the
// N the library asks for in `7.2-preview.N`, so negotiation keeps it.
//
// Negotiation (VsoClient.autoNegotiateApiVersion), given the library's '7.2-preview.N':
//   maxVersion 7.2 -> '7.2-preview.N' (requested version accepted)
//   maxVersion 7.1 -> '7.1-preview.N' (falls back to maxVersion + '-preview.' + resourceVersion,
//                     because releasedVersion (7.0) differs from maxVersion)

export interface LocationDef {
  id: string;
  area: string;
  resourceName: string;
  routeTemplate: string;
  resourceVersion: number;
  minVersion: string;
  /** false for preview-only resources (releasedVersion '0.0'). */
  released: boolean;
}

export const LOCATIONS: LocationDef[] = [
  // Location
  { id: 'e81700f7-3be2-46de-8624-2eb35882fcaa', area: 'Location', resourceName: 'ResourceAreas', routeTemplate: '_apis/{resource}/{areaId}', resourceVersion: 1, minVersion: '3.2', released: true },
  { id: '00d9565f-ed9c-4a06-9a50-00e7896ccab4', area: 'Location', resourceName: 'ConnectionData', routeTemplate: '_apis/{resource}', resourceVersion: 1, minVersion: '1.0', released: true },
  // core
  { id: '603fe2ac-9723-48b9-88ad-09305aa6c6e1', area: 'core', resourceName: 'projects', routeTemplate: '_apis/{resource}/{*projectId}', resourceVersion: 4, minVersion: '1.0', released: true },
  // operations
  { id: '9a1b74b4-2ca8-4a9f-8470-c2f2e6fdc949', area: 'operations', resourceName: 'operations', routeTemplate: '_apis/{resource}/{operationId}', resourceVersion: 1, minVersion: '4.1', released: true },
  // distributedtask
  { id: 'a8c47e17-4d56-4a56-92bb-de7ea7dc65be', area: 'distributedtask', resourceName: 'pools', routeTemplate: '_apis/{area}/{resource}/{poolId}', resourceVersion: 1, minVersion: '3.0', released: true },
  { id: 'e298ef32-5878-4cab-993c-043836571f42', area: 'distributedtask', resourceName: 'agents', routeTemplate: '_apis/{area}/pools/{poolId}/{resource}/{agentId}', resourceVersion: 1, minVersion: '3.0', released: true },
  { id: '900fa995-c559-4923-aae7-f8424fe4fbea', area: 'distributedtask', resourceName: 'queues', routeTemplate: '{project}/_apis/{area}/{resource}/{queueId}', resourceVersion: 1, minVersion: '3.0', released: true },
  { id: 'f5b09dd5-9d54-45a1-8b5a-1c8287d634cc', area: 'distributedtask', resourceName: 'variablegroups', routeTemplate: '{project}/_apis/{area}/{resource}/{groupId}', resourceVersion: 2, minVersion: '3.2', released: true },
  { id: 'ef5b7057-ffc3-4c77-bbad-c10b4a4abcc7', area: 'distributedtask', resourceName: 'variablegroups', routeTemplate: '_apis/{area}/{resource}/{groupId}', resourceVersion: 2, minVersion: '5.0', released: true },
  { id: '8ffcd551-079c-493a-9c02-54346299d144', area: 'distributedtask', resourceName: 'packages', routeTemplate: '_apis/{area}/{resource}/{packageType}/{platform}/{version}', resourceVersion: 2, minVersion: '3.0', released: true },
  // ExtensionManagement
  { id: '275424d0-c844-4fe2-bda6-04933a1357d8', area: 'ExtensionManagement', resourceName: 'InstalledExtensions', routeTemplate: '_apis/{area}/{resource}', resourceVersion: 2, minVersion: '3.0', released: false },
  { id: 'fb0da285-f23e-4b56-8b53-3ef5f9f6de66', area: 'ExtensionManagement', resourceName: 'InstalledExtensionsByName', routeTemplate: '_apis/{area}/{resource}/{publisherName}/{extensionName}/{version}', resourceVersion: 2, minVersion: '3.0', released: false },
  // serviceendpoint
  { id: 'e85f1c62-adfc-4b74-b618-11a150fb195e', area: 'serviceendpoint', resourceName: 'endpoints', routeTemplate: '{project}/_apis/{area}/{resource}/{endpointId}', resourceVersion: 4, minVersion: '5.0', released: true },
  { id: '14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0', area: 'serviceendpoint', resourceName: 'endpoints', routeTemplate: '_apis/{area}/{resource}/{endpointId}', resourceVersion: 4, minVersion: '6.0', released: true },
  // git
  { id: '225f7195-f9c7-4d14-ab28-a83f7ff77e1f', area: 'git', resourceName: 'repositories', routeTemplate: '{project}/_apis/{area}/{resource}/{repositoryId}', resourceVersion: 2, minVersion: '1.0', released: true },
  { id: '2d874a60-a811-4f62-9c9f-963a6ea0a55b', area: 'git', resourceName: 'refs', routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}', resourceVersion: 2, minVersion: '1.0', released: true },
  { id: 'ea98d07b-3c87-4971-8ede-a613694ffb55', area: 'git', resourceName: 'pushes', routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pushId}', resourceVersion: 3, minVersion: '2.0', released: true },
  { id: 'fb93c0db-47ed-4a31-8c20-47552878fb44', area: 'git', resourceName: 'items', routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*path}', resourceVersion: 1, minVersion: '1.0', released: true },
  { id: 'c2570c3b-5b3f-41b8-98bf-5407bfde8d58', area: 'git', resourceName: 'commits', routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{commitId}', resourceVersion: 2, minVersion: '1.0', released: true },
  // build
  { id: 'dbeaf647-6167-421a-bda9-c9327b25e2e6', area: 'build', resourceName: 'definitions', routeTemplate: '{project}/_apis/{area}/{resource}/{definitionId}', resourceVersion: 7, minVersion: '2.0', released: true },
  { id: '0cd358e1-9217-4d94-8269-1c1ee6f93dcf', area: 'build', resourceName: 'builds', routeTemplate: '{project}/_apis/{area}/{resource}/{buildId}', resourceVersion: 7, minVersion: '2.0', released: true },
  { id: '8baac422-4c6e-4de5-8532-db96d92acffa', area: 'build', resourceName: 'Timeline', routeTemplate: '{project}/_apis/{area}/builds/{buildId}/{resource}/{timelineId}', resourceVersion: 3, minVersion: '2.0', released: true },
  // pipelines
  { id: '28e1305e-2afe-47bf-abaf-cbb0e6a91988', area: 'pipelines', resourceName: 'pipelines', routeTemplate: '{project}/_apis/{resource}/{pipelineId}', resourceVersion: 1, minVersion: '6.0', released: true },
  { id: '7859261e-d2e9-4a68-b820-a5d84cc5bb3d', area: 'pipelines', resourceName: 'runs', routeTemplate: '{project}/_apis/pipelines/{pipelineId}/{resource}/{runId}', resourceVersion: 1, minVersion: '6.0', released: true },
  { id: '53df2d18-29ea-46a9-bee0-933540f80abf', area: 'pipelines', resourceName: 'preview', routeTemplate: '{project}/_apis/pipelines/{pipelineId}/{resource}', resourceVersion: 1, minVersion: '6.1', released: false },
  // Security (no client in the library); preview-only in security/7.1/security.json
  { id: 'ac08c8ff-4323-4b08-af90-bcd018d380ce', area: 'Security', resourceName: 'AccessControlEntries', routeTemplate: '_apis/{resource}/{securityNamespaceId}', resourceVersion: 1, minVersion: '1.0', released: false },
  // pipelinePermissions (no client in the library)
  { id: 'b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2', area: 'pipelinePermissions', resourceName: 'pipelinePermissions', routeTemplate: '{project}/_apis/pipelines/{resource}/{resourceType}/{resourceId}', resourceVersion: 1, minVersion: '5.1', released: false },
];

export const LOCATION_BY_ID = new Map(LOCATIONS.map((l) => [l.id, l]));

/** The ApiResourceLocation JSON of one location for a server advertising `maxVersion`. */
export function renderLocation(l: LocationDef, maxVersion: string): Record<string, unknown> {
  const releasedVersion = !l.released ? '0.0' : maxVersion === '7.1' ? '7.0' : '7.1';
  return {
    id: l.id,
    area: l.area,
    resourceName: l.resourceName,
    routeTemplate: l.routeTemplate,
    resourceVersion: l.resourceVersion,
    minVersion: l.minVersion,
    maxVersion,
    releasedVersion,
  };
}

export function locationsOfArea(area: string): LocationDef[] {
  const a = area.toLowerCase();
  return LOCATIONS.filter((l) => l.area.toLowerCase() === a);
}
