/**
 * A simulated Fastly service version's configuration, the generated VCL Fastly makes of it, and the text diff
 * of two versions as the diff endpoint (GET /service/{id}/diff/from/{a}/to/{b}) returns it: a unified diff of
 * the generated configuration ("the version … to which changes in the generated VCL are being compared", API
 * reference), or the whole configuration when the two are identical (as the reference says).
 */

interface SimBackend {
  name: string;
  address: string;
  port?: number;
}

interface SimCondition {
  name: string;
  type: 'REQUEST' | 'CACHE' | 'RESPONSE';
  statement: string;
  priority?: number;
}

interface SimSnippet {
  name: string;
  /** The subroutine it goes in: recv, fetch, deliver, error… */
  type: string;
  content: string;
  priority?: number;
}

export interface SimConfig {
  domains: string[];
  backends: SimBackend[];
  conditions: SimCondition[];
  snippets: SimSnippet[];
}

/** A version's configuration unless a test gives one: the same service, with a snippet naming its version. */
export function defaultConfig(version: number): SimConfig {
  return {
    domains: ['www.example.com'],
    backends: [{ name: 'origin', address: 'origin.example.com', port: 443 }],
    conditions: [],
    snippets: [
      {
        name: 'service_version',
        type: 'recv',
        content: `set req.http.X-Service-Version = "${version}";`,
        priority: 100,
      },
    ],
  };
}

const SUBROUTINES = ['recv', 'hash', 'hit', 'miss', 'pass', 'fetch', 'error', 'deliver', 'log'];
const CONDITION_SUB: Record<SimCondition['type'], string> = { REQUEST: 'recv', CACHE: 'fetch', RESPONSE: 'deliver' };

/** The generated VCL of a configuration, one string per line. */
export function generatedVcl(config: SimConfig): string[] {
  const lines = ['# Domains'];
  for (const domain of config.domains) lines.push(`# Domain ${domain}`);
  lines.push('');
  for (const b of config.backends) {
    lines.push(
      `backend F_${b.name} {`,
      `    .host = "${b.address}";`,
      `    .port = "${b.port ?? 443}";`,
      '    .connect_timeout = 1s;',
      '}',
      '',
    );
  }
  for (const sub of SUBROUTINES) {
    const conditions = config.conditions.filter((c) => CONDITION_SUB[c.type] === sub);
    const snippets = config.snippets
      .filter((s) => s.type === sub)
      .sort((a, b) => (a.priority ?? 100) - (b.priority ?? 100) || a.name.localeCompare(b.name));
    lines.push(`sub vcl_${sub} {`, `#--FASTLY ${sub.toUpperCase()} BEGIN`);
    for (const c of conditions) {
      const kind = c.type.charAt(0) + c.type.slice(1).toLowerCase();
      lines.push(`    # ${kind} Condition: ${c.name} Prio: ${c.priority ?? 10}`, `    if (${c.statement}) {`, '    }');
    }
    for (const s of snippets) {
      lines.push(`    # Snippet ${s.name} : ${s.priority ?? 100}`, ...s.content.split('\n').map((l) => `    ${l}`));
    }
    lines.push(`#--FASTLY ${sub.toUpperCase()} END`, '}', '');
  }
  return lines;
}

type Op = { op: ' ' | '-' | '+'; line: string };

/** Longest common subsequence, line by line: small configurations only. */
function lineOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push({ op: '+', line: b[j]! });
      j++;
    } else {
      ops.push({ op: '-', line: a[i]! });
      i++;
    }
  }
  return ops;
}

/** A unified diff (three lines of context) from `a` to `b`; the whole of `a` when they are identical. */
export function unifiedDiff(a: string[], b: string[], fromName: string, toName: string): string {
  const ops = lineOps(a, b);
  if (ops.every((o) => o.op === ' ')) return a.join('\n');
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  const changed = ops.map((o, k) => (o.op !== ' ' ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - 3);
    let end = changed[k]!;
    while (k + 1 < changed.length && changed[k + 1]! - end <= 6) end = changed[++k]!;
    end = Math.min(ops.length - 1, end + 3);
    k++;
    const before = ops.slice(0, start);
    const hunk = ops.slice(start, end + 1);
    const aStart = before.filter((o) => o.op !== '+').length + 1;
    const bStart = before.filter((o) => o.op !== '-').length + 1;
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`, ...hunk.map((o) => `${o.op}${o.line}`));
  }
  return out.join('\n');
}
