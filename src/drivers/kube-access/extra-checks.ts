import type { DriverContext } from '../../core/ports/driver.js';
import type { VerifyCheck } from '../../core/types.js';
import { errorRateCheck } from '../../verify/error-rate.js';
import { httpProbe } from '../../verify/http-probe.js';
import type { VerifySpec } from './target-schema.js';

/** The optional checks a target names under `verify:`: an HTTP probe, then the error rate (runbook step 4). */
export async function extraChecks(verify: VerifySpec | undefined, ctx: DriverContext): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  if (verify?.url) checks.push(await httpProbe({ url: verify.url }, ctx));
  if (verify?.prometheus) {
    const { url, query, below, within } = verify.prometheus;
    checks.push(await errorRateCheck({ url, query, below, withinMs: within }, ctx));
  }
  return checks;
}
