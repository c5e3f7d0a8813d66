import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { drivers } from '../../src/drivers/registry.js';

const driversDir = fileURLToPath(new URL('../../src/drivers/', import.meta.url));

/** Code several providers share (Kubernetes access, retries): folders that are not providers, and say so here. */
const SHARED_FOLDERS = ['kube-access', 'shared'];

describe('driver registry', () => {
  it('registers every provider folder, once, under its folder name', () => {
    const folders = readdirSync(driversDir).filter((name) => statSync(`${driversDir}/${name}`).isDirectory());
    const providers = folders.filter((name) => !SHARED_FOLDERS.includes(name));
    expect(drivers.map((d) => d.kind).sort()).toEqual(providers.sort());
    expect(new Set(drivers.map((d) => d.kind)).size).toBe(drivers.length);
  });

  it('keeps shared folders free of provider parts', () => {
    for (const name of SHARED_FOLDERS) {
      const files = readdirSync(`${driversDir}/${name}`);
      expect(files, name).not.toContain('descriptor.ts');
      expect(files, name).not.toContain('index.ts');
    }
  });

  it('gives each provider a target schema that names its kind', () => {
    for (const driver of drivers) {
      const result = driver.targetSchema.safeParse({ kind: 'not-this-kind' });
      expect(result.success, driver.kind).toBe(false);
    }
  });

  it("loads each provider's own implementation on demand", async () => {
    for (const driver of drivers) {
      const factory = await driver.load();
      expect(typeof factory.create, driver.kind).toBe('function');
      // The implementation is the one of the descriptor it was loaded from, not another provider's.
      expect(factory.kind, driver.kind).toBe(driver.kind);
    }
  });
});
