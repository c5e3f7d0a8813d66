import { afterEach, describe, expect, it } from 'vitest';
import { RollbackError } from '../../src/core/errors.js';
import { fastlyDriver } from '../../src/drivers/fastly/index.js';
import { fastlyTargetSchema } from '../../src/drivers/fastly/target-schema.js';
import { helmDriver } from '../../src/drivers/helm/index.js';
import { helmTargetSchema } from '../../src/drivers/helm/target-schema.js';
import { KubeApi, loadKubeConfig } from '../../src/drivers/kube-access/kube-api.js';
import { kubernetesDriver } from '../../src/drivers/kubernetes/index.js';
import { kubernetesTargetSchema } from '../../src/drivers/kubernetes/target-schema.js';
import { silentLogger } from '../../src/log.js';
import { UNFREEZE_APPROVE_ACTION } from '../../src/slack/blocks/freeze-blocks.js';
import { GITOPS_RESUME_ACTION } from '../../src/slack/thread-notes.js';
import { context } from '../support/driver-conformance.js';
import { FastlySimulator } from '../support/fastly-simulator.js';
import {
  appRelease,
  CDN_SERVICE,
  CHANNELS,
  type Harness,
  PEOPLE,
  SIGNING_SECRET,
  startHarness,
  webDeployment,
} from '../support/harness.js';
import { type KubeObject, KubeSimulator } from '../support/kube-simulator/index.js';
import { blockAction, sendToApp } from '../support/slack-payloads.js';
import { type SimMessage, textOf } from '../support/slack-simulator.js';
import { waitUntil } from '../support/wait.js';

/**
 * Targets that Argo CD or Flux manage, through Slack: the plan says who manages them and whether it would put the
 * old version back; without gitops.suspend the controller does and the drift watch says so; with it, the controller
 * is suspended right before the change and an approver puts exactly that back once the freeze ends. Real Redis, the
 * Kubernetes simulator's GitOps reconciler, the real helm binary.
 */

let h: Harness;
let open: Harness | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function start(options: Parameters<typeof startHarness>[0]): Promise<Harness> {
  h = await startHarness(options);
  open = h;
  return h;
}

const AUTOMATED = { prune: true, selfHeal: true };

function deploymentOf(name: string, image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } },
    },
  };
}

const image = (name: string): string | undefined =>
  h.kube?.deployment('prod', name)?.spec.template.spec.containers[0].image;

async function gitOpsPasses(n: number): Promise<void> {
  const kube = h.kube!;
  const target = kube.gitOpsPasses + n;
  await waitUntil(`${n} GitOps passes`, () => kube.gitOpsPasses >= target);
}

async function requestOf(text: string) {
  expect((await h.command(text)).status).toBe(200);
  return h.awaitRequest();
}

/** Approves a planned rollback and waits for its outcome in the incident thread. */
async function approveAndFinish(request: { id: string; channel: string; ts: string }, target: string) {
  await h.click('approve', request, PEOPLE.approver);
  const notice = await h.slack.waitFor(
    (sim) => sim.messages(CHANNELS.incident).find((m) => !m.threadTs && m.text?.startsWith(`Rolling back ${target}`)),
    10_000,
  );
  await h.slack.waitFor(
    (sim) =>
      sim.thread(CHANNELS.incident, notice.ts).some((m) => new RegExp(`\\*${target} is back on`).test(textOf(m))),
    60_000,
  );
  expect(await h.jobEnded(request.id, 30_000)).toBe('completed');
  return notice;
}

const threadText = (notice: SimMessage): string => h.slack.thread(CHANNELS.incident, notice.ts).map(textOf).join('\n');

async function click(actionId: string, value: string, message: { channel: string; ts: string }, user: string) {
  const body = blockAction({
    actionId,
    value,
    userId: user,
    channelId: message.channel,
    messageTs: message.ts,
    responseUrl: h.slack.newResponseUrl({ channel: message.channel, messageTs: message.ts, userId: user }),
  });
  expect((await sendToApp(h.eventsUrl, body, { signingSecret: SIGNING_SECRET })).status).toBe(200);
}

