/**
 * The real Alertmanager (Debian's `prometheus-alertmanager` package; `.ci/run` installs it when absent), started by
 * a test on a free loopback port with a configuration and a data directory of its own, clustering off, and stopped
 * after. Its one receiver is the bot's webhook, with the bot's API token as Alertmanager sends it
 * (`http_config.authorization`). Tests post alerts to its API v2, as Prometheus does.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type LoopbackDaemon, startLoopbackDaemon } from './loopback-daemon.js';

const BINARIES = ['/usr/bin/prometheus-alertmanager', '/usr/local/bin/alertmanager', '/usr/bin/alertmanager'];

/** The Alertmanager binary, when one is installed. */
export function alertmanagerBinary(): string | undefined {
  return BINARIES.find((file) => existsSync(file));
}

export interface PostedAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** RFC 3339; Alertmanager uses the time it receives the alert when absent. */
  startsAt?: string;
  /** RFC 3339; a time in the past resolves the alert. */
  endsAt?: string;
}

export class AlertmanagerServer {
  private constructor(private readonly daemon: LoopbackDaemon) {}

  get url(): string {
    return this.daemon.url;
  }

  /**
   * Starts Alertmanager sending every alert to `webhookUrl` with `Authorization: Bearer <token>`. Groups by
   * alertname and rollback_target, after `groupWait` (default 200ms).
   */
  static async start(options: {
    webhookUrl: string;
    token: string;
    groupWait?: string;
    /** How soon a group that has not changed is sent again (default 1h): short, to test repeated notifications. */
    repeatInterval?: string;
  }): Promise<AlertmanagerServer> {
    const binary = alertmanagerBinary();
    if (!binary)
      throw new Error(
        'alertmanager is not installed: `apt-get install prometheus-alertmanager` (.ci/run installs it when absent)',
      );
    const config = {
      route: {
        receiver: 'rapid-rollback',
        group_by: ['alertname', 'rollback_target'],
        group_wait: options.groupWait ?? '200ms',
        group_interval: '1s',
        repeat_interval: options.repeatInterval ?? '1h',
      },
      receivers: [
        {
          name: 'rapid-rollback',
          webhook_configs: [
            {
              url: options.webhookUrl,
              send_resolved: true,
              http_config: { authorization: { type: 'Bearer', credentials: options.token } },
            },
          ],
        },
      ],
    };
    const daemon = await startLoopbackDaemon({
      name: 'alertmanager',
      binary,
      config,
      args: ({ dir, configFile, port }) => [
        `--config.file=${configFile}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // No gossip: it would listen on 0.0.0.0:9094, a port that is not ours.
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
    });
    return new AlertmanagerServer(daemon);
  }

  /** POST /api/v2/alerts, as Prometheus sends firing (and resolved) alerts. */
  async post(alerts: PostedAlert[]): Promise<void> {
    const response = await fetch(`${this.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    if (!response.ok) throw new Error(`alertmanager refused the alerts: ${response.status} ${await response.text()}`);
  }

  /** Notifications Alertmanager has sent to webhooks so far (its own alertmanager_notifications_total). */
  async webhookNotifications(): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n'))
      if (line.startsWith('alertmanager_notifications_total{') && line.includes('integration="webhook"'))
        total += Number(line.split(' ').at(-1));
    return total;
  }

  /** The alerts Alertmanager holds (GET /api/v2/alerts), with their fingerprints and state. */
  async alerts(): Promise<Array<{ fingerprint: string; labels: Record<string, string>; status: { state: string } }>> {
    const response = await fetch(`${this.url}/api/v2/alerts`);
    return (await response.json()) as Array<{
      fingerprint: string;
      labels: Record<string, string>;
      status: { state: string };
    }>;
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}
