/**
 * The API server's defaulting for the kinds the simulator serves (k8s.io/api SetDefaults_*). It matters
 * for faithfulness: kubectl's three-way merge and the deployment controller's "same template?" test both
 * compare against defaulted objects, so applying the same manifest twice must not look like a change.
 */
import { CUSTOM_RESOURCE_TYPES } from './custom-resources.js';
import type { KubeObject } from './object-store.js';

export function applyDefaults(resource: string, object: KubeObject): void {
  switch (resource) {
    case 'namespaces':
      object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name };
      object.spec ??= {};
      object.spec.finalizers ??= ['kubernetes'];
      object.status ??= { phase: 'Active' };
      break;
    case 'secrets':
      object.type ??= 'Opaque';
      break;
    case 'deployments':
      object.spec ??= {};
      object.spec.replicas ??= 1;
      object.spec.strategy ??= {};
      object.spec.strategy.type ??= 'RollingUpdate';
      if (object.spec.strategy.type === 'RollingUpdate') {
        object.spec.strategy.rollingUpdate ??= {};
        object.spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        object.spec.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      object.spec.revisionHistoryLimit ??= 10;
      object.spec.progressDeadlineSeconds ??= 600;
      defaultPodSpec(object.spec.template?.spec);
      break;
    case 'replicasets':
      object.spec ??= {};
      object.spec.replicas ??= 1;
      defaultPodSpec(object.spec.template?.spec);
      break;
    case 'pods':
      object.spec ??= {};
      defaultPodSpec(object.spec);
      object.spec.enableServiceLinks ??= true;
      object.spec.serviceAccountName ??= 'default';
      object.spec.priority ??= 0;
      object.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case 'services':
      object.spec ??= {};
      object.spec.type ??= 'ClusterIP';
      object.spec.sessionAffinity ??= 'None';
      for (const port of object.spec.ports ?? []) {
        port.protocol ??= 'TCP';
        port.targetPort ??= port.port;
      }
      object.status ??= { loadBalancer: {} };
      break;
    default:
      // A custom resource: its CRD schema's defaults.
      CUSTOM_RESOURCE_TYPES.find((t) => t.name === resource)?.custom?.defaults?.(object);
      break;
  }
}

function defaultPodSpec(spec: KubeObject | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    container.imagePullPolicy ??= pullPolicyFor(String(container.image ?? ''));
    container.resources ??= {};
    for (const port of container.ports ?? []) port.protocol ??= 'TCP';
  }
}

/** `Always` for `:latest` or an untagged image, `IfNotPresent` otherwise (digests count as tags). */
function pullPolicyFor(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}
