import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rr-driver-loading-'));

const HEADER = ['incidentChannel: C0123INCIDENT', 'approvers: [U0123APPROVER]', 'targets:'];
const FASTLY = ['  cdn:', '    kind: fastly', '    serviceId: SU1Z0isxPaozGVKXdv0eY'];
const KUBERNETES = ['  web:', '    kind: kubernetes', '    namespace: prod', '    deployment: web'];

interface Loads {
  drivers: string[];
  /** File URLs Node resolved for an ES module import. */
  resolved: string[];
  /** CommonJS files required. */
  required: string[];
}

/** Start-up (loadConfig, then createDrivers) in a fresh Node process, and what it loaded. */
async function startUpLoads(name: string, targets: string[]): Promise<Loads> {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, [...HEADER, ...targets, ''].join('\n'));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/support/startup-modules.ts', file], {
    cwd: ROOT,
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(stdout) as Loads;
}

const KUBE_CLIENT = '/node_modules/@kubernetes/client-node/';
const implementation = (kind: string) => pathToFileURL(join(ROOT, 'src/drivers', kind, 'index.ts')).href;

// Each test transpiles and starts src/ in a fresh Node process through tsx: 10 to 25 s on an idle machine.
describe('start-up loads a provider only for the kinds rollback.yml names', { timeout: 180_000 }, () => {
  it('a Fastly-only rollback.yml loads neither the Kubernetes client nor the fastly package index', async () => {
    const loads = await startUpLoads('fastly-only', FASTLY);
    expect(loads.drivers).toEqual(['cdn']);
    expect(loads.resolved).toContain(implementation('fastly'));
    expect(loads.resolved).not.toContain(implementation('kubernetes'));
    expect(loads.resolved).not.toContain(implementation('helm'));
    expect(loads.resolved.filter((url) => url.includes(KUBE_CLIENT))).toEqual([]);

    const fastly = loads.required.filter((path) => path.includes('/node_modules/fastly/dist/'));
    expect(fastly).toContain(join(ROOT, 'node_modules/fastly/dist/ApiClient.js'));
    expect(fastly).not.toContain(join(ROOT, 'node_modules/fastly/dist/index.js'));
    // The index requires every API and model module (over 900); the client's four APIs need about 60.
    expect(fastly.length).toBeLessThan(100);
  });

  it('a Kubernetes target loads the Kubernetes client, and still not the Helm driver (the check above can see it)', async () => {
    const loads = await startUpLoads('fastly-and-kubernetes', [...FASTLY, ...KUBERNETES]);
    expect(loads.drivers).toEqual(['cdn', 'web']);
    expect(loads.resolved).toContain(implementation('kubernetes'));
    expect(loads.resolved.some((url) => url.includes(KUBE_CLIENT))).toBe(true);
    expect(loads.resolved).not.toContain(implementation('helm'));
  });
});
