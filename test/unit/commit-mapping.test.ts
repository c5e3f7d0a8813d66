import { describe, expect, it } from 'vitest';
import type { VersionInfo } from '../../src/core/types.js';
import { commitFor, mappingSource } from '../../src/git/commit-mapping.js';
import { cacheNameFor, mergeRequestUrlFor } from '../../src/git/remote.js';
import { type GitSettings, gitSettingsSchema } from '../../src/git/schema.js';

function version(meta: Record<string, string>): VersionInfo {
  return { id: '41', label: 'v41', meta };
}

function settings(extra: Record<string, unknown> = {}): GitSettings {
  return gitSettingsSchema.parse({ repo: 'git@github.com:acme/cdn-config.git', ...extra });
}

describe('commitFor', () => {
  it('reads the Fastly version comment by default and finds the sha in it, lower-cased', () => {
    expect(commitFor(version({ comment: 'Deploy ABC1234 by ci (pipeline 88123)' }), settings())).toBe('abc1234');
    expect(commitFor(version({ comment: 'deploy 3f9c2e1d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e' }), settings())).toBe(
      '3f9c2e1d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
    );
  });

  it('finds the sha in a Helm appVersion with build metadata, a sha- prefix or git describe', () => {
    const from = settings({ commitFrom: 'appVersion' });
    expect(commitFor(version({ appVersion: '1.4.2+abc1234' }), from)).toBe('abc1234');
    expect(commitFor(version({ appVersion: 'sha-abc1234' }), from)).toBe('abc1234');
    expect(commitFor(version({ appVersion: 'v1.4.2-3-gabc1234' }), from)).toBe('abc1234');
  });

  it('returns undefined for a plain semver appVersion: no hex word of 7 or more', () => {
    expect(commitFor(version({ appVersion: '1.4.2' }), settings({ commitFrom: 'appVersion' }))).toBeUndefined();
  });

  it('prefers a sha over a date or an English word that is also hex', () => {
    expect(commitFor(version({ comment: 'deploy 20260517 abc1234' }), settings())).toBe('abc1234');
    expect(commitFor(version({ comment: 'defaced header fixed in 9f8e7d6' }), settings())).toBe('9f8e7d6');
    // an abbreviated sha can be all digits: taken when nothing better is there
    expect(commitFor(version({ comment: 'deploy 1234567' }), settings())).toBe('1234567');
  });

  it('does not take hex inside a longer word or a 64-character digest', () => {
    expect(commitFor(version({ comment: `image xabc1234y sha256:${'a1'.repeat(32)}` }), settings())).toBeUndefined();
  });

  it('reads labels and annotations by key', () => {
    const meta = { 'label:app.kubernetes.io/version': 'abc1234', 'annotation:deploy/commit': 'commit=def5678' };
    expect(commitFor(version(meta), settings({ commitFrom: 'label:app.kubernetes.io/version' }))).toBe('abc1234');
    expect(commitFor(version(meta), settings({ commitFrom: 'annotation:deploy/commit' }))).toBe('def5678');
  });

  it('applies a custom pattern and takes its capture group', () => {
    const custom = settings({ pattern: 'commit=([0-9a-fA-F]+)' });
    expect(commitFor(version({ comment: 'build 1234567 commit=ABCDEF0' }), custom)).toBe('abcdef0');
    expect(commitFor(version({ comment: 'build 1234567' }), custom)).toBeUndefined();
  });

  it('never hands git something that is not a sha, whatever a custom pattern captures', () => {
    expect(
      commitFor(version({ comment: 'ref=--upload-pack=evil' }), settings({ pattern: 'ref=(\\S+)' })),
    ).toBeUndefined();
    expect(commitFor(version({ comment: 'ref=HEAD~1' }), settings({ pattern: 'ref=(\\S+)' }))).toBeUndefined();
  });

  it('returns undefined when the field is missing or empty, and says where it looked', () => {
    expect(commitFor({ id: '41', label: 'v41' }, settings())).toBeUndefined();
    expect(commitFor(version({ comment: '' }), settings())).toBeUndefined();
    expect(mappingSource(version({ appVersion: '1.4.2' }), settings({ commitFrom: 'appVersion' }))).toEqual({
      field: 'appVersion',
      value: '1.4.2',
    });
  });
});

describe('gitSettingsSchema', () => {
  it('defaults branch, commitFrom and autoRevert', () => {
    expect(settings()).toEqual({
      repo: 'git@github.com:acme/cdn-config.git',
      branch: 'main',
      commitFrom: 'comment',
      autoRevert: false,
    });
  });

  it('accepts ssh, https and absolute paths; refuses credentials in the URL, http and options', () => {
    for (const repo of [
      'ssh://git@github.com/acme/x.git',
      'https://gitlab.com/acme/x.git',
      '/srv/git/x.git',
      'file:///srv/git/x.git',
    ]) {
      expect(gitSettingsSchema.safeParse({ repo }).success, repo).toBe(true);
    }
    for (const repo of [
      'https://me:tok@github.com/acme/x.git',
      'http://github.com/acme/x.git',
      '--upload-pack=x',
      'ext::sh -c x',
      'relative/path',
    ]) {
      expect(gitSettingsSchema.safeParse({ repo }).success, repo).toBe(false);
    }
  });

  it('checks the pattern compiles with exactly one capture group, and the field and branch names', () => {
    expect(gitSettingsSchema.safeParse({ repo: '/r', pattern: '(' }).success).toBe(false);
    expect(gitSettingsSchema.safeParse({ repo: '/r', pattern: '(a)(b)' }).success).toBe(false);
    expect(gitSettingsSchema.safeParse({ repo: '/r', pattern: '(?:x)([0-9a-f]+)' }).success).toBe(true);
    expect(gitSettingsSchema.safeParse({ repo: '/r', commitFrom: 'chartVersion' }).success).toBe(false);
    expect(gitSettingsSchema.safeParse({ repo: '/r', branch: 'main..x' }).success).toBe(false);
    expect(gitSettingsSchema.safeParse({ repo: '/r', branch: '-x' }).success).toBe(false);
    expect(gitSettingsSchema.safeParse({ repo: '/r', branch: 'release/2026' }).success).toBe(true);
  });
});

describe('remote helpers', () => {
  it('links to a GitHub compare page and a GitLab new merge request', () => {
    expect(mergeRequestUrlFor('git@github.com:acme/cdn-config.git', 'main', 'rollback/cdn-rb-1')).toBe(
      'https://github.com/acme/cdn-config/compare/main...rollback/cdn-rb-1?expand=1',
    );
    expect(mergeRequestUrlFor('https://gitlab.com/acme/infra/cdn.git', 'main', 'rollback/cdn-rb-1')).toBe(
      'https://gitlab.com/acme/infra/cdn/-/merge_requests/new?merge_request[source_branch]=rollback%2Fcdn-rb-1&merge_request[target_branch]=main',
    );
    expect(mergeRequestUrlFor('/srv/git/cdn.git', 'main', 'rollback/cdn-rb-1')).toBeUndefined();
  });

  it('names cached clones readably and distinctly', () => {
    expect(cacheNameFor('git@github.com:acme/cdn-config.git')).toMatch(/^github\.com-acme-cdn-config-[0-9a-f]{10}$/);
    expect(cacheNameFor('https://github.com/acme/cdn-config.git')).not.toBe(
      cacheNameFor('git@github.com:acme/cdn-config.git'),
    );
  });
});