/** `/rollback unfreeze <target>` by the requester, approved by the approver; waits for the lifted freeze. */
async function unfreeze(target: string, notice: SimMessage): Promise<void> {
  await h.command(`unfreeze ${target} fixed forward in git`);
  const request = await h.slack.waitFor((sim) =>
    [...sim.messages(CHANNELS.command)].reverse().find((m) => textOf(m).includes(`Unfreeze requested: ${target}`)),
  );
  const id = /`(uf-[a-z0-9-]+)`/.exec(textOf(request))?.[1];
  if (!id) throw new Error(`no unfreeze id in: ${textOf(request)}`);
  await click(UNFREEZE_APPROVE_ACTION, id, { channel: CHANNELS.command, ts: request.ts }, PEOPLE.approver);
  await h.slack.waitFor(() => threadText(notice).includes(`🔓 ${target} is no longer frozen`), 10_000);
}

/** The Resume offer in the rollback's thread, clicked by `user`. */
async function clickResume(notice: SimMessage, rollbackId: string, user: string): Promise<SimMessage> {
  const offer = await h.slack.waitFor(
    (sim) => sim.thread(CHANNELS.incident, notice.ts).find((m) => /Put it back now that/.test(textOf(m))),
    10_000,
  );
  await click(GITOPS_RESUME_ACTION, rollbackId, offer, user);
  return offer;
}

/** The request's record in Redis: its timeline entries of one kind. */
async function recorded(id: string, kind: string): Promise<Array<{ kind: string; text?: string }>> {
  return (await h.redis.lrange(`${h.prefix}:timeline:${id}`, 0, -1))
    .map((line) => JSON.parse(line) as { kind: string; text?: string })
    .filter((e) => e.kind === kind);
}

