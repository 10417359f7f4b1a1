/**
 * What the Frontline app accepts from this service, as facts shared by every
 * layer: the size of a callback reply (Twilio error 48003) and what a
 * Conversations identity may be (48033); https://www.twilio.com/docs/api/errors.
 */

/** No callback reply may be larger than this many bytes: the app rejects it (48003). */
export const MAX_REPLY_BYTES = 65_536;

/** The longest Conversations identity the app accepts (a chat channel value), in characters. */
export const MAX_CONVERSATIONS_IDENTITY = 256;

/** Identities Twilio Conversations keeps for itself, compared without case. */
export const RESERVED_IDENTITIES: readonly string[] = ['system', 'private', 'unique'];

const RESERVED_LENGTH = Math.max(...RESERVED_IDENTITIES.map((name) => name.length));

/** `US` and 32 hex digits: the form of a Twilio user SID, which Conversations refuses as an identity. */
const USER_SID = /^US[0-9a-f]{32}$/i;

/**
 * Why Frontline would refuse `identity` as a Conversations identity (48033), or
 * undefined. Only Frontline's own rules: length, white space and control
 * characters are the identity rule's (src/kernel/rules.ts).
 */
export function conversationsIdentityProblem(identity: string): string | undefined {
  if (identity.length > MAX_CONVERSATIONS_IDENTITY) {
    return `must be at most ${MAX_CONVERSATIONS_IDENTITY} characters (Twilio error 48033)`;
  }
  // Length first: most identities are longer than any reserved name and are not 34 characters long.
  if (identity.length <= RESERVED_LENGTH && RESERVED_IDENTITIES.includes(identity.toLowerCase())) {
    return `"${identity}" is reserved by Twilio Conversations and refused as an identity (Twilio error 48033)`;
  }
  if (identity.length === 34 && USER_SID.test(identity)) {
    return 'has the form of a Twilio user SID (US and 32 hex digits), refused as an identity (Twilio error 48033)';
  }
  return undefined;
}
