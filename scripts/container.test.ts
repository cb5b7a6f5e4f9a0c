import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ValidationSeverity, validate as lintDockerfile, type ValidatorSettings } from 'dockerfile-utils';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { konnectApplication, konnectEvent } from '../packages/conformance/src/index.js';
import { startOktaStub } from '../apps/server/bench/stub-okta.js';
import { freePort, watchServer } from './container-server.js';
import { argsOf, dockerfileStages, stageEnv, type Instruction } from '../deploy/dockerfile-runtime.mjs';

/**
 * The container image and the Kubernetes manifests, proven as far as this machine can without a container
 * engine or a cluster: the build stage's own script writes the image's /app directory, which is started the
 * way the image's CMD starts it (as the image's user, with its environment and the Deployment's) and walks
 * the Konnect flow against an Okta stub; the Dockerfile is linted; every manifest is validated against the
 * Kubernetes schemas (kubernetes-models) and its field names against the Kubernetes types, and checked
 * against what the server does. scripts/container-image.test.ts builds the real image without a daemon and runs it
 * with runc.
 */
const root = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;

// ---- the Dockerfile, read the way Docker reads it (deploy/dockerfile-runtime.mjs) ----

const dockerfileText = read('Dockerfile');
const stages = dockerfileStages(dockerfileText);
const buildStage = stages[0] as Instruction[];
const runtimeStage = stages.at(-1) as Instruction[];

/** The build stage's RUN of deploy/build-image-dir.sh and the directory it writes. */
function buildCommand(): { script: string; target: string } {
  const run = argsOf(buildStage, 'RUN').find((args) => args.includes('build-image-dir.sh'));
  const [, script, target] = /\bsh\s+(\S+build-image-dir\.sh)\s+(\S+)/.exec(run ?? '') ?? [];
  if (!script || !target) throw new Error('the Dockerfile build stage must RUN sh deploy/build-image-dir.sh <target>');
  return { script, target };
}

/** The runtime stage's ENV. */
const imageEnv = () => stageEnv(runtimeStage);

const execForm = (args: string) => JSON.parse(args) as string[];
const workdir = argsOf(runtimeStage, 'WORKDIR').at(-1) as string;
const [imageUid, imageGid] = (argsOf(runtimeStage, 'USER').at(-1) ?? '').split(':').map(Number) as [number, number];

// ---- the manifests ----

const kubeDir = join(root, 'deploy', 'kubernetes');
const yamlFile = (file: string) => parseYaml(readFileSync(file, 'utf8')) as Manifest;
const manifestFiles = readdirSync(kubeDir).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
const manifests = new Map(manifestFiles.map((file) => [file, yamlFile(join(kubeDir, file))]));
const byKind = (kind: string, name?: string) =>
  [...manifests.values()].find(
    (manifest) => manifest.kind === kind && (name === undefined || manifest.metadata?.name === name),
  ) as Manifest;
const deployment = byKind('Deployment');
const container = deployment.spec.template.spec.containers[0] as Manifest;
const containerEnv = Object.fromEntries(
  (container.env as Array<{ name: string; value: string }>).map((entry) => [entry.name, entry.value]),
);