describe('a Deployment under Argo CD automated sync', () => {
  it('without gitops.suspend: the plan warns, Argo CD puts the old revision back, the drift watch says so once, naming Argo CD', async () => {
    await start({ kube: {}, driftCheckEvery: '1s' });
    const kube = h.kube!;
    kube.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    kube.manageDeployment('prod', 'web', { kind: 'Application', name: 'web' });
    // The test decides when Argo CD next reconciles: after the rollback is verified.
    kube.setGitOpsInterval(3_600_000);

    const request = await requestOf('web bad image');
    const plan = textOf(request.message);
    expect(plan).toContain('Managed by Argo CD application web (namespace argocd): automated sync with self-heal.');
    expect(plan).toContain('⚠️ Argo CD will put revision 2 back within about 3 minutes.');
    expect(plan).toContain('Set `gitops: { suspend: true }` for web to suspend it during the rollback');
    expect(plan).not.toContain('Suspend Argo CD');

    const notice = await approveAndFinish(request, 'web');
    expect(image('web')).toBe('registry/web:1.0.0');
    expect(threadText(notice)).not.toContain('Suspended');

    expect(kube.reconcileNow().reverted).toEqual([{ deployment: 'prod/web', manager: 'argocd-controller' }]);
    expect(image('web')).toBe('registry/web:1.1.0');
    const warning =
      /⚠️ web moved from revision 1 to revision 4 at \d\d:\d\d UTC — the version rolled back from is live again \(by Argo CD \(application web\), Update at \d\d:\d\d UTC\)\. web stays frozen\./;
    const inThread = () => h.slack.thread(CHANNELS.incident, notice.ts).filter((m) => warning.test(textOf(m)));
    const inChannel = () => h.slack.messages(CHANNELS.incident).filter((m) => !m.threadTs && warning.test(textOf(m)));
    await waitUntil(
      'the drift warning in the thread and the channel',
      () => inThread().length + inChannel().length >= 2,
    );
    expect(textOf(inChannel()[0]!)).toContain(`(rollback ${request.id})`);

    // Three more checks read it again: nothing more is said about the same move.
    const reads = () => kube.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/prod/replicasets')).length;
    const before = reads();
    await waitUntil('three more drift checks', () => reads() >= before + 3, 15_000);
    expect(inThread()).toHaveLength(1);
    expect(inChannel()).toHaveLength(1);
  });

  it('with gitops.suspend: automated sync is removed and kept, the rollback holds, an approver puts exactly it back once', async () => {
    await start({
      kube: {},
      extraTargets: [
        '  store:',
        '    kind: kubernetes',
        '    namespace: prod',
        '    deployment: store',
        '    timeout: 60s',
        '    gitops: { suspend: true }',
      ].join('\n'),
    });
    const kube = h.kube!;
    kube.applyDeployment('prod', deploymentOf('store', 'registry/store:1.0.0'));
    kube.applyDeployment('prod', deploymentOf('store', 'registry/store:1.1.0'));
    kube.seedArgoApplication({ name: 'store', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    kube.manageDeployment('prod', 'store', { kind: 'Application', name: 'store' });

    const request = await requestOf('store bad image');
    const plan = textOf(request.message);
    expect(plan).toContain(
      'Managed by Argo CD application store (namespace argocd): automated sync with self-heal; the rollback suspends it first (gitops.suspend).',
    );
    expect(plan).toContain(
      '2. Suspend Argo CD application store (namespace argocd): remove its automated sync (the removed value is kept in the record)',
    );
    expect(plan).not.toContain('⚠️');

    const notice = await approveAndFinish(request, 'store');
    expect(threadText(notice)).toContain(
      '✅ Suspended Argo CD application store (namespace argocd): automated sync removed (was {"prune":true,"selfHeal":true})',
    );
    expect(await recorded(request.id, 'gitops')).toEqual([
      expect.objectContaining({
        text: 'suspended Argo CD application store (namespace argocd): automated sync removed (was {"prune":true,"selfHeal":true})',
      }),
    ]);
    const application = () => kube.customResource('applications', 'argocd', 'store')!;
    expect(application().spec.syncPolicy?.automated).toBeUndefined();

    await gitOpsPasses(4);
    expect(image('store')).toBe('registry/store:1.0.0');
    expect(kube.deploymentTemplateChanges('prod', 'store')).toBe(2);

    await unfreeze('store', notice);
    const offer = await clickResume(notice, request.id, PEOPLE.approver);
    expect(textOf(offer)).toContain('Resume Argo CD application store (namespace argocd)');
    const resumed =
      '▶️ Argo CD application store (namespace argocd) resumed by <@UAPP>: automated sync put back ({"prune":true,"selfHeal":true}); Argo CD deploys what git says again';
    await h.slack.waitFor(() => threadText(notice).includes(resumed), 10_000);
    expect(application().spec.syncPolicy.automated).toStrictEqual(AUTOMATED);

    // A second click is refused, to the clicker only, and changes nothing.
    const seen = h.privateTo(PEOPLE.groupMember).length;
    await click(GITOPS_RESUME_ACTION, request.id, offer, PEOPLE.groupMember);
    const refusal = await h.slack.waitFor(() =>
      h
        .privateTo(PEOPLE.groupMember)
        .slice(seen)
        .find((t) => t.startsWith('❌')),
    );
    expect(refusal).toBe('❌ Argo CD application store (namespace argocd) was already resumed by <@UAPP>.');
    expect(threadText(notice).split(resumed)).toHaveLength(2);

    // Argo CD is back in charge: with self-heal it deploys what git says.
    await waitUntil('Argo CD to deploy git again', () => image('store') === 'registry/store:1.1.0');
  });
});

describe('a Helm release under a Flux HelmRelease', () => {
  it('with gitops.suspend: spec.suspend is set, the rollback holds, resuming puts back exactly the previous value', async () => {
    await start({
      kube: {},
      extraTargets: [
        '  shop:',
        '    kind: helm',
        '    release: shop',
        '    namespace: prod',
        '    timeout: 60s',
        '    gitops: { suspend: true }',
      ].join('\n'),
    });
    const kube = h.kube!;
    kube.seedHelmRelease({
      name: 'shop',
      namespace: 'prod',
      chart: { name: 'shop', version: '1.0.0', appVersion: '1.0.0' },
      revisions: [
        { image: 'registry/shop:1.0.0', appVersion: '1.0.0', chartVersion: '1.0.0', status: 'superseded' },
        { image: 'registry/shop:1.1.0', appVersion: '1.1.0', chartVersion: '1.1.0', status: 'deployed' },
      ],
    });
    kube.seedFluxHelmRelease({ name: 'shop', targetNamespace: 'prod' });
    kube.manageDeployment('prod', 'shop', { kind: 'HelmRelease', name: 'shop' });
    const helmRelease = () => kube.customResource('helmreleases', 'flux-system', 'shop')!;
    expect(helmRelease().spec).not.toHaveProperty('suspend');

    const request = await requestOf('shop bad chart');
    const plan = textOf(request.message);
    expect(plan).toContain(
      'Managed by Flux HelmRelease shop (namespace flux-system): not suspended, reconciling every 10m; the rollback suspends it first (gitops.suspend).',
    );
    expect(plan).toContain(
      '2. Suspend Flux HelmRelease shop (namespace flux-system): set spec.suspend to true, as flux suspend does (its previous value is kept in the record)',
    );

    const notice = await approveAndFinish(request, 'shop');
    expect(threadText(notice)).toContain(
      '✅ Suspended Flux HelmRelease shop (namespace flux-system): spec.suspend set to true, as flux suspend does (was unset)',
    );
    expect(helmRelease().spec.suspend).toBe(true);
    await gitOpsPasses(4);
    expect(image('shop')).toBe('registry/shop:1.0.0');

    await unfreeze('shop', notice);
    await clickResume(notice, request.id, PEOPLE.approver);
    await h.slack.waitFor(
      () =>
        threadText(notice).includes(
          '▶️ Flux HelmRelease shop (namespace flux-system) resumed by <@UAPP>: spec.suspend unset again, as before the rollback; Flux reconciles it again',
        ),
      10_000,
    );
    expect(helmRelease().spec).not.toHaveProperty('suspend');
    // helm-controller corrects drift again: git's chart is back.
    await waitUntil('helm-controller to correct the drift', () => image('shop') === 'registry/shop:1.1.0');
  });
});

describe('GitOps detection (the Kubernetes driver on the simulator)', () => {
  let sim: KubeSimulator;
  afterEach(async () => {
    await sim?.close();
  });

  async function cluster(): Promise<{
    build: (gitops?: object) => ReturnType<typeof kubernetesDriver.create>;
    api: KubeApi;
  }> {
    sim = await KubeSimulator.start({ readyDelayMs: 20 });
    sim.applyDeployment('prod', webDeployment('registry/web:1.0.0'));
    sim.applyDeployment('prod', webDeployment('registry/web:1.1.0'));
    const kubeconfig = sim.writeKubeconfig();
    return {
      api: new KubeApi(loadKubeConfig(undefined, kubeconfig), { log: silentLogger() }),
      build: (gitops = {}) =>
        kubernetesDriver.create(
          'web',
          kubernetesTargetSchema.parse({ kind: 'kubernetes', namespace: 'prod', deployment: 'web', gitops }),
          { kubeconfig },
          silentLogger(),
        ),
    };
  }

  const mark = (edit: (metadata: KubeObject) => void) =>
    sim.editDeployment('prod', 'web', (d) => {
      d.metadata.labels ??= {};
      d.metadata.annotations ??= {};
      edit(d.metadata);
    });
  const crdReads = () => sim.requests.filter((r) => r.path.startsWith('/apis/argoproj.io/')).length;
  const patches = () => sim.requests.filter((r) => r.method === 'PATCH').length;
  const gitOpsNotes = (notes: string[]) => notes.filter((n) => !n.startsWith('ReplicaSet '));

  it('says nothing and reads no CRD for a Deployment that names no GitOps controller', async () => {
    const { build } = await cluster();
    const plan = await build().plan(context(), {});
    expect(gitOpsNotes(plan.notes)).toEqual([]);
    expect(crdReads()).toBe(0);
  });

  it('no CRD installed: a tracking annotation is said in a note, and the plan still stands', async () => {
    const { build } = await cluster();
    mark((m) => {
      m.annotations['argocd.argoproj.io/tracking-id'] = 'web:apps/Deployment:prod/web';
    });
    const driver = build({ suspend: true });
    const plan = await driver.plan(context(), {});
    expect(gitOpsNotes(plan.notes)).toEqual([
      'deployment/web is tracked by Argo CD application web (namespace argocd), but this cluster serves no applications.argoproj.io: the controller may run in another cluster, so whether it would put revision 2 back is not known here.',
    ]);
    expect(await driver.suspendGitOps?.(context(), plan)).toBeUndefined();
    expect(patches()).toBe(0);
  });

  it('Application missing: said in a note naming where it looked', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'other', destination: { namespace: 'prod' } });
    mark((m) => {
      m.annotations['argocd.argoproj.io/tracking-id'] = 'web:apps/Deployment:prod/web';
    });
    const plan = await build().plan(context(), {});
    expect(gitOpsNotes(plan.notes)).toEqual([
      'deployment/web is tracked by Argo CD application web (namespace argocd), but there is no such Application (gitops.argocd.namespace says where to look): whether something would put revision 2 back is not known.',
    ]);
  });

  it('label tracking: app.kubernetes.io/instance names the Application; a label naming none (as Helm sets it) is silent', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    mark((m) => {
      m.labels['app.kubernetes.io/instance'] = 'web';
    });
    const plan = await build().plan(context(), {});
    expect(gitOpsNotes(plan.notes)).toEqual([
      'Managed by Argo CD application web (namespace argocd): automated sync with self-heal.',
      expect.stringMatching(/^⚠️ Argo CD will put revision 2 back within about 3 minutes\. /),
    ]);

    mark((m) => {
      m.labels['app.kubernetes.io/instance'] = 'web-release';
    });
    expect(gitOpsNotes((await build().plan(context(), {})).notes)).toEqual([]);
  });

  it('reads the Application in gitops.argocd.namespace, and in the namespace an app id names', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'web', namespace: 'gitops', destination: { namespace: 'prod' } });
    mark((m) => {
      m.annotations['argocd.argoproj.io/tracking-id'] = 'web:apps/Deployment:prod/web';
    });
    expect(gitOpsNotes((await build({ argocd: { namespace: 'gitops' } }).plan(context(), {})).notes)).toEqual([
      'Managed by Argo CD application web (namespace gitops): automated sync off, so it changes nothing until someone syncs it.',
    ]);
    mark((m) => {
      m.annotations['argocd.argoproj.io/tracking-id'] = 'gitops_web:apps/Deployment:prod/web';
    });
    expect(gitOpsNotes((await build().plan(context(), {})).notes)[0]).toMatch(
      /^Managed by Argo CD application web \(namespace gitops\)/,
    );
  });

  it('forbidden: the note names the permission; with gitops.suspend the change does not start', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    sim.manageDeployment('prod', 'web', { kind: 'Application', name: 'web' });
    sim.injectFaults({ count: 100, status: 403, path: /^\/apis\/argoproj\.io\// });
    const driver = build({ suspend: true });
    const plan = await driver.plan(context(), {});
    expect(gitOpsNotes(plan.notes)).toEqual([
      expect.stringMatching(
        /^Could not read Argo CD application web \(namespace argocd\): the bot's Kubernetes identity needs get and patch on applications\.argoproj\.io to tell whether it would put revision 2 back and to suspend it; the rollback stops before the change if it still cannot \(Kubernetes refused read applications\.argoproj\.io argocd\/web \(HTTP 403: /,
      ),
    ]);
    const error = await driver.suspendGitOps!(context(), plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackError);
    expect((error as RollbackError).code).toBe('PROVIDER_AUTH');
    expect((error as RollbackError).hint).toContain('get and patch on applications.argoproj.io');
    expect(patches()).toBe(0);
  });

  it('Flux: a Kustomization that is not suspended gets the warning with its interval; a suspended one a note', async () => {
    const { build } = await cluster();
    sim.seedFluxKustomization({ name: 'apps', interval: '5m' });
    sim.manageDeployment('prod', 'web', { kind: 'Kustomization', name: 'apps' });
    expect(gitOpsNotes((await build().plan(context(), {})).notes)).toEqual([
      'Managed by Flux Kustomization apps (namespace flux-system): not suspended, reconciling every 5m.',
      expect.stringMatching(/^⚠️ Flux will put revision 2 back within its interval, 5m\. /),
    ]);
    sim.seedFluxHelmRelease({ name: 'web', suspend: true, driftDetection: 'disabled' });
    mark((m) => {
      delete m.labels['kustomize.toolkit.fluxcd.io/name'];
      m.labels['helm.toolkit.fluxcd.io/name'] = 'web';
      m.labels['helm.toolkit.fluxcd.io/namespace'] = 'flux-system';
    });
    expect(gitOpsNotes((await build().plan(context(), {})).notes)).toEqual([
      'Managed by Flux HelmRelease web (namespace flux-system): suspended, so it changes nothing until it is resumed.',
    ]);
  });

  it('suspends once, keeps the first value on a second call, and puts it back, creating syncPolicy when it is gone', async () => {
    const { build, api } = await cluster();
    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    sim.manageDeployment('prod', 'web', { kind: 'Application', name: 'web' });
    const driver = build({ suspend: true });
    const plan = await driver.plan(context(), {});
    const suspension = await driver.suspendGitOps!(context(), plan);
    expect(suspension).toEqual({
      controller: 'Argo CD application web (namespace argocd)',
      description: 'automated sync removed (was {"prune":true,"selfHeal":true})',
      restore: { gitops: [{ kind: 'Application', name: 'web', namespace: 'argocd', automated: AUTOMATED }] },
    });
    expect(await driver.suspendGitOps!(context(), plan)).toBeUndefined();
    const application = () => sim.customResource('applications', 'argocd', 'web')!;
    expect(application().spec.syncPolicy.automated).toBeUndefined();

    // Someone removed the whole syncPolicy meanwhile: it is made again, with exactly the value removed.
    const removed = await api.sendCustomPatch(
      { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespace: 'argocd', name: 'web' },
      { type: 'json', ops: [{ op: 'remove', path: '/spec/syncPolicy' }] },
      AbortSignal.timeout(10_000),
    );
    expect(removed.ok).toBe(true);
    expect(application().spec.syncPolicy).toBeUndefined();
    expect(await driver.resumeGitOps!(context(), suspension!)).toBe(
      'automated sync put back ({"prune":true,"selfHeal":true}); Argo CD deploys what git says again',
    );
    expect(application().spec.syncPolicy).toStrictEqual({ automated: AUTOMATED });
    expect(await driver.resumeGitOps!(context(), suspension!)).toBe(
      'automated sync was already back ({"prune":true,"selfHeal":true}), so nothing was changed',
    );
  });

  it('a suspension whose answer was lost is read back: applied, it is kept with the value removed, and not sent again', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    sim.manageDeployment('prod', 'web', { kind: 'Application', name: 'web' });
    const driver = build({ suspend: true });
    const plan = await driver.plan(context(), {});
    sim.injectFaults({ count: 1, status: 503, phase: 'after', method: 'PATCH', path: /\/applications\/web$/ });
    const suspension = await driver.suspendGitOps!(context(), plan);
    expect(suspension?.restore).toEqual({
      gitops: [{ kind: 'Application', name: 'web', namespace: 'argocd', automated: AUTOMATED }],
    });
    expect(sim.customResource('applications', 'argocd', 'web')!.spec.syncPolicy.automated).toBeUndefined();
    expect(sim.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([503]);
  });

  it('changedBy names the newest writer of the pod template from managed fields', async () => {
    const { build } = await cluster();
    sim.seedArgoApplication({ name: 'web', destination: { namespace: 'prod' }, automated: { ...AUTOMATED } });
    sim.manageDeployment(
      'prod',
      'web',
      { kind: 'Application', name: 'web' },
      {
        template: webDeployment('registry/web:1.2.0').spec.template,
      },
    );
    await waitUntil(
      'Argo CD to sync',
      () => sim.deployment('prod', 'web')?.spec.template.spec.containers[0].image === 'registry/web:1.2.0',
    );
    const driver = build();
    const live = await driver.live(context());
    expect(await driver.changedBy!(context(), live.current)).toMatch(
      /^by Argo CD \(application web\), Update at \d\d:\d\d UTC$/,
    );
  });
});

