import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_LINES, lineFailed, summaryLine, testRuns, unsupportedPlatform } from './node-lines.mjs';

/** `scripts/node-lines.mjs`: what it runs, on which machines, and how it reports (its runs are `pnpm test:node-lines`). */
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('node-lines', () => {
  it('pins one release of Node 22 and one of Node 24, each with an integrity for x64 and arm64', () => {
    expect(NODE_LINES.map((line) => line.version.split('.')[0])).toEqual(['22', '24']);
    for (const line of NODE_LINES) {
      expect(line.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(Object.keys(line.integrity).sort()).toEqual(['arm64', 'x64']);
      for (const integrity of Object.values(line.integrity)) expect(integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });

  it('names in the README every Node release CI tests', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const line of NODE_LINES) expect(readme).toContain(`v${line.version}`);
  });

  it('runs on glibc Linux x64 and arm64 and says why it skips anywhere else', () => {
    expect(unsupportedPlatform({ platform: 'linux', arch: 'x64', glibc: true })).toBeUndefined();
    expect(unsupportedPlatform({ platform: 'linux', arch: 'arm64', glibc: true })).toBeUndefined();
    expect(unsupportedPlatform({ platform: 'darwin', arch: 'arm64', glibc: false })).toContain('darwin-arm64');
    expect(unsupportedPlatform({ platform: 'linux', arch: 'ppc64', glibc: true })).toContain('linux-ppc64');
    expect(unsupportedPlatform({ platform: 'linux', arch: 'x64', glibc: false })).toContain('musl');
  });

  it("runs the server's end-to-end test and the conformance test of every adapter that has one", () => {
    const fakeRoot = mkdtempSync(join(tmpdir(), 'node-lines-root-'));
    scratch.push(fakeRoot);
    for (const name of ['adapter-zeta', 'adapter-alpha', 'adapter-bare', 'store-sqlite'])
      mkdirSync(join(fakeRoot, 'packages', name, 'test'), { recursive: true });
    for (const name of ['adapter-zeta', 'adapter-alpha', 'store-sqlite'])
      writeFileSync(join(fakeRoot, 'packages', name, 'test', 'conformance.test.ts'), '');
    expect(testRuns(fakeRoot)).toEqual([
      { dir: 'apps/server', file: 'test/e2e.test.ts' },
      { dir: 'apps/server', file: 'test/lambda.test.ts' },
      { dir: 'packages/adapter-alpha', file: 'test/conformance.test.ts' },
      { dir: 'packages/adapter-zeta', file: 'test/conformance.test.ts' },
    ]);
  });

  it('covers every adapter of this repository', () => {
    const dirs = testRuns(root).map((run) => run.dir);
    expect(dirs).toContain('apps/server');
    expect(dirs).toContain('packages/adapter-rfc7591');
    expect(dirs).toContain('packages/adapter-keycloak');
  });

  it('sums a line in one line, and fails the line on a failed test, a broken run or another Node', () => {
    const clean = [
      { passed: 6, failed: 0, problems: [] },
      { passed: 24, failed: 0, problems: [] },
    ];
    expect(summaryLine('22.23.3', clean)).toBe('node v22.23.3: 30 passed, 0 failed');
    expect(lineFailed(clean)).toBe(false);

    const failedTest = [...clean, { passed: 20, failed: 4, problems: [] }];
    expect(summaryLine('22.23.3', failedTest)).toBe('node v22.23.3: 50 passed, 4 failed');
    expect(lineFailed(failedTest)).toBe(true);

    const otherNode = [...clean, { passed: 24, failed: 0, problems: ['ran on v20.20.2, not v24.21.0'] }];
    expect(summaryLine('24.21.0', otherNode)).toBe('node v24.21.0: 54 passed, 0 failed (1 run(s) went wrong, see above)');
    expect(lineFailed(otherNode)).toBe(true);
  });
});
