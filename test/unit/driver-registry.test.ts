import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { drivers } from '../../src/drivers/registry.js';

const driversDir = fileURLToPath(new URL('../../src/drivers/', import.meta.url));

describe('driver registry', () => {
  it('registers every provider folder, once, under its folder name', () => {
    const folders = readdirSync(driversDir).filter((name) => statSync(`${driversDir}/${name}`).isDirectory());
    expect(drivers.map((d) => d.kind).sort()).toEqual(folders.sort());
    expect(new Set(drivers.map((d) => d.kind)).size).toBe(drivers.length);
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
      // The implementation carries the descriptor it was loaded from, not another provider's.
      expect((factory as Partial<typeof driver>).kind, driver.kind).toBe(driver.kind);
    }
  });
});
