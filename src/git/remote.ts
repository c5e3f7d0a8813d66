import { createHash } from 'node:crypto';

/** Host and path of a remote, for links and names; undefined for a local path. */
export function remoteParts(
  repo: string,
): { protocol: 'ssh' | 'https' | 'file'; host: string; path: string } | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(.+)$/.exec(repo);
  if (scp) return { protocol: 'ssh', host: scp[1]!.toLowerCase(), path: trimPath(scp[2]!) };
  let url: URL;
  try {
    url = new URL(repo);
  } catch {
    return undefined;
  }
  const protocol =
    url.protocol === 'https:'
      ? 'https'
      : url.protocol === 'ssh:'
        ? 'ssh'
        : url.protocol === 'file:'
          ? 'file'
          : undefined;
  if (!protocol || protocol === 'file') return undefined;
  return { protocol, host: url.hostname.toLowerCase(), path: trimPath(decodeURIComponent(url.pathname)) };
}

function trimPath(path: string): string {
  return path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

/**
 * The directory name of a repository's cached clone: readable (github.com-acme-cdn-config) and unique
 * (a hash of the whole address), so two spellings of one repository never share a clone half-way.
 */
export function cacheNameFor(repo: string): string {
  const readable = repo
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/^[^@/]+@/, '')
    .replace(/\.git\/?$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(repo).digest('hex').slice(0, 10);
  return `${readable || 'repo'}-${hash}`;
}

/**
 * The page that opens a pull/merge request from `branch` into `base`, for GitHub and GitLab remotes
 * (github.com, gitlab.com and hosts named like them, such as github.acme.com or gitlab.acme.com).
 */
export function mergeRequestUrlFor(repo: string, base: string, branch: string): string | undefined {
  const remote = remoteParts(repo);
  if (!remote?.path) return undefined;
  const pathUrl = remote.path.split('/').map(encodeURIComponent).join('/');
  if (/(^|\.)github\./.test(remote.host)) {
    return `https://${remote.host}/${pathUrl}/compare/${encodeRef(base)}...${encodeRef(branch)}?expand=1`;
  }
  if (/(^|\.)gitlab\./.test(remote.host)) {
    const query = `merge_request[source_branch]=${encodeURIComponent(branch)}&merge_request[target_branch]=${encodeURIComponent(base)}`;
    return `https://${remote.host}/${pathUrl}/-/merge_requests/new?${query}`;
  }
  return undefined;
}

/** Branch names keep their slashes in GitHub's compare path. */
function encodeRef(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/');
}
