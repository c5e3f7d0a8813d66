import { readFile } from 'node:fs/promises';

/** One RBAC rule, as a Role's `rules:` has it. */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * The RBAC table in README.md's "Kubernetes (the Helm chart)" (API group | resource | verbs | why), one rule per
 * row; the core group is written "(core)".
 */
export async function readmeRbacRules(): Promise<RbacRule[]> {
  const readme = await readFile('README.md', 'utf8');
  const section = readme.split(/^### Kubernetes \(the Helm chart\)$/m)[1]?.split(/^##+ /m)[0] ?? '';
  const cell = (text: string) => text.replace(/`/g, '').trim();
  return section
    .split('\n')
    .filter((line) => /^\| *(`[^`]*`|\(core\)) *\|/.test(line))
    .map((row) => {
      const [group = '', resource = '', verbs = ''] = row.split('|').slice(1, 4);
      return {
        apiGroups: [cell(group) === '(core)' ? '' : cell(group)],
        resources: [cell(resource)],
        verbs: verbs.split(',').map(cell),
      };
    });
}

/** `group|resource|verb` for every grant in the rules, once each, sorted. */
export function grantsOf(rules: RbacRule[]): string[] {
  const all = rules.flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`))),
  );
  return [...new Set(all)].sort();
}