describe('who made a version live (changedBy), for the drift warning', () => {
  it("Helm: the revision's description, and the Flux HelmRelease that manages the release", async () => {
    const sim = await KubeSimulator.start({ readyDelayMs: 20 });
    try {
      sim.seedHelmRelease(appRelease(['superseded', 'deployed']));
      const driver = helmDriver.create(
        'api',
        helmTargetSchema.parse({ kind: 'helm', release: 'app', namespace: 'prod' }),
        { kubeconfig: sim.writeKubeconfig() },
        silentLogger(),
      );
      const { current } = await driver.live(context());
      expect(await driver.changedBy!(context(), current)).toMatch(
        /^Helm revision 2, "Upgrade complete" at \d\d:\d\d UTC$/,
      );
      sim.seedFluxHelmRelease({ name: 'app', targetNamespace: 'prod' });
      sim.manageDeployment('prod', 'app', { kind: 'HelmRelease', name: 'app' });
      expect(await driver.changedBy!(context(), current)).toMatch(
        /^Helm revision 2, "Upgrade complete" at \d\d:\d\d UTC; the release is managed by Flux HelmRelease app \(namespace flux-system\)$/,
      );
    } finally {
      await sim.close();
    }
  });

  it("Fastly: the user of the version's newest activation in the audit log", async () => {
    const sim = await FastlySimulator.start();
    try {
      sim.addService({ id: CDN_SERVICE, name: 'www-prod', versions: 42, active: 41 });
      const driver = fastlyDriver.create(
        'cdn',
        fastlyTargetSchema.parse({ kind: 'fastly', serviceId: CDN_SERVICE }),
        { fastly: { token: sim.token, baseUrl: sim.url } },
        silentLogger(),
      );
      sim.activateOutOfBand(CDN_SERVICE, 42);
      const { current } = await driver.live(context());
      expect(current.label).toBe('v42');
      expect(await driver.changedBy!(context(), current)).toMatch(
        /^activated by Fastly user [A-Za-z0-9]+ at \d\d:\d\d UTC$/,
      );
      expect(await driver.changedBy!(context(), { id: '99', label: 'v99' })).toBeUndefined();
    } finally {
      await sim.close();
    }
  });
});
