import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What `pnpm changeset version` would do, proven on a copy of the workspace's package manifests and the
 * changesets configuration (no source, no install): the release plan of `changeset status`.
 */
const root = join(import.meta.dirname, '..');
const changeset = join(root, 'node_modules', '.bin', 'changeset');
const scratch = mkdtempSync(join(tmpdir(), 'dcr-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const packageDirs = [
  ...readdirSync(join(root, 'apps')).map((name) => `apps/${name}`),
  ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}`),
];
const names = packageDirs.map((dir) => (JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string }).name);

/** A git repository of the real manifests at `version` and the changesets configuration, no changeset yet. */
function manifestsRepo(version: string): string {
  const dir = mkdtempSync(join(scratch, 'repo-'));
  for (const file of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, file), join(dir, file));
  mkdirSync(join(dir, '.changeset'));
  cpSync(join(root, '.changeset', 'config.json'), join(dir, '.changeset', 'config.json'));
  for (const pkgDir of packageDirs) {
    const manifest = JSON.parse(readFileSync(join(root, pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    mkdirSync(join(dir, pkgDir), { recursive: true });
    writeFileSync(join(dir, pkgDir, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2));
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'manifests');
  return dir;
}

/** A workspace of the real manifests at `version`, with one changeset per `bumps` entry; its release plan. */
function plan(version: string, bumps: Record<string, 'patch' | 'minor'>): Record<string, { type: string; newVersion: string }> {
  const dir = manifestsRepo(version);
  Object.entries(bumps).forEach(([name, type], index) =>
    writeFileSync(join(dir, '.changeset', `change-${index}.md`), `---\n"${name}": ${type}\n---\nA change.\n`),
  );
  execFileSync(changeset, ['status', '--output', 'plan.json'], { cwd: dir, stdio: 'ignore' });
  const { releases } = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
    releases: Array<{ name: string; type: string; newVersion: string }>;
  };
  return Object.fromEntries(releases.map((release) => [release.name, { type: release.type, newVersion: release.newVersion }]));
}

describe('releases', () => {
  it('pnpm changeset version, on the pending changesets, writes each released package its version and a CHANGELOG.md', () => {
    const dir = manifestsRepo('0.0.0');
    const pending = readdirSync(join(root, '.changeset')).filter((name) => name.endsWith('.md') && name !== 'README.md');
    for (const name of pending) cpSync(join(root, '.changeset', name), join(dir, '.changeset', name));
    execFileSync(changeset, ['version'], { cwd: dir, stdio: 'ignore' });
    const mentioned = new Set(
      pending.flatMap((name) =>
        [...readFileSync(join(root, '.changeset', name), 'utf8').matchAll(/^"(@dcr-bridge\/[^"]+)":/gm)].map((match) => match[1] as string),
      ),
    );
    expect(mentioned.size).toBeGreaterThan(0);
    for (const pkgDir of packageDirs) {
      const manifest = JSON.parse(readFileSync(join(dir, pkgDir, 'package.json'), 'utf8')) as { name: string; version: string };
      if (!mentioned.has(manifest.name)) continue;
      expect(manifest.version, manifest.name).toBe('0.1.0');
      const changelog = readFileSync(join(dir, pkgDir, 'CHANGELOG.md'), 'utf8');
      expect(changelog, manifest.name).toMatch(new RegExp(`^# ${manifest.name.replace('/', '\\/')}\\n\\n## 0\\.1\\.0`));
    }
    // The changesets are consumed: nothing pending after a version.
    expect(readdirSync(join(dir, '.changeset')).filter((name) => name.endsWith('.md'))).toEqual([]);
  });

  it('a first release is 0.1.0 everywhere', () => {
    const releases = plan('0.0.0', Object.fromEntries(names.map((name) => [name, 'minor'])));
    expect(Object.keys(releases).sort()).toEqual([...names].sort());
    for (const name of names) expect(releases[name], name).toEqual({ type: 'minor', newVersion: '0.1.0' });
  });

  it('a core minor leaves the adapters, the conformance kit and the store unreleased, or on a minor or patch', () => {
    const releases = plan('0.1.0', { '@dcr-bridge/core': 'minor' });
    expect(releases['@dcr-bridge/core']).toEqual({ type: 'minor', newVersion: '0.2.0' });
    for (const name of names.filter((candidate) => candidate !== '@dcr-bridge/core')) {
      const release = releases[name];
      if (release) expect(['none', 'patch', 'minor'], `${name}: ${release.type}`).toContain(release.type);
    }
  });
});