/** Each kind the manifests use: its schema-validating model and the TypeScript type of its fields. */
const kinds: Record<string, { model: new (data: Manifest) => { validate(): void }; module: string; type: string }> = {
  'apps/v1 Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'policy/v1 PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'networking.k8s.io/v1 NetworkPolicy': {
    model: NetworkPolicy,
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
  'v1 ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1 Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1 Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1 ServiceAccount': { model: ServiceAccount, module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'v1 PersistentVolumeClaim': {
    model: PersistentVolumeClaim,
    module: 'kubernetes-models/v1/PersistentVolumeClaim',
    type: 'IPersistentVolumeClaim',
  },
};
const kindOf = (manifest: Manifest) => kinds[`${manifest.apiVersion} ${manifest.kind}`];

/**
 * The JSON Schemas accept fields they do not know (a misspelt `readinesProbe` would pass), as Kubernetes
 * itself drops them: the manifests are also type-checked as object literals of the Kubernetes types, where
 * TypeScript refuses unknown properties. Returns the compiler's messages.
 */
function unknownFieldProblems(named: Array<[string, Manifest]>): string[] {
  const file = join(root, 'scripts', '__manifests__.ts');
  const source = named
    .map(([name, manifest], index) => {
      const kind = kindOf(manifest);
      if (!kind) return `// ${name}: unknown kind`;
      return `import type { ${kind.type} as T${index} } from '${kind.module}';\nexport const m${index}: T${index} = ${JSON.stringify(manifest)}; // ${name}`;
    })
    .join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

/** RFC 6902 add / replace / remove, as kustomize applies a JSON patch (the operations our overlays use). */
function applyJsonPatch(document: Manifest, operations: Array<{ op: string; path: string; value?: unknown }>): Manifest {
  const patched = structuredClone(document);
  for (const { op, path, value } of operations) {
    const keys = path
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop() as string;
    const parent = keys.reduce((node, key) => node?.[key], patched);
    if (parent === undefined) throw new Error(`${op} ${path}: no such parent`);
    if (op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op === 'replace') {
      if (!(last in parent)) throw new Error(`replace ${path}: nothing there to replace`);
      parent[last] = value;
    } else if (op === 'add') {
      if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, value);
      else parent[last] = value;
    } else throw new Error(`${op} ${path}: unsupported operation`);
  }
  return patched;
}

// ---- the image directory, written once by the build stage's own script ----

let imageDir: string;
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'dcr-bridge-image-'));
  // mkdtemp makes the folder 0700; the image's user must be able to reach what is inside.
  chmodSync(scratch, 0o755);
  imageDir = join(scratch, 'app');
  const { script } = buildCommand();
  execFileSync('sh', [script, imageDir], {
    cwd: root,
    stdio: 'pipe',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

describe('the image directory (pnpm deploy output, copied to /app)', () => {
  // The image is @dcr-bridge/server-all: the server, which takes the adapters as optional peers, and all of them.
  const allInOne = JSON.parse(read('apps/server-all/package.json')) as { name: string; dependencies: Record<string, string> };
  const workspaceDependencies = Object.keys(allInOne.dependencies).filter((name) => name.startsWith('@dcr-bridge/'));
  const adapterIds = readdirSync(join(root, 'packages'))
    .filter((name) => name.startsWith('adapter-'))
    .map((name) => name.slice('adapter-'.length));

  it("is what the runtime stage copies to its WORKDIR and starts with its CMD: the server's bin", () => {
    const { target } = buildCommand();
    expect(argsOf(runtimeStage, 'COPY')).toContainEqual(expect.stringMatching(new RegExp(`^--from=build\\s.*\\s${target}\\s+${workdir}$`)));
    const [entrypoint] = execForm(argsOf(runtimeStage, 'ENTRYPOINT').at(-1) as string);
    const [bin] = execForm(argsOf(runtimeStage, 'CMD').at(-1) as string);
    expect(entrypoint).toMatch(/\/node$/);
    expect(bin).toBe(posix.join(workdir, 'node_modules', '@dcr-bridge', 'server', 'dist', 'bin.js'));
    expect(existsSync(join(imageDir, 'node_modules', '@dcr-bridge', 'server', 'dist', 'bin.js'))).toBe(true);
    expect((JSON.parse(readFileSync(join(imageDir, 'package.json'), 'utf8')) as { name: string }).name).toBe(allInOne.name);
  });

  it('lets the server load every adapter of the repository by its id, from where the server is installed', () => {
    const script = `const { loadAdapterModule } = await import(${JSON.stringify(join(imageDir, 'node_modules', '@dcr-bridge', 'server', 'dist', 'index.js'))});
for (const id of ${JSON.stringify(adapterIds)}) { const lookup = await loadAdapterModule(id); console.log(lookup.module?.id ?? lookup.problem); }`;
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: imageDir,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(loaded).toEqual(adapterIds);
  });

  it('holds every workspace package the server depends on, built, without its sources or tests', () => {
    expect(workspaceDependencies.length).toBeGreaterThan(6);
    for (const name of workspaceDependencies) {
      const packageDir = join(imageDir, 'node_modules', name);
      expect(existsSync(join(packageDir, 'dist', 'index.js')), `${name}/dist/index.js`).toBe(true);
      expect(readdirSync(packageDir).sort(), name).toEqual(
        expect.not.arrayContaining(['src', 'test', 'tsconfig.json', 'vitest.config.ts']),
      );
    }
    expect(readdirSync(imageDir)).toEqual(expect.not.arrayContaining(['src', 'test', 'bench', 'tsconfig.json', 'vitest.config.ts']));
  });

  it('holds no development dependency', () => {
    const installed = readdirSync(join(imageDir, 'node_modules', '.pnpm'));
    for (const tool of ['vitest@', 'typescript@', 'tsx@', 'esbuild@', 'eslint@', 'turbo@', '@dcr-bridge+conformance@']) {
      expect(
        installed.filter((entry) => entry.startsWith(tool)),
        tool,
      ).toEqual([]);
    }
    expect(listTree(join(imageDir, 'dist')).filter((file) => file.endsWith('.test.js'))).toEqual([]);
  });

  it('resolves every @dcr-bridge package to its dist, as plain Node does in the image', () => {
    const script = `for (const name of ${JSON.stringify(workspaceDependencies)}) console.log(import.meta.resolve(name));`;
    const resolved = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: imageDir,
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(resolved).toHaveLength(workspaceDependencies.length);
    for (const url of resolved) expect(url).toMatch(/\/dist\/index\.js$/);
  });
});

// ---- the image's process ----

describe('the image directory started as the image starts it', () => {
  it('passes the Konnect flow, keeps its state on the volume only, and drains on SIGTERM with exit 0', async () => {
    const okta = await startOktaStub();
    try {
      const runAsImageUser = process.getuid?.() === 0;
      // The volume mounted at /data; the image's paths under /data point into it.
      const volume = mkdtempSync(join(scratch, 'data-'));
      if (runAsImageUser) chownSync(volume, imageUid, imageGid);
      const underVolume = (value: string) => (value.startsWith('/data/') ? join(volume, value.slice('/data/'.length)) : value);

      // The ConfigMap and the Secret as a configuration file: the server refuses any name in it that it does
      // not read, so this proves every key of theirs is a setting (values pointed at the stub).
      const configMap = byKind('ConfigMap').data as Record<string, string>;
      const secret = (byKind('Secret').stringData ?? {}) as Record<string, string>;
      const apiKey = `container_test_${randomBytes(12).toString('hex')}`;
      // The stub listens on plain http, which the okta adapter takes only when told so (an https org needs no such setting).
      const { OKTA_ALLOW_INSECURE_HTTP: insecureHttp, ...stubSettings } = okta.env;
      const settings = {
        ...configMap,
        ...secret,
        ...stubSettings,
        DCR_BRIDGE_API_KEYS: apiKey,
        DCR_BRIDGE_STORE_KEY: randomBytes(32).toString('base64'),
      };
      expect(Object.keys(settings).sort()).toEqual([...Object.keys(configMap), ...Object.keys(secret)].sort());
      Object.assign(settings, { OKTA_ALLOW_INSECURE_HTTP: insecureHttp });
      const configFile = join(scratch, 'settings.json');
      writeFileSync(configFile, JSON.stringify(settings), { mode: 0o644 });

      const port = await freePort();
      const env: Record<string, string> = {
        ...Object.fromEntries(Object.entries(imageEnv()).map(([name, value]) => [name, underVolume(value)])),
        ...containerEnv,
        DCR_BRIDGE_CONFIG: configFile,
        // Tests bind loopback on free ports; the image listens on 0.0.0.0:3000 and serves /metrics on 9464.
        PORT: String(port),
        DCR_BRIDGE_METRICS_PORT: String(await freePort()),
        HOST: '127.0.0.1',
      };
      const [bin] = execForm(argsOf(runtimeStage, 'CMD').at(-1) as string);
      const child = spawn(process.execPath, [join(imageDir, posix.relative(workdir, bin as string))], {
        cwd: imageDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(runAsImageUser ? { uid: imageUid, gid: imageGid } : {}),
      });
      const { output, exited, listening } = watchServer(child, 'the server');
      try {
        await listening;
        const base = `http://127.0.0.1:${port}`;
        const call = async (method: string, path: string, body?: unknown) => {
          const res = await fetch(`${base}${path}`, {
            method,
            headers: { 'x-api-key': apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
          const text = await res.text();
          return { status: res.status, body: text ? (JSON.parse(text) as Record<string, string>) : undefined };
        };

        expect((await fetch(`${base}${container.livenessProbe.httpGet.path}`)).status).toBe(200);
        expect((await fetch(`${base}${container.readinessProbe.httpGet.path}`)).status).toBe(200);
        const created = await call('POST', '/', konnectApplication());
        expect(created.status).toBe(201);
        const clientId = created.body?.client_id as string;
        expect(clientId).toMatch(/^0oa/);
        const rotated = await call('POST', `/${clientId}/new-secret`);
        expect(rotated.status).toBe(200);
        expect(rotated.body?.client_secret).not.toBe(created.body?.client_secret);
        const updated = await call(
          'POST',
          `/${clientId}/event-hook`,
          konnectEvent(clientId, { event_type: 'update_application', redirect_uris: ['https://app.example.com/new'] }),
        );
        expect(updated.status).toBe(200);
        expect((await call('DELETE', `/${clientId}`)).status).toBe(204);

        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(output.stdout).toContain('"msg":"stopped"');
        expect(output.stdout).not.toContain(apiKey);
        // The journal is on the volume; nothing was written next to the code.
        expect(statSync(join(volume, 'dcr-bridge.journal')).uid).toBe(runAsImageUser ? imageUid : process.getuid?.());
        expect(readdirSync(imageDir).filter((entry) => /journal|sqlite|owner/.test(entry))).toEqual([]);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    } finally {
      await okta.close();
    }
  }, 60_000);
});

// ---- the Dockerfile ----

describe('the Dockerfile', () => {
  it('passes dockerfile-utils with every check at error level', () => {
    const everyCheck = Object.fromEntries(
      [
        'deprecatedMaintainer',
        'directiveCasing',
        'emptyContinuationLine',
        'instructionCasing',
        'instructionCmdMultiple',
        'instructionEntrypointMultiple',
        'instructionHealthcheckMultiple',
        'instructionJSONInSingleQuotes',
        'instructionWorkdirRelative',
      ].map((name) => [name, ValidationSeverity.ERROR]),
    ) as ValidatorSettings;
    expect(
      lintDockerfile(dockerfileText, everyCheck).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`),
    ).toEqual([]);
  });

  it('keeps the house rules: two stages, pinned bases and pnpm, exec form, a numeric unprivileged user, no ADD', () => {
    expect(stages).toHaveLength(2);
    for (const stage of stages) {
      const [from] = stage;
      expect(from?.keyword).toBe('FROM');
      expect(from?.args, 'a base image with a tag, not latest').toMatch(/^\S+:(?!latest\b)\S+/);
      expect(stage.map((instruction) => instruction.keyword)).not.toContain('ADD');
    }
    const packageManager = (JSON.parse(read('package.json')) as { packageManager: string }).packageManager;
    expect(argsOf(buildStage, 'RUN')).toContainEqual(expect.stringContaining(`npm install --global ${packageManager}`));
    expect(argsOf(buildStage, 'RUN')).toContainEqual(expect.stringContaining('pnpm install --frozen-lockfile'));
    expect(() => execForm(argsOf(runtimeStage, 'CMD').at(-1) as string)).not.toThrow();
    expect(() => execForm(argsOf(runtimeStage, 'ENTRYPOINT').at(-1) as string)).not.toThrow();
    expect(imageUid).toBeGreaterThan(0);
    expect(imageGid).toBeGreaterThan(0);
    expect(argsOf(runtimeStage, 'EXPOSE')).toEqual([imageEnv().PORT]);
    expect(argsOf(runtimeStage, 'VOLUME')).toEqual([JSON.stringify([posix.dirname(imageEnv().DCR_BRIDGE_JOURNAL as string)])]);
  });

  it('keeps state on the volume and sets the measured memory flag', () => {
    const env = imageEnv();
    expect(posix.dirname(env.DCR_BRIDGE_JOURNAL as string)).toBe('/data');
    expect(posix.dirname(env.DCR_BRIDGE_STORE as string)).toBe('/data');
    expect(env.NODE_OPTIONS).toBe('--max-semi-space-size=2');
  });

  it('.dockerignore keeps local output and state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', '**/node_modules', '**/dist', '**/*.sqlite', '**/*.journal', '**/.env']));
    // Nothing the build needs: no negations to reason about, and no pattern that matches a source file.
    const matches = (pattern: string, file: string) =>
      new RegExp(
        `^${pattern
          .replace(/\./g, '\\.')
          .replace(/\*\*\//g, '(?:.*/)?')
          .replace(/\*/g, '[^/]*')}(?:/.*)?$`,
      ).test(file);
    for (const file of [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      'turbo.json',
      'tsconfig.base.json',
      'deploy/build-image-dir.sh',
      'apps/server/src/bin.ts',
      'apps/server-all/src/index.ts',
      'packages/core/src/index.ts',
    ]) {
      expect(existsSync(join(root, file)), file).toBe(true);
      expect(
        ignored.filter((pattern) => matches(pattern, file)),
        file,
      ).toEqual([]);
    }
    expect(ignored.filter((pattern) => pattern.startsWith('!'))).toEqual([]);
  });
});

// ---- the Kubernetes manifests ----

describe('the Kubernetes manifests', () => {
  it('are each one valid object of a known kind, by the Kubernetes schemas', () => {
    expect(manifestFiles.length).toBeGreaterThanOrEqual(7);
    for (const [file, manifest] of manifests) {
      expect(parseAllDocuments(readFileSync(join(kubeDir, file), 'utf8')), `${file}: one document per file`).toHaveLength(1);
      const kind = kindOf(manifest);
      expect(kind, `${file}: ${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      expect(() => new (kind as NonNullable<typeof kind>).model(manifest).validate(), file).not.toThrow();
    }
  });

  it('use no field name the Kubernetes types do not know', () => {
    const sqliteDir = join(kubeDir, 'sqlite');
    const all: Array<[string, Manifest]> = [
      ...manifests,
      ['sqlite/persistentvolumeclaim.yaml', yamlFile(join(sqliteDir, 'persistentvolumeclaim.yaml'))],
    ];
    expect(unknownFieldProblems(all)).toEqual([]);
    // The check itself: a misspelt field is caught.
    const misspelt = structuredClone(deployment);
    misspelt.spec.template.spec.containers[0].readinesProbe = container.readinessProbe;
    expect(unknownFieldProblems([['misspelt', misspelt]]).join('\n')).toContain('readinesProbe');
  }, 60_000);

  it('the kustomization lists every manifest but the example Secret and the optional NetworkPolicy', () => {
    const kustomization = yamlFile(join(kubeDir, 'kustomization.yaml'));
    expect([...kustomization.resources].sort()).toEqual(
      manifestFiles.filter((file) => file !== 'secret.example.yaml' && file !== 'networkpolicy.yaml').sort(),
    );
  });

  it('probe the server’s own endpoints on the port the server listens on', () => {
    const port = container.ports.find((candidate: Manifest) => candidate.name === 'http');
    expect(port.containerPort).toBe(Number(containerEnv.PORT));
    expect(containerEnv.PORT).toBe(imageEnv().PORT);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const service = byKind('Service', 'dcr-bridge');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(byKind('PodDisruptionBudget').spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(byKind('NetworkPolicy').spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it('serve /metrics on a port of their own and a Service of their own, never on the Service Konnect reaches', () => {
    const metricsPort = container.ports.find((candidate: Manifest) => candidate.name === 'metrics');
    expect(metricsPort.containerPort).toBe(Number(containerEnv.DCR_BRIDGE_METRICS_PORT));
    expect(byKind('Service', 'dcr-bridge').spec.ports.map((port: Manifest) => port.targetPort)).toEqual(['http']);
    const metrics = byKind('Service', 'dcr-bridge-metrics');
    expect(metrics.spec.ports.map((port: Manifest) => port.targetPort)).toEqual(['metrics']);
    expect(metrics.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    expect(byKind('NetworkPolicy').spec.ingress.flatMap((rule: Manifest) => rule.ports.map((port: Manifest) => port.port))).toEqual([
      'http',
      'metrics',
    ]);
    // Service links would set DCR_BRIDGE_METRICS_PORT=tcp://… from the Service's name: off.
    expect(deployment.spec.template.spec.enableServiceLinks).toBe(false);
  });

  it('take the settings from the ConfigMap and the Secret, with the API keys and the store key in the Secret', () => {
    expect(container.envFrom).toEqual([
      { configMapRef: { name: byKind('ConfigMap').metadata.name } },
      { secretRef: { name: byKind('Secret').metadata.name } },
    ]);
    const secretKeys = Object.keys(byKind('Secret').stringData);
    expect(secretKeys).toEqual(expect.arrayContaining(['DCR_BRIDGE_API_KEYS', 'DCR_BRIDGE_STORE_KEY']));
    // Secrets never sit in the ConfigMap or in the Deployment itself.
    const secretLike = /KEY|TOKEN|SECRET|PASSWORD/;
    expect(Object.keys(byKind('ConfigMap').data).filter((name) => secretLike.test(name))).toEqual([]);
    expect(Object.keys(containerEnv).filter((name) => secretLike.test(name))).toEqual([]);
    expect(containerEnv.NODE_OPTIONS).toBe(imageEnv().NODE_OPTIONS);
  });

  it('run the image as its unprivileged user, on a read-only root file system, without privileges', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: imageUid, runAsGroup: imageGid, fsGroup: imageGid });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe(byKind('ServiceAccount').metadata.name);
    // The one writable place is the volume at the directory of the image's journal and store.
    const [mount] = container.volumeMounts;
    expect(mount.mountPath).toBe(posix.dirname(imageEnv().DCR_BRIDGE_JOURNAL as string));
    expect(pod.volumes.map((volume: Manifest) => volume.name)).toEqual([mount.name]);
  });

  it('request and limit resources from the measured footprint (idle RSS 86 MB, peak under saturation up to 199 MB)', () => {
    const mebibytes = (quantity: string) => Number(/^(\d+)Mi$/.exec(quantity)?.[1]);
    const { requests, limits } = container.resources;
    expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(Math.ceil(86e6 / 2 ** 20));
    expect(mebibytes(limits.memory) * 2 ** 20).toBeGreaterThan(199e6);
    expect(requests.cpu).toBeDefined();
    expect(limits.cpu).toBeDefined();
  });

  it('give the server’s drain the time it needs before Kubernetes kills the pod', () => {
    const shutdownSeconds = Number(containerEnv.DCR_BRIDGE_SHUTDOWN_TIMEOUT_MS) / 1000;
    const preStopSeconds = container.lifecycle.preStop.sleep.seconds as number;
    // The server's exit waits up to 2 s more for its last log lines (apps/server/src/cli/serve.ts).
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + shutdownSeconds + 2);
  });

  it('the sqlite overlay patches the Deployment to one replica, replaced not rolled, on its volume claim', () => {
    const sqliteDir = join(kubeDir, 'sqlite');
    const kustomization = yamlFile(join(sqliteDir, 'kustomization.yaml'));
    expect(kustomization.resources).toEqual(['..', 'persistentvolumeclaim.yaml']);
    expect(kustomization.patches).toEqual([
      { path: 'deployment-patch.yaml', target: { kind: 'Deployment', name: deployment.metadata.name } },
    ]);
    const patched = applyJsonPatch(deployment, parseYaml(readFileSync(join(sqliteDir, 'deployment-patch.yaml'), 'utf8')));
    expect(() => new Deployment(patched).validate()).not.toThrow();
    expect(unknownFieldProblems([['sqlite deployment', patched]])).toEqual([]);
    expect(patched.spec.replicas).toBe(1);
    expect(patched.spec.strategy).toEqual({ type: 'Recreate' });
    const claim = yamlFile(join(sqliteDir, 'persistentvolumeclaim.yaml'));
    expect(() => new PersistentVolumeClaim(claim).validate()).not.toThrow();
    expect(patched.spec.template.spec.volumes).toEqual([
      { name: container.volumeMounts[0].name, persistentVolumeClaim: { claimName: claim.metadata.name } },
    ]);
  }, 60_000);
});
