import type { DoctorCheck, DoctorFinding } from '../types.js';
import { kubeconfigProblem } from './kubeconfig-file.js';

/** That each kubeconfig context the Kubernetes targets name exists, and which API server it points at. */
export const kubeContextsCheck: DoctorCheck = {
  async run(targets, environment) {
    // Only now: the Kubernetes client takes a while to load, and a Fastly-only doctor never needs it.
    const { loadKubeConfig } = await import('./kube-api.js');
    const contextOf = (settings: Record<string, unknown>) =>
      typeof settings.context === 'string' ? settings.context : '';
    const contexts = [...new Set(targets.map((t) => contextOf(t.settings)))];
    const file = environment.kubeconfig;
    const missing = kubeconfigProblem(file);
    return contexts.map((context): DoctorFinding => {
      const check = `kubeconfig context ${context || '(current)'}`;
      if (missing) return { check, status: 'failed', error: missing };
      try {
        const kc = loadKubeConfig(context || undefined, file);
        const server = kc.getCurrentCluster()?.server ?? 'no cluster';
        const names = targets.filter((t) => contextOf(t.settings) === context).map((t) => t.name);
        return {
          check,
          status: 'ok',
          detail: `"${kc.getCurrentContext()}" → ${server} (${file ? `KUBECONFIG=${file}` : '~/.kube/config or in-cluster'}), for ${names.join(', ')}`,
        };
      } catch (error) {
        return { check, status: 'failed', error };
      }
    });
  },
};
