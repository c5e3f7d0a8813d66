/**
 * A Redis master, its replica and three Sentinels, as real processes on free loopback ports, for the failover
 * fault test. Nothing is written to disk (`--save '' --appendonly no`): a server killed and started again
 * comes back empty, and the Sentinels make it a replica of whoever is master by then.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitUntil } from './wait.js';

const MASTER_NAME = 'rrmaster';

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function started(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** One question to a server, on a connection of its own that gives up at once when nobody answers. */
async function ask<T>(port: number, ...command: string[]): Promise<T | undefined> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.call(command[0] as string, ...command.slice(1))) as T;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

export class SentinelSet {
  private readonly servers = new Map<number, ChildProcess>();
  private readonly sentinelProcesses: ChildProcess[] = [];

  private constructor(
    readonly dir: string,
    /** The two redis-server ports; the first starts as master. */
    readonly serverPorts: [number, number],
    readonly sentinelPorts: number[],
    readonly downAfterMs: number,
  ) {}

  static async start(options: { downAfterMs?: number } = {}): Promise<SentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'rr-sentinel-'));
    const ports = [await freePort(), await freePort()] as [number, number];
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    const set = new SentinelSet(dir, ports, sentinelPorts, options.downAfterMs ?? 1_000);
    await set.startServer(ports[0]);
    await set.startServer(ports[1], ports[0]);
    await waitUntil('the replica in sync', async () => {
      const info = await ask<string>(ports[1], 'INFO', 'replication');
      return info?.includes('master_link_status:up');
    });
    for (const [i, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${join(dir, `sentinel-${i}.log`)}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${ports[0]} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${set.downAfterMs}`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      // redis-sentinel is `redis-server --sentinel`; the config file must be writable (Sentinel rewrites it).
      set.sentinelProcesses.push(started('redis-server', [conf, '--sentinel']));
    }
    await set.settled();
    return set;
  }

  /** What the bot's environment says to reach this master through the Sentinels. */
  env(): Record<string, string> {
    return {
      // Its host and port are not used with Sentinel; a wrong one shows that.
      REDIS_URL: 'redis://127.0.0.1:1/0',
      REDIS_SENTINELS: this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      REDIS_SENTINEL_MASTER: MASTER_NAME,
    };
  }

  private async startServer(port: number, replicaOf?: number): Promise<void> {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--logfile',
      join(this.dir, `redis-${port}.log`),
      ...(replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []),
    ];
    this.servers.set(port, started('redis-server', args));
    await waitUntil(`redis-server on ${port}`, async () => (await ask<string>(port, 'PING')) === 'PONG');
  }

  /** The master's port as every Sentinel names it; undefined while they disagree or do not answer. */
  async agreedMaster(): Promise<number | undefined> {
    const answers = await Promise.all(
      this.sentinelPorts.map((port) => ask<string[]>(port, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)),
    );
    const ports = new Set(answers.map((a) => (a ? Number(a[1]) : undefined)));
    const [only] = ports;
    return ports.size === 1 ? only : undefined;
  }

  /** The port that is not the master's. */
  replicaOf(master: number): number {
    return this.serverPorts[0] === master ? this.serverPorts[1] : this.serverPorts[0];
  }

  /**
   * Waits until the Sentinels agree on a master that answers as one, with a replica in sync known to every
   * Sentinel, and every Sentinel knows the other two: ready for a failover.
   */
  async settled(timeoutMs = 30_000): Promise<number> {
    return waitUntil(
      'the Sentinels settled on a master with a replica in sync',
      async () => {
        const master = await this.agreedMaster();
        if (master === undefined) return undefined;
        const role = await ask<[string, number, string[][]]>(master, 'ROLE');
        if (role?.[0] !== 'master' || role[2].length === 0) return undefined;
        const info = await ask<string>(this.replicaOf(master), 'INFO', 'replication');
        if (!info?.includes(`master_port:${master}`) || !info.includes('master_link_status:up')) return undefined;
        for (const port of this.sentinelPorts) {
          const fields = await ask<string[]>(port, 'SENTINEL', 'master', MASTER_NAME);
          const at = (name: string) => fields?.[fields.indexOf(name) + 1];
          if (at('num-slaves') !== '1' || at('num-other-sentinels') !== '2' || at('flags') !== 'master')
            return undefined;
          const replicas = await ask<string[][]>(port, 'SENTINEL', 'replicas', MASTER_NAME);
          const flags = replicas?.[0]?.[(replicas[0]?.indexOf('flags') ?? -2) + 1];
          if (flags !== 'slave') return undefined;
        }
        return master;
      },
      timeoutMs,
    );
  }

  /** `SENTINEL FAILOVER`: a failover ordered by hand, the old master demoted to a replica of the new one. */
  async failover(): Promise<void> {
    const answer = await ask<string>(this.sentinelPorts[0] as number, 'SENTINEL', 'FAILOVER', MASTER_NAME);
    if (answer !== 'OK') throw new Error(`SENTINEL FAILOVER answered ${String(answer)}`);
  }

  /** SIGKILL of a server: a crash. */
  async kill(port: number): Promise<void> {
    const child = this.servers.get(port);
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.servers.delete(port);
  }

  /** Starts a killed server again, empty; the Sentinels turn it into a replica of the master. */
  async restart(port: number): Promise<void> {
    await this.startServer(port);
  }

  /** SIGSTOP / SIGCONT: the server stops answering (and reading its replication link) until resumed. */
  pause(port: number): void {
    this.servers.get(port)?.kill('SIGSTOP');
  }

  resume(port: number): void {
    this.servers.get(port)?.kill('SIGCONT');
  }

  /** A command to one server (`CLIENT KILL TYPE replica`, `EXISTS key`), on a connection of its own. */
  command<T>(port: number, ...command: string[]): Promise<T | undefined> {
    return ask<T>(port, ...command);
  }

  async close(): Promise<void> {
    for (const child of [...this.servers.values(), ...this.sentinelProcesses]) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
