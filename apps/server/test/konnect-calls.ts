import { setTimeout as sleep } from 'node:timers/promises';
import { konnectApplication } from '@dcr-bridge/conformance';
import type { BridgeProcess } from './process.js';

export type { RecoveryReport } from '@dcr-bridge/core';

/** Konnect's calls to real bridge processes, and their log lines, for the crash and replica tests. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export function logLines(bridge: BridgeProcess): LogLine[] {
  return bridge
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The first log line with message `msg`, waited for up to `timeoutMs`. */
export async function waitForLine(bridge: BridgeProcess, msg: string, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = logLines(bridge).find((candidate) => candidate.msg === msg);
    if (line) return line;
    await sleep(50);
  }
  throw new Error(`no "${msg}" line within ${timeoutMs} ms:\n${bridge.stdout().slice(-4000)}\n${bridge.stderr().slice(-2000)}`);
}

export async function call(bridge: BridgeProcess, apiKey: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${bridge.url}${path}`, {
    method,
    headers: { 'x-api-key': apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, string>) : undefined };
}

/** Konnect creating applications, `concurrency` at a time, until `stop()`; what it holds is every 201. */
export function konnectLoad(bridge: BridgeProcess, apiKey: string, application: Record<string, unknown>, concurrency: number) {
  let stopped = false;
  let inFlight = 0;
  const held: Array<{ clientId: string; clientSecret: string; answeredAt: number }> = [];
  const statuses: number[] = [];
  const worker = async () => {
    while (!stopped) {
      inFlight++;
      try {
        const res = await call(bridge, apiKey, 'POST', '/', konnectApplication(application));
        statuses.push(res.status);
        if (res.status === 201 && res.body)
          held.push({
            clientId: res.body.client_id as string,
            clientSecret: res.body.client_secret as string,
            answeredAt: performance.now(),
          });
      } catch {
        // The connection died with the process: Konnect got no answer.
      } finally {
        inFlight--;
      }
    }
  };
  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    /** How many creates got a 201 so far. */
    answered: () => held.length,
    /** Starts no more creates; returns how many are still in flight. */
    stop() {
      stopped = true;
      return inFlight;
    },
    done: () => workers.then(() => ({ held, statuses })),
  };
}
