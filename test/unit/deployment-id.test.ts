import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createdBy, describedConflict, markedDeployment, sharedDeploymentId, uuidFromName } from '../../src/engine/deployment.js';
import { UsageError } from '../../src/engine/errors.js';
import { StateStore } from '../../src/engine/state.js';
import { Redactor } from '../../src/ui/redact.js';

const ID = '0b5c1f3e-8a2d-4c7b-9e61-2f4d8a0c6b1e';
const OTHER = '9f0e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f';

describe('deployment ids', () => {
  it('name-based UUIDs are version 5 (RFC 9562 test vector: DNS namespace, www.example.com)', () => {
    expect(uuidFromName('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('state dirs sharing an azurerm backend get one id; another backend another one', () => {
    const a = sharedDeploymentId({ account: 'sttfmlops01', container: 'tfstate', key: 'azure-mlops-mlops01.tfstate' });
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sharedDeploymentId({ account: 'STTFMLOPS01', container: 'tfstate', key: 'azure-mlops-mlops01.tfstate' })).toBe(a);
    expect(sharedDeploymentId({ account: 'sttfmlops02', container: 'tfstate', key: 'azure-mlops-mlops02.tfstate' })).not.toBe(a);
  });

  it('a description names its deployment; ours and unmarked ones are no conflict, another one is', () => {
    const text = `Azure ML workspace aml-x (${createdBy(ID)})`;
    expect(markedDeployment(text)).toBe(ID);
    expect(markedDeployment('MLOps with Azure ML, AKS and Azure Pipelines (created by azure-mlops)')).toBeUndefined();
    expect(markedDeployment(null)).toBeUndefined();
    expect(describedConflict('x', text, ID)).toBeUndefined();
    expect(describedConflict('x', text.toUpperCase(), ID)).toBeUndefined();
    expect(describedConflict('x', 'made by hand', ID)).toBeUndefined();
    expect(describedConflict('x', text, OTHER)).toEqual({ what: 'x', owner: ID, ours: OTHER });
  });
});

describe('state.json deploymentId', () => {
  const dirOf = () => join(mkdtempSync(join(tmpdir(), 'deploy-id-')), '.azure-mlops');

  it('a new state dir gets a random UUID, kept from its first save on', async () => {
    const dir = dirOf();
    const s = await StateStore.load(dir, '1.0.0', new Redactor());
    const id = s.deploymentId;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await s.setAnswers({ prefix: 'abc' });
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).deploymentId).toBe(id);
    expect((await StateStore.load(dir, '1.0.0', new Redactor())).deploymentId).toBe(id);
    expect((await StateStore.load(dirOf(), '1.0.0', new Redactor())).deploymentId).not.toBe(id);
  });

  it('a state file from before deployment ids gets one, written at its next save', async () => {
    const dir = dirOf();
    mkdirSync(dir, { recursive: true });
    const old = { version: 1, toolVersion: '0.0.9', createdAt: 'x', updatedAt: 'x', answers: {}, steps: {}, data: {}, resources: [], outputs: {}, history: [] };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(old));
    const s = await StateStore.load(dir, '1.0.0', new Redactor());
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).deploymentId).toBeUndefined();
    const id = s.deploymentId;
    await s.addHistory('init');
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).deploymentId).toBe(id);
  });

  it('a deploymentId that is not a UUID is refused (exit 2)', async () => {
    const dir = dirOf();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ version: 1, toolVersion: '1', deploymentId: 'mine', createdAt: 'x', updatedAt: 'x', answers: {}, steps: {}, data: {}, resources: [], outputs: {}, history: [] }));
    await expect(StateStore.load(dir, '1.0.0', new Redactor())).rejects.toBeInstanceOf(UsageError);
  });
});
