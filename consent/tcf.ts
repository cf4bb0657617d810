import { DecodingError, TCModelError, TCString } from '@iabtechlabtcf/core';
import type { Purpose } from './purposes.ts';

/** The fields of a TC string a consent record keeps and a DPO reads. */
export interface DecodedTcString {
  version: number;
  created: string;
  cmpId: number;
  cmpVersion: number;
  consentScreen?: number;
  consentLanguage: string;
  vendorListVersion: number;
  policyVersion: number;
  isServiceSpecific: boolean;
  publisherCountryCode?: string;
  purposeConsents: number[];
  purposeLegitimateInterests: number[];
  vendorConsents: number[];
  vendorLegitimateInterests: number[];
  vendorsDisclosed: number[];
}

/** Thrown for a TC string that cannot be decoded or breaks TCF policy; the message says why. */
export class TcStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TcStringError';
  }
}

const MAX_TC_STRING = 10_000;
const MIN_POLICY_VERSION = 4;

function ids(vector: { forEach(fn: (has: boolean, id: number) => void): void } | undefined): number[] {
  const out: number[] = [];
  vector?.forEach((has, id) => {
    if (has) out.push(id);
  });
  return out;
}

/** Decodes a TC string offline with `@iabtechlabtcf/core`; throws TcStringError when it cannot. */
export function decodeTcString(value: string): DecodedTcString {
  if (value.length === 0 || value.length > MAX_TC_STRING || !/^[A-Za-z0-9_.-]+$/.test(value)) {
    throw new TcStringError('the TC string is not base64url segments separated by dots');
  }
  let tc: ReturnType<typeof TCString.decode>;
  try {
    tc = TCString.decode(value);
  } catch (error) {
    // The library's own errors say what is wrong with the string; anything else is a JavaScript error from
    // deep inside the decoder, whose message would describe the decoder rather than the input.
    const why =
      error instanceof DecodingError || error instanceof TCModelError ? error.message.trim() : 'malformed';
    throw new TcStringError(`the TC string cannot be decoded (${why})`);
  }
  if (tc.version !== 2 || !(tc.created instanceof Date) || Number.isNaN(tc.created.getTime())) {
    throw new TcStringError('the TC string is not a valid TCF v2 string');
  }
  return {
    version: tc.version,
    created: tc.created.toISOString(),
    cmpId: Number(tc.cmpId),
    cmpVersion: Number(tc.cmpVersion),
    ...(tc.consentScreen ? { consentScreen: Number(tc.consentScreen) } : {}),
    consentLanguage: tc.consentLanguage,
    vendorListVersion: Number(tc.vendorListVersion),
    policyVersion: Number(tc.policyVersion),
    isServiceSpecific: tc.isServiceSpecific,
    ...(tc.publisherCountryCode && tc.publisherCountryCode !== 'AA'
      ? { publisherCountryCode: tc.publisherCountryCode }
      : {}),
    purposeConsents: ids(tc.purposeConsents),
    purposeLegitimateInterests: ids(tc.purposeLegitimateInterests),
    vendorConsents: ids(tc.vendorConsents),
    vendorLegitimateInterests: ids(tc.vendorLegitimateInterests),
    vendorsDisclosed: ids(tc.vendorsDisclosed),
  };
}

/**
 * Why a decoded string breaks TCF policy, or undefined when it does not: strings must carry policy version 4 or
 * later (required since 2023-09-30) and be service-specific. The decoder itself checks neither.
 */
export function tcfPolicyViolation(decoded: DecodedTcString): string | undefined {
  const reasons: string[] = [];
  if (decoded.policyVersion < MIN_POLICY_VERSION) {
    reasons.push(`tcfPolicyVersion ${decoded.policyVersion} < ${MIN_POLICY_VERSION}`);
  }
  if (!decoded.isServiceSpecific) reasons.push('isServiceSpecific false');
  return reasons.length > 0 ? reasons.join(' and ') : undefined;
}

/** Decisions a TC string implies: a purpose is granted when every TCF purpose it maps to has consent. */
export function decisionsFromTcString(
  decoded: DecodedTcString,
  purposes: Purpose[],
): Record<string, 'granted' | 'denied'> {
  const consented = new Set(decoded.purposeConsents);
  const decisions: Record<string, 'granted' | 'denied'> = {};
  for (const p of purposes) {
    if (p.tcfPurposes.length === 0) continue;
    decisions[p.name] = p.tcfPurposes.every((id) => consented.has(id)) ? 'granted' : 'denied';
  }
  return decisions;
}

/**
 * The decisions of TC strings as browsers send them, decoded once each: a page sends the same string with every
 * payload of a visit. Bounded (the oldest string goes first); a string that cannot be decoded or breaks TCF
 * policy is remembered as such.
 */
export class DecodedTcStringCache {
  readonly #decisions = new Map<string, Record<string, 'granted' | 'denied'> | null>();

  constructor(private readonly capacity: number) {}

  /** The purposes' decisions the string implies, or undefined for a string that is not a valid TCF v2.2 one. */
  decisions(tcString: string, purposes: Purpose[]): Record<string, 'granted' | 'denied'> | undefined {
    let decisions = this.#decisions.get(tcString);
    if (decisions === undefined) {
      try {
        const decoded = decodeTcString(tcString);
        decisions = tcfPolicyViolation(decoded) ? null : decisionsFromTcString(decoded, purposes);
      } catch (error) {
        if (!(error instanceof TcStringError)) throw error;
        decisions = null;
      }
      if (this.#decisions.size >= this.capacity) {
        const oldest = this.#decisions.keys().next();
        if (!oldest.done) this.#decisions.delete(oldest.value);
      }
      this.#decisions.set(tcString, decisions);
    }
    return decisions ?? undefined;
  }
}
