import { randomBytes } from 'node:crypto';
import type { KonnectReferences } from './contract.js';

/**
 * Client names and secrets the bridge makes itself. IdPs that want unique names (PingOne, Okta) or let
 * the caller choose the client id (Keycloak, PingFederate) get a readable slug of Konnect's application
 * name plus a random suffix, so two Konnect applications with the same name never collide.
 */
export interface UniqueNameOptions {
  /** Longest result, suffix included. Default 64. */
  maxLength?: number;
  /** Characters that may stay; everything else becomes `-`. Default lowercase letters, digits, `-`. */
  disallowed?: RegExp;
  /** Put before the slug, e.g. `konnect-`. */
  prefix?: string;
  /** Random characters appended. Default 8 (40 bits). */
  suffixLength?: number;
  /** The suffix to use instead of a random one (the lifecycle's create nonce, so the name can be found again). */
  suffix?: string;
  /** Keep the letter case of the name (default: lower-cased). */
  keepCase?: boolean;
}

export function uniqueName(name: string, options: UniqueNameOptions = {}): string {
  const maxLength = options.maxLength ?? 64;
  const suffixLength = options.suffixLength ?? 8;
  const disallowed = options.disallowed ?? /[^a-z0-9-]+/g;
  const base = (options.keepCase ? name : name.toLowerCase()).normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const slug = base.replace(disallowed, '-').replace(/-{2,}/g, '-').replace(/^-|-$/g, '');
  const suffix = options.suffix ?? randomSuffix(suffixLength);
  const prefix = options.prefix ?? '';
  const room = Math.max(0, maxLength - prefix.length - suffix.length - 1);
  const head = (prefix + slug.slice(0, room)).replace(/-$/, '');
  return head ? `${head}-${suffix}` : suffix;
}

/** A create nonce: 8 random characters of [a-z0-9] (41 bits), fit for any IdP's names and ids. */
export function newNonce(): string {
  return randomSuffix(8);
}

function randomSuffix(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

/** A client secret the bridge generates for IdPs that take one from the caller: `bytes` random bytes, base64url. */
export function generateSecret(bytes = 32): string {
  if (bytes < 32) throw new Error('Generated client secrets carry at least 256 bits.');
  return randomBytes(bytes).toString('base64url');
}

/**
 * The ownership marker for IdPs whose clients have only a free-text field to carry it (PingOne and
 * PingFederate descriptions): one line `dcr-bridge: {"managed":true,…Konnect's ids}`.
 */
export function ownershipMarkerLine(konnect: KonnectReferences): string {
  return `dcr-bridge: ${JSON.stringify({ managed: true, portalId: konnect.portalId, organizationId: konnect.organizationId, developerId: konnect.developerId, authStrategyId: konnect.authStrategyId, dcrProviderId: konnect.dcrProviderId })}`;
}

const MARKER_LINE = /^dcr-bridge: (\{.*\})$/m;

export function hasOwnershipMarkerLine(text: string | undefined): boolean {
  const json = MARKER_LINE.exec(text ?? '')?.[1];
  if (!json) return false;
  try {
    return (JSON.parse(json) as { managed?: unknown }).managed === true;
  } catch {
    return false;
  }
}
