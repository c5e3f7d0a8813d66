import type { DoctorCheck } from '../types.js';

/** That the helm binary the Helm driver runs (HELM_BIN) is there and answers. */
export const helmBinaryCheck: DoctorCheck = {
  async run(_targets, environment) {
    const bin = environment.helmBin ?? 'helm';
    try {
      const { runHelm } = await import('./helm-cli.js');
      const version = await runHelm(['version', '--short'], {
        bin,
        kubeconfig: environment.kubeconfig,
        signal: AbortSignal.timeout(10_000),
      });
      return [{ check: 'helm', status: 'ok', detail: `${version.split('\n')[0] ?? version} (HELM_BIN=${bin})` }];
    } catch (error) {
      return [{ check: 'helm', status: 'failed', error }];
    }
  },
};
