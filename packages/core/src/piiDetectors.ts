/** The value detectors the PII filter runs over strings. */
export type PiiDetectorName = 'email' | 'phone' | 'creditCard' | 'ipv4' | 'ipv6' | 'ssn';

/** Character counts gathered in one pass, so a detector's regex runs only when it could match. */
export interface TextShape {
  digits: number;
  at: boolean;
  dot: boolean;
  colons: number;
  dash: boolean;
}

/** Counts the characters the detectors' pre-checks need, in one pass. */
export function measureText(text: string): TextShape {
  let digits = 0;
  let at = false;
  let dot = false;
  let colons = 0;
  let dash = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits++;
    else if (code === 64) at = true;
    else if (code === 46) dot = true;
    else if (code === 58) colons++;
    else if (code === 45) dash = true;
  }
  return { digits, at, dot, colons, dash };
}

export interface PiiDetector {
  name: PiiDetectorName;
  /** Cheap pre-check on the text's shape. */
  applies(shape: TextShape): boolean;
  /** A global pattern for candidates. */
  pattern: RegExp;
  /** Extra check on a candidate, for patterns that over-match (Luhn, address syntax). */
  verify?(candidate: string): boolean;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

/**
 * Luhn checksum over a string of digits.
 *
 * @example
 * passesLuhn('4111111111111111'); // true
 */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Issuer prefixes and lengths of the major card networks. A random 16-digit id passes Luhn one
 * time in ten; requiring a real issuer prefix too keeps order numbers and timestamps out.
 */
const CARD_ISSUERS =
  /^(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}|3[47]\d{13}|3(?:0[0-5]|[68]\d)\d{11,16}|6(?:011|5\d\d|4[4-9]\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}|62\d{14,17})$/;

/**
 * Whether a digit string (spaces and dashes allowed) is a payment card: a real issuer prefix and
 * length, and a valid Luhn checksum.
 *
 * @example
 * isPaymentCard('4111 1111 1111 1111'); // true
 * isPaymentCard('1732356930123'); // false: a timestamp
 */
export function isPaymentCard(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  return CARD_ISSUERS.test(digits) && passesLuhn(digits);
}

const RETINA_ASSET = /@\d+(?:\.\d+)?x\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp|tiff?)$/i;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * Full IPv6 syntax check, including `::` compression and a trailing dotted IPv4.
 *
 * @example
 * isIpv6('2001:db8::8a2e:370:7334'); // true
 * isIpv6('std::vector'); // false
 */
export function isIpv6(candidate: string): boolean {
  const halves = candidate.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  // "d::" in "std::vector" is syntactically an address; real ones carry at least two groups. An
  // embedded IPv4 counts as a group here, so `::ffff:192.168.1.20` qualifies.
  if (groups.length < 2) return false;
  // Words made of hex letters ("Cafe::Bead", "dead::beef") are scoped names, not addresses.
  if (!/\d/.test(candidate)) return false;
  let count = groups.length;
  const last = groups[groups.length - 1];
  if (last?.includes('.')) {
    if (!IPV4.test(last)) return false;
    groups.pop();
    count++;
  }
  if (!groups.every((group) => HEX_GROUP.test(group))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * The built-in detectors. Each is tuned against false positives on ordinary analytics values:
 * ids, UUIDs, prices, timestamps, dates and version strings (see the PII test table).
 */
export const PII_DETECTORS: readonly PiiDetector[] = [
  {
    name: 'email',
    applies: (shape) => shape.at && shape.dot,
    pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    // Retina asset names (`logo@2x.png`, `icon@1.5x.webp`) have the shape of an address.
    verify: (candidate) => !RETINA_ASSET.test(candidate),
  },
  {
    name: 'creditCard',
    applies: (shape) => shape.digits >= 13,
    pattern: /(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)/g,
    verify: isPaymentCard,
  },
  {
    name: 'ssn',
    applies: (shape) => shape.dash && shape.digits >= 9,
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g,
  },
  {
    name: 'phone',
    applies: (shape) => shape.digits >= 8,
    // International form with a leading +, or North American (555) 123-4567 / 555-123-4567,
    // optionally after the trunk prefix 1 (1-800-555-0199).
    pattern:
      /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w])|(?<![\w.-])(?:1[ .-])?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w.-])/g,
    verify: (candidate) => {
      const digits = measureText(candidate).digits;
      return digits >= 8 && digits <= 15;
    },
  },
  {
    name: 'ipv6',
    // Runs before ipv4 so an embedded IPv4 (`::ffff:192.168.1.20`) goes with its address.
    applies: (shape) => shape.colons >= 2,
    pattern: /(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?![\w:])/g,
    verify: isIpv6,
  },
  {
    name: 'ipv4',
    applies: (shape) => shape.dot && shape.digits >= 4,
    // Not after a letter or "name/" (versions: v1.2.3.4, Chrome/120.0.0.0), nor inside a longer
    // dotted run (1.2.3.4.5).
    pattern: new RegExp(`(?<![\\w.]|[A-Za-z]/)${OCTET}(?:\\.${OCTET}){3}(?!\\w|\\.\\d)`, 'g'),
  },
];
