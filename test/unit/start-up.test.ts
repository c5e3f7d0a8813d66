import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../../src/config/start-up.js';

describe('start-up', () => {
  it('refuses a Node older than 20.12 (process.loadEnvFile reads .env) and says what to do', () => {
    expect(nodeVersionProblem('20.11.1')).toBe(
      'rapid-rollback needs Node 20.12 or newer (it reads .env with process.loadEnvFile); this is Node 20.11.1: install a current Node 20 or 22 LTS.',
    );
    expect(nodeVersionProblem('18.20.4')).toMatch(/this is Node 18\.20\.4/);
    for (const fine of ['20.12.0', '20.19.5', '21.7.0', '22.11.0', '24.0.0'])
      expect(nodeVersionProblem(fine)).toBeUndefined();
  });
});
