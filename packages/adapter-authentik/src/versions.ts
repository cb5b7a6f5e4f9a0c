import { path, type IdpHttpClient } from '@dcr-bridge/core/idp';
import type { OperationContext } from '@dcr-bridge/core';
import { IDP_NAME } from './identity.js';

// The authentik versions the adapter supports, and the API generation each belongs to (README, "Supported versions").

/** The supported range as the README states it. */
export const SUPPORTED = '2024.12 – 2026.8';
const OLDEST: Release = [2024, 12];
const NEWEST: Release = [2026, 8];
/** The first release whose OAuth2 providers have `grant_types` (migration 0032_oauth2provider_grant_types). */
const GRANT_TYPES_SINCE: Release = [2026, 5];

type Release = [year: number, month: number];

/** An API generation: what the adapter's requests must carry. */
export interface Generation {
  /** `version_current` as authentik answered it, e.g. `2026.5.6`; undefined where it could not be read. */
  version?: string;
  /** authentik 2026.5 and later: a provider accepts only the grants in its `grant_types` list, which the create must send. */
  grantTypes: boolean;
}

/** `2026.5.6`, `2026.2.3-rc1` → [2026, 5], [2026, 2]; undefined for what is not authentik's calendar version. */
export function releaseOf(version: string): Release | undefined {
  const match = /^(\d{4})\.(\d{1,2})(?:\.|$|-)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

const atLeast = (release: Release, floor: Release) => release[0] > floor[0] || (release[0] === floor[0] && release[1] >= floor[1]);

export const withinSupported = (release: Release) => atLeast(release, OLDEST) && atLeast(NEWEST, release);
export const hasGrantTypes = (release: Release) => atLeast(release, GRANT_TYPES_SINCE);

/**
 * The version authentik runs: `GET /api/v3/admin/version/` (`authentik/admin/api/version.py`, `VersionView`, open to
 * any authenticated token: no permission to grant) answers `version_current`. One cheap read.
 */
export async function readVersion(http: IdpHttpClient, context: OperationContext): Promise<string> {
  const response = await http.get<{ version_current?: unknown }>(path`/admin/version/`, { signal: context.signal });
  if (!response.ok) throw http.errorFromResponse(response, `reading the ${IDP_NAME} version`);
  const version = response.body?.version_current;
  if (typeof version !== 'string') throw http.errorFromResponse(response, `reading the ${IDP_NAME} version (no version_current)`);
  return version;
}

/** The generation of a version string; an unreadable one is taken as the newest (sending `grant_types` is then the safe side). */
export function generationOf(version: string): Generation {
  const release = releaseOf(version);
  return { version, grantTypes: release === undefined || hasGrantTypes(release) };
}
