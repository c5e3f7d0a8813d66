import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { RESERVED_TARGET_NAMES } from '../../src/core/names.js';

const dir = mkdtempSync(join(tmpdir(), 'rr-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = file(
  'good.yml',
  `incidentChannel: C0123INCIDENT
approvers: [U0123APPROVER, S0123SRE]
requestTtl: 10m
targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
`,
);
const env = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', FASTLY_API_TOKEN: 'f', ROLLBACK_CONFIG: good };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a good environment and file, with defaults', () => {
    const config = loadConfig(env);
    expect(config.slack.socketMode).toBe(false);
    expect(config.slack.port).toBe(3000);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', password: undefined, sentinel: undefined });
    expect(config.rules).toEqual({
      incidentChannel: 'C0123INCIDENT',
      approvers: ['U0123APPROVER', 'S0123SRE'],
      allowSelfApproval: false,
      requestTtlMs: 600_000,
    });
    expect(config.targets).toEqual([
      {
        name: 'cdn',
        kind: 'fastly',
        settings: { kind: 'fastly', serviceId: 'SU1Z0isxPaozGVKXdv0eY' },
        driftCheckEveryMs: 30_000,
        // An alert naming cdn (rollback_target) proposes a rollback within 30 minutes of a deploy.
        alerts: { match: undefined, proposeWithinMs: 1_800_000 },
      },
    ]);
    expect(config.driverEnvironment.fastly).toEqual({ token: 'f', baseUrl: 'https://api.fastly.com' });
    expect(config.workerConcurrency).toBe(32);
  });

  it('reads WORKER_CONCURRENCY, and refuses one that is not a sensible whole number', () => {
    expect(loadConfig({ ...env, WORKER_CONCURRENCY: '64' }).workerConcurrency).toBe(64);
    expect(problems(() => loadConfig({ ...env, WORKER_CONCURRENCY: 'lots' }))[0]).toMatch(
      /^WORKER_CONCURRENCY: must be a whole number/,
    );
    expect(problems(() => loadConfig({ ...env, WORKER_CONCURRENCY: '0' }))[0]).toMatch(
      /^WORKER_CONCURRENCY: must be at least 1/,
    );
    expect(problems(() => loadConfig({ ...env, WORKER_CONCURRENCY: '2.5' }))[0]).toMatch(
      /^WORKER_CONCURRENCY: must be a whole number/,
    );
  });

  it('reads RR_WORKER_LOCK_MS, at least 200 ms, for the bot and the CLI alike', () => {
    expect(loadConfig(env).workerLockMs).toBeUndefined();
    expect(loadConfig({ ...env, RR_WORKER_LOCK_MS: '1000' }).workerLockMs).toBe(1000);
    expect(loadConfig({ ...env, RR_WORKER_LOCK_MS: '200' }, { slack: 'optional' }).workerLockMs).toBe(200);
    for (const bad of ['199', '2.5', 'soon']) {
      expect(problems(() => loadConfig({ ...env, RR_WORKER_LOCK_MS: bad }))).toEqual([
        'RR_WORKER_LOCK_MS: must be a whole number of milliseconds, at least 200 (unset: 10000)',
      ]);
    }
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set, and then needs no signing secret', () => {
    const config = loadConfig({ ...env, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1' });
    expect(config.slack.socketMode).toBe(true);
  });

  it('names a missing Slack token and says where to get it', () => {
    const [line] = problems(() => loadConfig({ ...env, SLACK_BOT_TOKEN: undefined }));
    expect(line).toMatch(/^SLACK_BOT_TOKEN: is missing: create the Slack app from manifest.yml/);
  });

  it('treats an empty value as unset', () => {
    expect(problems(() => loadConfig({ ...env, SLACK_BOT_TOKEN: '' }))[0]).toMatch(/SLACK_BOT_TOKEN: is missing/);
    expect(loadConfig({ ...env, SLACK_APP_TOKEN: '' }).slack.socketMode).toBe(false);
  });

  it('names a missing signing secret in HTTP mode, but not for a worker', () => {
    expect(problems(() => loadConfig({ ...env, SLACK_SIGNING_SECRET: undefined }))[0]).toMatch(
      /SLACK_SIGNING_SECRET is missing/,
    );
    expect(loadConfig({ ...env, SLACK_SIGNING_SECRET: undefined }, { mode: 'worker' }).mode).toBe('worker');
  });

  it('refuses a bad port and a bad Redis URL by name', () => {
    const lines = problems(() => loadConfig({ ...env, PORT: 'eighty', REDIS_URL: 'localhost:6379' }));
    expect(lines.join('\n')).toMatch(/PORT: /);
    expect(lines.join('\n')).toMatch(/REDIS_URL: must be a redis:\/\//);
  });

  it('says how to create rollback.yml when it is missing', () => {
    expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: join(dir, 'nope.yml') }))[0]).toMatch(
      /not found: copy rollback.example.yml/,
    );
  });

  it('refuses an unknown kind with the file, the path and the known kinds', () => {
    const path = file(
      'kind.yml',
      'incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  cdn:\n    kind: fastlyy\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n',
    );
    expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
      `${path}: targets.cdn.kind: unknown kind "fastlyy"; known kinds: fastly, helm, kubernetes`,
    ]);
  });

  it('refuses a missing serviceId with the path', () => {
    const path = file(
      'missing.yml',
      'incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  cdn:\n    kind: fastly\n',
    );
    expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))[0]).toBe(
      `${path}: targets.cdn.serviceId: is required: the Fastly service ID (Fastly UI, or \`fastly service list\`)`,
    );
  });

  it('refuses a target named twice with the line of each, and any other key set twice with its path', () => {
    const path = file(
      'dup.yml',
      'incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eZ\n',
    );
    expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
      `${path} line 7: target "cdn" is named twice (first on line 4)`,
    ]);
    const twice = file(
      'dup-key.yml',
      'incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n    serviceId: SU1Z0isxPaozGVKXdv0eZ\napprovers: [U2APPROVER]\n',
    );
    expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: twice }))).toEqual([
      `${twice} line 7: targets.cdn.serviceId is set twice (first on line 6)`,
      `${twice} line 8: approvers is set twice (first on line 2)`,
    ]);
  });

  it("refuses a target named after one of /rollback's own words, saying it is reserved and which words are", () => {
    const named = (name: string) =>
      file(
        `target-${name.replace(/\W/g, '_')}.yml`,
        `incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  ${name}:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n`,
      );
    for (const name of RESERVED_TARGET_NAMES) {
      const path = named(name);
      expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
        `${path}: targets.${name}: "${name}" is a reserved word (/rollback ${name}); reserved: help, list, targets, status, history, freeze, unfreeze, gate`,
      ]);
    }
  });

  it('refuses a target name that is not lower-case letters, digits, ".", "_" and "-", suggesting one that is', () => {
    const named = (name: string) =>
      file(
        `target-${name.replace(/\W/g, '_')}.yml`,
        `incidentChannel: C1INC\napprovers: [U1APPROVER]\ntargets:\n  ${name}:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n`,
      );
    const cases = [
      ['CDN', 'target names are lower-case letters, digits, ".", "_" and "-" (e.g. cdn)'],
      ['"My CDN"', 'target names are lower-case letters, digits, ".", "_" and "-" (e.g. my-cdn)', 'My CDN'],
      ['STATUS', 'target names are lower-case letters, digits, ".", "_" and "-"'],
      [`a${'b'.repeat(63)}`, `target names are at most 63 characters (e.g. a${'b'.repeat(62)})`],
    ];
    for (const [written, message, name = written] of cases) {
      const path = named(written ?? '');
      expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
        `${path}: targets.${name}: ${message}`,
      ]);
    }
  });

  it('refuses a bad duration and bad approver ids', () => {
    const path = file(
      'ttl.yml',
      'incidentChannel: C1INC\napprovers: [bob]\nrequestTtl: soon\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n',
    );
    const lines = problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path })).join('\n');
    expect(lines).toMatch(/approvers.0: must be a Slack user ID/);
    expect(lines).toMatch(/requestTtl: "soon" is not a duration/);
  });

  it("reads a target's own approvers and allowSelfApproval, kept from its driver's settings; refuses bad ones", () => {
    const path = file(
      'per-target.yml',
      `incidentChannel: C1INC
approvers: [U0123APPROVER]
targets:
  cdn:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eY
    approvers: [S0PAY, U0PAY]
    allowSelfApproval: true
  www:
    kind: fastly
    serviceId: SU1Z0isxPaozGVKXdv0eZ
`,
    );
    const [cdn, www] = loadConfig({ ...env, ROLLBACK_CONFIG: path }).targets;
    expect(cdn).toMatchObject({ approval: { approvers: ['S0PAY', 'U0PAY'], allowSelfApproval: true } });
    expect(cdn?.settings).toEqual({ kind: 'fastly', serviceId: 'SU1Z0isxPaozGVKXdv0eY' });
    expect(www?.approval).toBeUndefined();

    const bad = file(
      'per-target-bad.yml',
      'incidentChannel: C1INC\napprovers: [U1APP]\ntargets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n    approvers: [bob]\n    allowSelfApproval: maybe\n',
    );
    const lines = problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: bad })).join('\n');
    expect(lines).toMatch(/targets\.cdn\.approvers\.0: must be a Slack user ID/);
    expect(lines).toMatch(/targets\.cdn\.allowSelfApproval/);
  });

  it('asks for FASTLY_API_TOKEN when a Fastly target exists', () => {
    expect(problems(() => loadConfig({ ...env, FASTLY_API_TOKEN: undefined }))[0]).toMatch(
      /^FASTLY_API_TOKEN is missing/,
    );
  });

  const example = readFileSync(fileURLToPath(new URL('../../rollback.example.yml', import.meta.url)), 'utf8');

  it('loads rollback.example.yml as shipped with exactly the Fastly target live (no cluster needed)', () => {
    const config = loadConfig({ ...env, ROLLBACK_CONFIG: file('example.yml', example) });
    expect(config.targets.map((t) => [t.name, t.kind])).toEqual([['cdn', 'fastly']]);
  });

  it('loads the Helm and Kubernetes targets of rollback.example.yml once a Kubernetes user uncomments them', () => {
    // What the example asks for: one "# " removed from each line of the api and web blocks at its end.
    const lines = example.split('\n');
    const from = lines.findIndex((line) => line.startsWith('  # # /rollback api:'));
    expect(from).toBeGreaterThan(0);
    const uncommented = [...lines.slice(0, from), ...lines.slice(from).map((line) => line.replace(/^ {2}# ?/, '  '))];
    const config = loadConfig({ ...env, ROLLBACK_CONFIG: file('example-kube.yml', uncommented.join('\n')) });
    expect(config.targets.map((t) => [t.name, t.kind])).toEqual([
      ['cdn', 'fastly'],
      ['api', 'helm'],
      ['web', 'kubernetes'],
    ]);
    expect(config.targets[1]?.settings).toMatchObject({
      timeout: 300_000,
      verify: { prometheus: { below: 0.001, within: 120_000 } },
    });
  });

  describe('gitops', () => {
    const kube = (top: string, targets: string) =>
      file(
        'gitops.yml',
        `incidentChannel: C1INC\napprovers: [U1APP]\n${top}targets:\n  web:\n    kind: kubernetes\n    namespace: prod\n    deployment: web\n${targets}`,
      );
    const gitopsOf = (path: string, name = 'web') =>
      loadConfig({ ...env, ROLLBACK_CONFIG: path }).targets.find((t) => t.name === name)?.settings.gitops;

    it('defaults to no suspension and Argo CD in argocd', () => {
      expect(gitopsOf(kube('', ''))).toEqual({ suspend: false, argocd: { namespace: 'argocd' } });
    });

    it("takes the global block for Helm and Kubernetes targets, a target's own block winning field by field", () => {
      const path = kube(
        'gitops:\n  suspend: true\n  argocd: { namespace: gitops }\n',
        '    gitops: { argocd: { namespace: team-a } }\n  api:\n    kind: helm\n    release: app\n    namespace: prod\n    gitops: { suspend: false }\n',
      );
      expect(gitopsOf(path)).toEqual({ suspend: true, argocd: { namespace: 'team-a' } });
      expect(gitopsOf(path, 'api')).toEqual({ suspend: false, argocd: { namespace: 'gitops' } });
    });

    it('refuses a wrong global or target block with its path and what it should be', () => {
      const path = kube(
        'gitops:\n  suspend: yes please\n  prune: true\n',
        '    gitops: { argocd: { namespace: Argo } }\n',
      );
      expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
        `${path}: gitops.suspend: must be true or false: whether a rollback suspends the GitOps controller first`,
        `${path}: gitops: Unrecognized key: "prune"`,
        `${path}: targets.web.gitops.argocd.namespace: must be a Kubernetes name: lower-case letters, digits and "-", at most 63`,
      ]);
    });

    it('refuses gitops on a Fastly target, saying which kinds take it; the global block leaves Fastly targets alone', () => {
      const withCdn = (top: string, own: string) =>
        file(
          'gitops-cdn.yml',
          `incidentChannel: C1INC\napprovers: [U1APP]\n${top}targets:\n  cdn:\n    kind: fastly\n    serviceId: SU1Z0isxPaozGVKXdv0eY\n${own}`,
        );
      const path = withCdn('', '    gitops: { suspend: true }\n');
      expect(problems(() => loadConfig({ ...env, ROLLBACK_CONFIG: path }))).toEqual([
        `${path}: targets.cdn.gitops: applies only to Helm release and Kubernetes Deployment targets (kind helm or kubernetes), and cdn is kind fastly: remove it`,
      ]);
      const global = withCdn('gitops: { suspend: true }\n', '');
      expect(loadConfig({ ...env, ROLLBACK_CONFIG: global }).targets[0]?.settings).toEqual({
        kind: 'fastly',
        serviceId: 'SU1Z0isxPaozGVKXdv0eY',
      });
    });
  });
});
