/** Small pure helpers for showing customer data as text. */

/** Up to two initials for an avatar placeholder: "Ana María López" → "AM". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0] ?? '');
  return letters.join('').toLocaleUpperCase() || '?';
}

/** Only http(s) image URLs become an <img>; anything else shows initials. */
export function safeImageUrl(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A link the Frontline web app opens (only https: and mailto:); anything else, `javascript:`
 * above all, is never made a link.
 */
export function openableLink(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'mailto:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A phone number as the app shows it with "mask contact phone numbers" on: the last four digits
 * replaced, `+123456789` → `+12345XXXX`, `whatsapp:+15550101234` → `whatsapp:+1555010XXXX`.
 * Values that are not phone numbers (chat identities, e-mail addresses) are left as they are.
 */
export function maskPhone(value: string): string {
  if (!/^(whatsapp:)?\+?[\d\s().-]{4,}$/.test(value)) return value;
  const chars = Array.from(value);
  let left = 4;
  for (let i = chars.length - 1; i >= 0 && left > 0; i--) {
    if (/\d/.test(chars[i] as string)) {
      chars[i] = 'X';
      left--;
    }
  }
  return chars.join('');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export const CHANNEL_LABELS: Record<string, string> = { sms: 'SMS', whatsapp: 'WhatsApp', chat: 'Chat', email: 'Email' };
