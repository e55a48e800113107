/** Trace and span ids are shown and compared as lowercase hex. OTLP JSON uses hex; some
 * protobuf-JSON encoders emit base64 instead, which we accept too. */
const HEX = /^[0-9a-fA-F]*$/;
const LOWER_HEX = /^[0-9a-f]*$/;

export function normalizeId(id: unknown, bytes: 8 | 16): string {
  if (typeof id !== 'string' || id === '') return '';
  // Fast path: what OTLP JSON (and Skua) send.
  if (id.length === bytes * 2 && LOWER_HEX.test(id)) return id;
  if (HEX.test(id) && (id.length === bytes * 2 || id.length <= bytes * 2)) {
    const lower = id.toLowerCase();
    return lower.length === bytes * 2 ? lower : lower.padStart(bytes * 2, '0');
  }
  const b = base64ToHex(id);
  return b ?? id.toLowerCase();
}

function base64ToHex(s: string): string | undefined {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const ch of clean) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += ((acc >> bits) & 0xff).toString(16).padStart(2, '0');
    }
  }
  return out;
}

/** Is it all zeros (OTLP's "no parent")? */
export function isZeroId(id: string): boolean {
  return /^0*$/.test(id);
}
