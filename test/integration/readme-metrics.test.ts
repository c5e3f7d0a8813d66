import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type Harness, startHarness } from '../support/harness.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = README.indexOf('### Health and metrics');
const section = README.slice(start, README.indexOf('\n### ', start + 1));

/** The metric names README's table documents (its first column). */
const documented = [...section.matchAll(/^\| `([a-z_]+)` \| `/gm)].map((m) => m[1] as string);
/** README's example alert rules, as written. */
const rules = /Alert rules to start from[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rr-alert-rules-'));
  writeFileSync(join(dir, 'rules.yml'), rules);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's metrics and alert rules", () => {
  let h: Harness;
  afterAll(async () => h?.close());

  it('documents exactly the metrics the bot serves (beside the default process metrics)', async () => {
    h = await startHarness();
    const text = await (await fetch(`http://127.0.0.1:${h.running.port}/metrics`)).text();
    const served = [...text.matchAll(/^# HELP ([a-z_]+) /gm)].map((m) => m[1] as string);
    const own = served.filter((name) => !/^(process|nodejs)_/.test(name));
    expect(documented.sort()).toEqual(own.sort());
  });

  it('are valid rules that name only served metrics (promtool check rules)', async () => {
    expect(rules).toContain('alert: RollbackFailed');
    const { stdout } = await run('promtool', ['check', 'rules', join(dir, 'rules.yml')]);
    expect(stdout).toContain('SUCCESS: 3 rules found');
    const names = new Set([...rules.matchAll(/\b([a-z_]+)\{/g)].map((m) => m[1]));
    for (const name of names) expect([...documented, 'up']).toContain(name);
  });

  it('page on a failed rollback and a bot Prometheus cannot scrape, not on a good rollback (promtool test rules)', async () => {
    const test = {
      rule_files: [join(dir, 'rules.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'rollbacks_total{target="cdn",kind="fastly",outcome="failed"}', values: '0 0 1 1 1' },
            { series: 'rollbacks_total{target="api",kind="helm",outcome="succeeded"}', values: '0 1 2 2 2' },
            { series: 'up{job="rapid-rollback",instance="bot:3000"}', values: '1 0 0 0 0' },
          ],
          alert_rule_test: [
            {
              eval_time: '3m',
              alertname: 'RollbackFailed',
              exp_alerts: [
                {
                  exp_labels: { severity: 'page', target: 'cdn', kind: 'fastly', outcome: 'failed' },
                  exp_annotations: {
                    summary: 'A rollback of cdn failed: its Slack thread says what to check by hand',
                  },
                },
              ],
            },
            {
              eval_time: '4m',
              alertname: 'RollbackBotNotReady',
              exp_alerts: [
                {
                  exp_labels: { severity: 'page', job: 'rapid-rollback', instance: 'bot:3000' },
                  exp_annotations: {
                    summary:
                      'rapid-rollback at bot:3000 cannot be scraped: /rollback may not answer (GET /readyz says why)',
                  },
                },
              ],
            },
            { eval_time: '1m', alertname: 'RollbackBotNotReady', exp_alerts: [] },
            { eval_time: '4m', alertname: 'RollbackSlackRateLimited', exp_alerts: [] },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'rules.test.yml'), stringify(test));
    const { stdout } = await run('promtool', ['test', 'rules', join(dir, 'rules.test.yml')]);
    expect(stdout).toContain('SUCCESS');
  });
});
