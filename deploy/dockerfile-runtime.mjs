// The Dockerfile, read the way Docker reads it (continuation lines joined, comments dropped), and the image
// config its runtime stage gives. deploy/build-oci-image.sh builds the image from this config, so the
// daemonless image and `docker build`'s cannot disagree on it; scripts/container.test.ts and
// scripts/container-image.test.ts check both against it.
//
// Run as a script, from the repository root, for deploy/build-oci-image.sh:
//   node deploy/dockerfile-runtime.mjs umoci-options   that config as umoci config options, one per line;
//   node deploy/dockerfile-runtime.mjs node            the version and the path of the Node.js binary of the
//     runtime base's line (nodejs24-debian12: the 24 line): the one `pnpm test:node-lines` tests the server on,
//     pinned there with its integrity, fetched from the npm registry and cached by scripts/node-lines.mjs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { NODE_LINES, nodeBinary } from '../scripts/node-lines.mjs';

/**
 * @typedef {{ keyword: string; args: string }} Instruction
 * @typedef {{ Env: string[]; User: string; WorkingDir: string; ExposedPorts: string[]; Volumes: string[];
 *   Entrypoint: string[]; Cmd: string[] }} RuntimeConfig
 */

/** The Dockerfile's stages, each the list of its instructions (keywords upper-cased), FROM first. */
export function dockerfileStages(/** @type {string} */ text) {
  /** @type {string[]} */
  const logical = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole) logical.push(whole);
  }
  /** @type {Instruction[][]} */
  const stages = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return stages;
}

/** The arguments of every instruction of a stage with that keyword, in order. */
export function argsOf(/** @type {Instruction[]} */ stage, /** @type {string} */ keyword) {
  return stage.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

/** A stage's ENV, as KEY=value pairs (no quoting in our Dockerfile). */
export function stageEnv(/** @type {Instruction[]} */ stage) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const args of argsOf(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const [, name, value] = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(pair) ?? [];
      if (!name || value === undefined) throw new Error(`ENV ${pair}: write ENV as KEY=value pairs without quotes`);
      env[name] = value;
    }
  }
  return env;
}

/** The image config the last (runtime) stage sets, in the OCI image config's terms. */
export function runtimeConfig(/** @type {string} */ text) {
  const runtime = dockerfileStages(text).at(-1) ?? [];
  const last = (/** @type {string} */ keyword) => {
    const args = argsOf(runtime, keyword).at(-1);
    if (args === undefined) throw new Error(`the Dockerfile's runtime stage has no ${keyword}`);
    return args;
  };
  /** @type {RuntimeConfig} */
  const config = {
    Env: Object.entries(stageEnv(runtime)).map(([name, value]) => `${name}=${value}`),
    User: last('USER'),
    WorkingDir: last('WORKDIR'),
    ExposedPorts: argsOf(runtime, 'EXPOSE')
      .flatMap((ports) => ports.split(/\s+/))
      .map((port) => (port.includes('/') ? port : `${port}/tcp`)),
    Volumes: argsOf(runtime, 'VOLUME').flatMap((list) => /** @type {string[]} */ (JSON.parse(list))),
    Entrypoint: JSON.parse(last('ENTRYPOINT')),
    Cmd: JSON.parse(last('CMD')),
  };
  return config;
}

/** The config as umoci config options, one word each (the shell script passes them unquoted). */
export function umociOptions(/** @type {RuntimeConfig} */ config) {
  const options = [
    ...config.Env.map((pair) => `--config.env=${pair}`),
    `--config.user=${config.User}`,
    `--config.workingdir=${config.WorkingDir}`,
    ...config.ExposedPorts.map((port) => `--config.exposedports=${port}`),
    ...config.Volumes.map((volume) => `--config.volume=${volume}`),
    ...config.Entrypoint.map((entry) => `--config.entrypoint=${entry}`),
    ...config.Cmd.map((entry) => `--config.cmd=${entry}`),
  ];
  const unsafe = options.find((option) => /[\s'"\\$`*?[\]]/.test(option));
  if (unsafe) throw new Error(`Dockerfile: ${unsafe} has a character the build script cannot pass unquoted`);
  return options;
}

/** The Node.js line of the runtime stage's base image (gcr.io/distroless/nodejs24-debian12 → 24). */
export function runtimeNodeLine(/** @type {string} */ text) {
  const from = argsOf(dockerfileStages(text).at(-1) ?? [], 'FROM')[0] ?? '';
  const [, line] = /\/nodejs(\d+)-/.exec(from) ?? [];
  if (!line) throw new Error(`the runtime stage's base (${from}) is not a distroless nodejs image`);
  return Number(line);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const command = process.argv[2];
  if (command === 'umoci-options') {
    process.stdout.write(`${umociOptions(runtimeConfig(dockerfile)).join('\n')}\n`);
  } else if (command === 'node') {
    const major = runtimeNodeLine(dockerfile);
    const line = NODE_LINES.find((candidate) => Number(candidate.version.split('.')[0]) === major);
    if (!line) throw new Error(`scripts/node-lines.mjs pins no Node ${major} line, which the Dockerfile's runtime base runs`);
    const binary = nodeBinary(line, 'x64', join('node_modules', '.cache', 'node-lines'));
    process.stdout.write(`${line.version} ${binary}\n`);
  } else {
    throw new Error('usage, from the repository root: node deploy/dockerfile-runtime.mjs umoci-options | node');
  }
}
