import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A consent reference: what a consent banner puts in the browser session (`meta.session.attributes` of Faro
 * payloads) so that telemetry which names no signed-in user can still be tied to the consent it was sent
 * under. It names the subject and carries a keyed MAC of it, so that a page script cannot make one for another
 * subject (record ids are sequential and would be guessed): `cr1.<subject id, base64url>.<MAC, base64url>`.
 * The gate, not the reference, says whether the consent still holds: a withdrawal takes effect at once.
 */
const PREFIX = 'cr1';
const MAC_BYTES = 16;
const MAX_SUBJECT_BYTES = 256;
/** Longest reference `consentReference` makes (a subject id of 256 bytes). */
const MAX_CONSENT_REFERENCE = PREFIX.length + 2 + Math.ceil((MAX_SUBJECT_BYTES * 4) / 3) + 24;

function mac(secret: Buffer, subjectId: string): Buffer {
  return createHmac('sha256', secret)
    .update(`consent-reference:${subjectId}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** The reference of a subject's consent records, returned with each record it makes. */
export function consentReference(secret: Buffer, subjectId: string): string {
  return `${PREFIX}.${Buffer.from(subjectId, 'utf8').toString('base64url')}.${mac(secret, subjectId).toString('base64url')}`;
}

/** The subject a reference names, or undefined when it is not one this installation made. */
export function subjectOfReference(secret: Buffer, reference: string): string | undefined {
  if (reference.length > MAX_CONSENT_REFERENCE) return undefined;
  const [prefix, encodedSubject, encodedMac, extra] = reference.split('.');
  if (prefix !== PREFIX || !encodedSubject || !encodedMac || extra !== undefined) return undefined;
  const subject = Buffer.from(encodedSubject, 'base64url');
  const presented = Buffer.from(encodedMac, 'base64url');
  if (subject.length === 0 || subject.length > MAX_SUBJECT_BYTES || presented.length !== MAC_BYTES) {
    return undefined;
  }
  const subjectId = subject.toString('utf8');
  // Base64url decoding skips characters it does not know; the reference must be exactly what we made.
  if (subject.toString('base64url') !== encodedSubject) return undefined;
  return timingSafeEqual(mac(secret, subjectId), presented) ? subjectId : undefined;
}
