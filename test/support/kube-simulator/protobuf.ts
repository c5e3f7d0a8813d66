/**
 * Just enough of the Kubernetes protobuf encoding to read what client-go typed clients send: kubectl's
 * factory gives helm a clientset that writes `application/vnd.kubernetes.protobuf` bodies, so helm's
 * release Secrets arrive as `k8s\0` + runtime.Unknown{typeMeta, raw} with raw = a v1.Secret message.
 * Field numbers are those of k8s.io/api/core/v1/generated.proto and apimachinery's meta/v1 and runtime.
 */
import { ApiError } from './api-error.js';
import type { KubeObject } from './object-store.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { field: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let pos = start;
  for (;;) {
    if (pos >= buf.length) throw ApiError.badRequest('protobuf: truncated varint');
    const byte = buf[pos++] as number;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [value, next] = readVarint(buf, pos);
      out.push({ field, wire, value });
      pos = next;
    } else if (wire === 2) {
      const [length, next] = readVarint(buf, pos);
      const end = next + Number(length);
      if (end > buf.length) throw ApiError.badRequest('protobuf: truncated field');
      out.push({ field, wire, value: buf.subarray(next, end) });
      pos = end;
    } else if (wire === 1) {
      out.push({ field, wire, value: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ field, wire, value: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else throw ApiError.badRequest(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field): string => (f.value as Buffer).toString('utf8');
const bytes = (f: Field): Buffer => f.value as Buffer;
const int = (f: Field): number => Number(BigInt.asIntN(64, f.value as bigint));

function mapEntry(buf: Buffer): [string, Buffer] {
  let k = '';
  let v: Buffer = Buffer.alloc(0);
  for (const f of fields(buf)) {
    if (f.field === 1) k = str(f);
    if (f.field === 2) v = bytes(f);
  }
  return [k, v];
}

function time(buf: Buffer): string {
  let seconds = 0;
  for (const f of fields(buf)) if (f.field === 1) seconds = int(f);
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function ownerReference(buf: Buffer): KubeObject {
  const ref: KubeObject = {};
  for (const f of fields(buf)) {
    if (f.field === 1) ref.kind = str(f);
    if (f.field === 3) ref.name = str(f);
    if (f.field === 4) ref.uid = str(f);
    if (f.field === 5) ref.apiVersion = str(f);
    if (f.field === 6) ref.controller = int(f) !== 0;
    if (f.field === 7) ref.blockOwnerDeletion = int(f) !== 0;
  }
  return ref;
}

function objectMeta(buf: Buffer): KubeObject {
  const meta: KubeObject = {};
  for (const f of fields(buf)) {
    switch (f.field) {
      case 1:
        meta.name = str(f);
        break;
      case 2:
        meta.generateName = str(f);
        break;
      case 3:
        meta.namespace = str(f);
        break;
      case 5:
        meta.uid = str(f);
        break;
      case 6:
        meta.resourceVersion = str(f);
        break;
      case 7:
        meta.generation = int(f);
        break;
      case 8:
        meta.creationTimestamp = time(bytes(f));
        break;
      case 9:
        meta.deletionTimestamp = time(bytes(f));
        break;
      case 10:
        meta.deletionGracePeriodSeconds = int(f);
        break;
      case 11: {
        const [k, v] = mapEntry(bytes(f));
        (meta.labels ??= {})[k] = v.toString('utf8');
        break;
      }
      case 12: {
        const [k, v] = mapEntry(bytes(f));
        (meta.annotations ??= {})[k] = v.toString('utf8');
        break;
      }
      case 13:
        (meta.ownerReferences ??= []).push(ownerReference(bytes(f)));
        break;
      case 14:
        (meta.finalizers ??= []).push(str(f));
        break;
      default:
        break; // selfLink, managedFields: not needed by the simulator
    }
  }
  // A zero Time encodes as an empty message; JSON clients see null, the simulator leaves it out.
  if (meta.creationTimestamp === '1970-01-01T00:00:00Z') delete meta.creationTimestamp;
  return meta;
}

function secret(buf: Buffer): KubeObject {
  const object: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: {} };
  for (const f of fields(buf)) {
    if (f.field === 1) object.metadata = objectMeta(bytes(f));
    if (f.field === 2) {
      const [k, v] = mapEntry(bytes(f));
      (object.data ??= {})[k] = v.toString('base64');
    }
    if (f.field === 3) object.type = str(f);
    if (f.field === 4) {
      const [k, v] = mapEntry(bytes(f));
      (object.stringData ??= {})[k] = v.toString('utf8');
    }
    if (f.field === 5) object.immutable = int(f) !== 0;
  }
  return object;
}

function configMap(buf: Buffer): KubeObject {
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} };
  for (const f of fields(buf)) {
    if (f.field === 1) object.metadata = objectMeta(bytes(f));
    if (f.field === 2) {
      const [k, v] = mapEntry(bytes(f));
      (object.data ??= {})[k] = v.toString('utf8');
    }
    if (f.field === 3) {
      const [k, v] = mapEntry(bytes(f));
      (object.binaryData ??= {})[k] = v.toString('base64');
    }
    if (f.field === 4) object.immutable = int(f) !== 0;
  }
  return object;
}

function deleteOptions(buf: Buffer): KubeObject {
  const object: KubeObject = { apiVersion: 'v1', kind: 'DeleteOptions' };
  for (const f of fields(buf)) {
    if (f.field === 1) object.gracePeriodSeconds = int(f);
    if (f.field === 4) object.propagationPolicy = str(f);
    if (f.field === 5) (object.dryRun ??= []).push(str(f));
  }
  return object;
}

const DECODERS: Record<string, (buf: Buffer) => KubeObject> = {
  'v1/Secret': secret,
  'v1/ConfigMap': configMap,
  'v1/DeleteOptions': deleteOptions,
  'meta.k8s.io/v1/DeleteOptions': deleteOptions,
};

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').startsWith('application/vnd.kubernetes.protobuf');
}

/** Decodes a protobuf request body to the JSON form the rest of the simulator works with. */
export function decodeProtobuf(body: Buffer): KubeObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new ApiError(415, 'UnsupportedMediaType', 'protobuf body does not start with the k8s\\0 magic prefix');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.field === 1) {
      for (const t of fields(bytes(f))) {
        if (t.field === 1) apiVersion = str(t);
        if (t.field === 2) kind = str(t);
      }
    }
    if (f.field === 2) raw = bytes(f);
  }
  const decoder = DECODERS[`${apiVersion}/${kind}`];
  if (!decoder) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the kube simulator cannot decode protobuf ${apiVersion} ${kind}; send JSON or teach protobuf.ts this kind`,
    );
  }
  return decoder(raw);
}
