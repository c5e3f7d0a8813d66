import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RollbackError } from '../../src/core/errors.js';
import { executePlan, isAt } from '../../src/core/executor.js';
import { planSchema } from '../../src/core/plan-schema.js';
import type { DriverContext, RollbackDriver } from '../../src/core/ports/driver.js';
import type { StepReport } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';

/** What each provider's conformance test file gives the shared suite: a driver on its simulator. */
export interface ConformanceFixture {
  driver: RollbackDriver;
  /** Someone else deploys: the live version moves to a new one. */
  deployElsewhere(): Promise<void>;
  /** How many changes (activations, rollbacks, patches) the provider has seen from the driver. */
  changes(): number;
  /** A version id that does not exist, for `to v<N>`. */
  unknownVersion: string;
  /** The same target built again from the same configuration, as another process (the worker) would. */
  rebuilt(): RollbackDriver;
  /**
   * Drivers of the same kind, under the same target name, for other resources: another service,
   * namespace, release or Deployment, the same context name on another cluster. They need not exist.
   */
  others(): RollbackDriver[];
  close(): Promise<void>;
}

export function context(steps: StepReport[] = [], signal = AbortSignal.timeout(60_000)): DriverContext {
  return { log: silentLogger(), signal, report: (step) => steps.push(step) };
}

/**
 * The contract of core/ports/driver.ts, checked the same way for every provider (as BullMQ checks every
 * adapter with one suite): plan reads only; execute + verify restore exactly the pinned version; a stale
 * plan changes nothing; a second run finds the work done and changes nothing.
 */
export function driverConformance(name: string, setup: () => Promise<ConformanceFixture>): void {
  describe(`${name} driver conformance`, () => {
    let f: ConformanceFixture;
    beforeEach(async () => {
      f = await setup();
    });
    afterEach(async () => {
      await f.close();
    });

    it('plans without changing anything, pinning what is live and an earlier version', async () => {
      const live = await f.driver.live(context());
      const plan = await f.driver.plan(context(), {});
      expect(plan.from).toEqual(live.current);
      expect(plan.to.id).not.toBe(plan.from.id);
      expect(plan.kind).toBe(f.driver.kind);
      expect(plan.steps.length).toBeGreaterThan(1);
      expect(plan.budgetMs).toBeGreaterThan(0);
      expect(f.changes()).toBe(0);
    });

    it('restores exactly the pinned version and verifies it', async () => {
      const plan = await f.driver.plan(context(), {});
      const steps: StepReport[] = [];
      const outcome = await executePlan(f.driver, plan, context(steps));
      expect(outcome.error?.toUserText()).toBeUndefined();
      expect(outcome.status).toBe('succeeded');
      expect(outcome.checks.length).toBeGreaterThan(0);
      expect(outcome.checks.every((c) => c.ok)).toBe(true);
      expect(f.changes()).toBe(1);
      expect(isAt((await f.driver.live(context())).current, plan.to)).toBe(true);
      expect(steps.filter((s) => s.status === 'failed')).toEqual([]);
    });

    it('stops on a stale plan and changes nothing', async () => {
      const plan = await f.driver.plan(context(), {});
      await f.deployElsewhere();
      const before = f.changes();
      const outcome = await executePlan(f.driver, plan, context());
      expect(outcome.status).toBe('stale');
      expect(outcome.error?.code).toBe('PLAN_STALE');
      expect(f.changes()).toBe(before);
    });

    it('finds the work done on a second run and changes nothing more', async () => {
      const plan = await f.driver.plan(context(), {});
      expect((await executePlan(f.driver, plan, context())).status).toBe('succeeded');
      const second = await executePlan(f.driver, plan, context());
      expect(second.status).toBe('already-done');
      expect(second.checks.every((c) => c.ok)).toBe(true);
      expect(f.changes()).toBe(1);
    });

    it("plans for exactly its resource: the plan carries the driver's identity, through the queue's JSON", async () => {
      const plan = await f.driver.plan(context(), {});
      expect(f.driver.identity).toMatch(new RegExp(`^${f.driver.kind}:.+`));
      expect(plan.identity).toBe(f.driver.identity);
      expect(planSchema.parse(JSON.parse(JSON.stringify(plan))).identity).toBe(f.driver.identity);
    });

    it('has an identity that names the resource: the same configuration built twice shares it, other resources do not', () => {
      expect(f.rebuilt().identity).toBe(f.driver.identity);
      const others = f.others().map((d) => d.identity);
      expect(others.length).toBeGreaterThan(0);
      expect(new Set([f.driver.identity, ...others]).size).toBe(others.length + 1);
    });

    it('applies with the decisive read as its precondition when nothing changed since', async () => {
      const plan = await f.driver.plan(context(), {});
      const decided = await f.driver.live(context());
      await f.driver.execute(context(), plan, decided);
      expect(f.changes()).toBe(1);
      const checks = await f.driver.verify(context(), plan);
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(isAt((await f.driver.live(context())).current, plan.to)).toBe(true);
    });

    it('suspends no GitOps controller of a target nothing manages, and says who made a version live by reading only', async () => {
      expect(Boolean(f.driver.suspendGitOps), 'suspendGitOps and resumeGitOps come together').toBe(
        Boolean(f.driver.resumeGitOps),
      );
      const plan = await f.driver.plan(context(), {});
      if (f.driver.suspendGitOps) expect(await f.driver.suspendGitOps(context(), plan)).toBeUndefined();
      if (f.driver.changedBy) {
        const who = await f.driver.changedBy(context(), plan.from);
        expect(who === undefined || (typeof who === 'string' && who.length > 0)).toBe(true);
      }
      expect(f.changes()).toBe(0);
    });

    it('says what the plan changes by reading only, in a form that crosses Redis with the plan', async () => {
      const plan = await f.driver.plan(context(), {});
      if (f.driver.changes) {
        const changes = await f.driver.changes(context(), plan);
        expect(changes.length).toBeGreaterThan(0);
        expect(planSchema.parse(JSON.parse(JSON.stringify({ ...plan, changes }))).changes).toEqual(changes);
      }
      if (f.driver.diff) expect(typeof (await f.driver.diff(context(), plan))).toBe('string');
      expect(f.changes()).toBe(0);
    });

    it('says when the live version went live: before the plan, and at the rollback once it is made', async () => {
      if (!f.driver.liveSince) return;
      const plan = await f.driver.plan(context(), {});
      const before = await f.driver.liveSince(context(), plan.from);
      expect(before).toBeLessThanOrEqual(Date.now());
      // Providers keep whole seconds (Kubernetes' managed fields, Fastly's audit log).
      const changeStarted = Math.floor(Date.now() / 1_000) * 1_000;
      await executePlan(f.driver, plan, context());
      const live = await f.driver.live(context());
      expect(await f.driver.liveSince(context(), live.current)).toBeGreaterThanOrEqual(changeStarted);
    });

    it('refuses an explicit version that does not exist', async () => {
      const error = await f.driver.plan(context(), { toVersion: f.unknownVersion }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RollbackError);
      expect((error as RollbackError).code).toBe('VERSION_UNKNOWN');
    });
  });
}
