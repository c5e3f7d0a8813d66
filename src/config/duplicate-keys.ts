import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/**
 * Every key written twice in one map of rollback.yml, as `<file> line N: … (first on line M)`. YAML's own
 * "Map keys must be unique" names neither the key nor the lines; a target named twice is the usual case.
 */
export function duplicateKeyProblems(document: Document, lines: LineCounter, file: string): string[] {
  const problems: string[] = [];
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : '?');
  const walk = (node: unknown, path: readonly string[]): void => {
    if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) walk(item, [...path, String(index)]);
    }
    if (!isMap(node)) return;
    const first = new Map<string, Node>();
    for (const { key, value } of node.items) {
      if (!isScalar(key)) continue;
      const name = String(key.value);
      const earlier = first.get(name);
      if (!earlier) {
        first.set(name, key);
        walk(value, [...path, name]);
        continue;
      }
      const what =
        path.length === 1 && path[0] === 'targets'
          ? `target "${name}" is named twice`
          : `${[...path, name].join('.')} is set twice`;
      problems.push(`${file} line ${lineOf(key)}: ${what} (first on line ${lineOf(earlier)})`);
    }
  };
  walk(document.contents, []);
  return problems;
}
