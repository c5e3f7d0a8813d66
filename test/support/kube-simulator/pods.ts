/** Pods as a ReplicaSet's controller and the kubelet would make them: pending, then running and Ready. */
import { createHash, randomBytes } from 'node:crypto';
import { clone, type KubeObject, nowIso, randomSuffix } from './object-store.js';

const NODE_NAME = 'sim-node-1';
const HOST_IP = '10.0.0.10';
let nextPodIp = 10;

export function newPod(rs: KubeObject): KubeObject {
  const template = rs.spec.template ?? {};
  const name = `${rs.metadata.name}-${randomSuffix()}`;
  const octet = nextPodIp++ % 250;
  return {
    metadata: {
      name,
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      labels: clone(template.metadata?.labels ?? {}),
      ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.metadata.name,
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...clone(template.spec ?? {}), nodeName: NODE_NAME },
    status: {
      phase: 'Pending',
      conditions: [condition('PodScheduled', 'True')],
      hostIP: HOST_IP,
      hostIPs: [{ ip: HOST_IP }],
      podIP: `10.244.0.${octet}`,
      podIPs: [{ ip: `10.244.0.${octet}` }],
      startTime: nowIso(),
      qosClass: 'BestEffort',
      containerStatuses: containers(template.spec).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {},
      })),
    },
  };
}

/** The kubelet's view once the containers started: Ready, or stuck in CrashLoopBackOff when `broken`. */
export function startedStatus(pod: KubeObject, broken: boolean): KubeObject {
  const now = nowIso();
  const ready = broken ? 'False' : 'True';
  const notReady = broken
    ? {
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${containers(pod.spec)
          .map((c) => c.name)
          .join(' ')}]`,
      }
    : {};
  return {
    ...clone(pod.status),
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers', 'True'),
      condition('Initialized', 'True'),
      { ...condition('Ready', ready), ...notReady },
      { ...condition('ContainersReady', ready), ...notReady },
      condition('PodScheduled', 'True'),
    ],
    containerStatuses: containers(pod.spec).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: `${imageRepository(c.image)}@sha256:${createHash('sha256').update(String(c.image)).digest('hex')}`,
      containerID: `containerd://${randomBytes(32).toString('hex')}`,
      ready: !broken,
      started: !broken,
      restartCount: broken ? 3 : 0,
      state: broken
        ? {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 40s restarting failed container=${c.name} pod=${pod.metadata.name}`,
            },
          }
        : { running: { startedAt: now } },
      lastState: broken ? { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } } : {},
    })),
  };
}

/** What the kubelet reports while a pod shuts down: no longer Ready. */
export function terminatingStatus(pod: KubeObject): KubeObject {
  const status = clone(pod.status ?? {});
  status.conditions = (status.conditions ?? []).map((c: KubeObject) =>
    c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: nowIso() } : c,
  );
  status.containerStatuses = (status.containerStatuses ?? []).map((c: KubeObject) => ({ ...c, ready: false }));
  return status;
}

export function isPodReady(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');
}

function condition(type: string, status: string): KubeObject {
  return { type, status, lastProbeTime: null, lastTransitionTime: nowIso() };
}

function containers(spec: KubeObject | undefined): KubeObject[] {
  return spec?.containers ?? [];
}

function imageRepository(image: unknown): string {
  const text = String(image ?? '');
  const at = text.indexOf('@');
  if (at >= 0) return text.slice(0, at);
  const slash = text.lastIndexOf('/');
  const colon = text.lastIndexOf(':');
  const repo = colon > slash ? text.slice(0, colon) : text;
  return repo.includes('/') ? repo : `docker.io/library/${repo}`;
}
