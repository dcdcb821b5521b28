import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors';
import type { AnalyticsEvent, EventContext, IdentifyEvent, Properties, TrackEvent } from '../event';
import { isIpv6, isPaymentCard, passesLuhn } from '../piiDetectors';
import { createPiiFilter, type PiiFilterOptions } from '../piiFilter';
import type { PipelineStep, StepContext } from '../pipeline';

const stepContext: StepContext = {
  drop: () => null,
  hold: () => null,
  consent: () => 'granted',
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function track(properties: Properties, context: EventContext = {}): TrackEvent {
  return {
    type: 'track',
    event: 'checkout_completed',
    properties,
    messageId: '0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b',
    timestamp: '2026-11-23T10:15:30.123Z',
    anonymousId: 'anon-1',
    context,
  };
}

function identify(traits: Properties, context: EventContext = {}): IdentifyEvent {
  return {
    type: 'identify',
    traits,
    userId: 'user-42',
    messageId: '0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6c',
    timestamp: '2026-11-23T10:15:30.123Z',
    context,
  };
}

/** Runs the filter on a deep-frozen event and checks the input is unchanged afterwards. */
function run(filter: PipelineStep, event: AnalyticsEvent): AnalyticsEvent {
  const snapshot = structuredClone(event);
  deepFreeze(event);
  const result = filter(event, stepContext);
  if (result === null || result instanceof Promise) {
    throw new Error('the PII filter must return an event synchronously');
  }
  expect(event).toEqual(snapshot);
  return result;
}

function propertiesOf(event: AnalyticsEvent): Properties {
  if (!('properties' in event))
    throw new Error(`expected a track or page event, got ${event.type}`);
  return event.properties;
}

function traitsOf(event: AnalyticsEvent): Properties {
  if (!('traits' in event))
    throw new Error(`expected an identify or group event, got ${event.type}`);
  return event.traits;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A Luhn-valid 16-digit number starting with 9, a prefix no card network issues. */
const LUHN_VALID_NO_ISSUER = '9111111111111110';

type Case = [title: string, input: string | number, expected: string | number];

const POSITIVES: Case[] = [
  ['redacts a plain email', 'jane.doe@example.com', '[redacted:email]'],
  [
    'redacts an email inside a sentence',
    'Please reply to jane.doe@example.com before Friday.',
    'Please reply to [redacted:email] before Friday.',
  ],
  ['redacts an email with a + tag', 'jane+newsletter@example.com', '[redacted:email]'],
  ['redacts an email on a subdomain', 'ops@mail.eu.example.co.uk', '[redacted:email]'],
  ['redacts an international UK phone number', '+44 20 7946 0958', '[redacted:phone]'],
  ['redacts a US phone number with a country code', '+1 (415) 555-2671', '[redacted:phone]'],
  ['redacts a dashed US phone number', '555-123-4567', '[redacted:phone]'],
  [
    'redacts a US phone number with an area code in parentheses',
    '(555) 123-4567',
    '[redacted:phone]',
  ],
  ['redacts a dotted US phone number', '555.123.4567', '[redacted:phone]'],
  ['redacts a toll-free US number with the trunk prefix', '1-800-555-0199', '[redacted:phone]'],
  ['redacts a French phone number', '+33 1 23 45 67 89', '[redacted:phone]'],
  [
    'redacts a phone number inside a sentence',
    'Call me on 555-123-4567 tonight',
    'Call me on [redacted:phone] tonight',
  ],
  ['redacts a spaced Visa card number', '4111 1111 1111 1111', '[redacted:creditCard]'],
  ['redacts a dashed Visa card number', '4111-1111-1111-1111', '[redacted:creditCard]'],
  ['redacts a Mastercard number', '5555555555554444', '[redacted:creditCard]'],
  ['redacts an American Express number', '378282246310005', '[redacted:creditCard]'],
  ['redacts a Discover card number', '6011111111111117', '[redacted:creditCard]'],
  ['redacts a card number stored as a number', 4111111111111111, '[redacted:creditCard]'],
  [
    'redacts a card number inside a sentence',
    'paid with 4111 1111 1111 1111 today',
    'paid with [redacted:creditCard] today',
  ],
  ['redacts an IPv4 address', '192.168.1.20', '[redacted:ipv4]'],
  [
    'redacts an IPv4 address inside a sentence',
    'Login from 203.0.113.7 was blocked.',
    'Login from [redacted:ipv4] was blocked.',
  ],
  ['redacts a compressed IPv6 address', '2001:db8:85a3::8a2e:370:7334', '[redacted:ipv6]'],
  [
    'redacts a full-form IPv6 address',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '[redacted:ipv6]',
  ],
  ['redacts a link-local IPv6 address', 'fe80::1ff:fe23:4567:890a', '[redacted:ipv6]'],
  [
    'redacts an IPv6 address inside a sentence',
    'peer 2001:db8::ff00:42:8329 connected',
    'peer [redacted:ipv6] connected',
  ],
  ['redacts an IPv4-mapped IPv6 address as one address', '::ffff:192.168.1.20', '[redacted:ipv6]'],
  ['redacts a US SSN in text', 'SSN on file: 123-45-6789', 'SSN on file: [redacted:ssn]'],
  ['redacts a bare US SSN', '123-45-6789', '[redacted:ssn]'],
  [
    'redacts every kind of PII in one string',
    'jane@example.com called from 555-123-4567 at 10.0.0.12',
    '[redacted:email] called from [redacted:phone] at [redacted:ipv4]',
  ],
];

const NEGATIVES: Array<[title: string, input: string | number]> = [
  ['keeps a numeric id string', '1234567890'],
  ['keeps a numeric id stored as a number', 987654321],
  ['keeps a large numeric id stored as a number', 9007199254740991],
  ['keeps a 14-digit numeric id string', '12345678901234'],
  ['keeps an order id', 'ord_12345678'],
  ['keeps a v4 UUID', '550e8400-e29b-41d4-a716-446655440000'],
  ['keeps a v4 UUID whose last groups are all digits', '9b2c1e7a-3f4d-4a1b-8123-456789012345'],
  ['keeps a v7 UUID', '0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b'],
  ['keeps a v7 UUID with a long digit run', '01932b4e-1234-7123-9123-123456789012'],
  ['keeps a decimal price string', '19.99'],
  ['keeps a decimal price stored as a number', 19.99],
  ['keeps a formatted price', '$1,299.00'],
  ['keeps an integer price', 1299],
  ['keeps an ISO 8601 timestamp', '2026-11-23T10:15:30.123Z'],
  ['keeps an epoch-millisecond timestamp stored as a number', 1732356930123],
  ['keeps an epoch-millisecond timestamp stored as a string', '1732356930123'],
  ['keeps a date', '2026-11-23'],
  ['keeps a time of day', '12:30:45'],
  ['keeps a three-part version', '1.2.3'],
  ['keeps a four-part version with a v prefix', 'v1.2.3.4'],
  ['keeps a Windows build number', '10.0.19041.1'],
  ['keeps a browser version token', 'Chrome/120.0.0.0'],
  ['keeps a 16-digit number that fails Luhn', '4111111111111112'],
  ['keeps a Luhn-valid 16-digit number without a card issuer prefix', LUHN_VALID_NO_ISSUER],
  ['keeps a MAC address', '00:1A:2B:3C:4D:5E'],
  ['keeps a C++ qualified name', 'std::vector'],
  ['keeps a scoped identifier', 'Foo::Bar'],
  ['keeps a scoped identifier made of hex letters', 'Cafe::Bead'],
  ['keeps a hex color', '#ff00aa'],
  ['keeps a pre-release semantic version', '2.0.0-beta.1'],
  ['keeps a percentage', '12.5%'],
  ['keeps a percentage sentence', 'discount of 100% applied'],
  ['keeps a zip code', '94107'],
  ['keeps a short string', 'ok'],
  ['keeps an address without a top-level domain', 'user@localhost'],
  ['keeps an npm package spec', '@scope/pkg@1.2.3'],
  ['keeps a git sha', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'],
  ['keeps a retina image file name', 'logo@2x.png'],
  ['keeps a base64 token', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'],
  ['keeps a base64 token with + and digits', 'dGVzdA+1234567890/abc+44=='],
  ['keeps a count with a unit', '5 items'],
  ['keeps a latitude,longitude pair', '37.7749,-122.4194'],
  ['keeps a relative path with a query', '/checkout?step=2&plan=pro'],
];

describe('createPiiFilter value detectors', () => {
  const filter = createPiiFilter();

  it('covers at least 25 positive and 25 negative cases', () => {
    expect(POSITIVES.length).toBeGreaterThanOrEqual(25);
    expect(NEGATIVES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(POSITIVES)('%s', (_title, input, expected) => {
    const result = run(filter, track({ value: input, plan: 'pro' }));
    expect(propertiesOf(result)).toEqual({ value: expected, plan: 'pro' });
  });

  it.each(NEGATIVES)('%s', (_title, input) => {
    const event = track({ note: input });
    const result = run(filter, event);
    expect(propertiesOf(result).note).toBe(input);
    expect(result).toBe(event);
  });
});

describe('createPiiFilter key denylist', () => {
  const filter = createPiiFilter();

  it.each([
    ['email', 'jane@example.com'],
    ['firstName', 'Jane'],
    ['first_name', 'Jane'],
    ['First-Name', 'Jane'],
    ['password', 'hunter2'],
    ['phone', 5551234567],
    ['ip', '10.0.0.1'],
    ['email', { primary: 'x' }],
    ['password', ['a', 'b']],
    ['phone', true],
  ])('redacts the %s key whatever its value (%j)', (key, value) => {
    const result = run(filter, track({ [key]: value }));
    expect(propertiesOf(result)).toEqual({ [key]: '[redacted]' });
  });

  it('keeps keys that merely contain a denylisted word', () => {
    const properties = {
      plan_name: 'Pro',
      feature_name: 'exports',
      event_name: 'signup',
      token_count: 1200,
      username: 'jdoe',
    };
    const event = track(properties);
    const result = run(filter, event);
    expect(result).toBe(event);
    expect(propertiesOf(result)).toEqual(properties);
  });

  it('leaves null and undefined values under denylisted keys as they are', () => {
    const event = track({ email: null, phone: undefined, plan: 'pro' }, { ip: undefined });
    const result = run(filter, event);
    expect(result).toBe(event);
    expect(propertiesOf(result)).toEqual({ email: null, phone: undefined, plan: 'pro' });
  });

  it('uses the keys option instead of the defaults', () => {
    const custom = createPiiFilter({ keys: ['account_number'] });
    const result = run(custom, track({ accountNumber: 'AC-1', password: 'kept' }));
    expect(propertiesOf(result)).toEqual({ accountNumber: '[redacted]', password: 'kept' });
  });
});

describe('createPiiFilter scope', () => {
  const filter = createPiiFilter();

  it('filters identify traits', () => {
    const result = run(
      filter,
      identify({ email: 'jane@example.com', plan: 'pro', bio: 'ip 10.1.2.3' }),
    );
    expect(traitsOf(result)).toEqual({
      email: '[redacted]',
      plan: 'pro',
      bio: 'ip [redacted:ipv4]',
    });
  });

  it('filters nested objects and arrays', () => {
    const result = run(
      filter,
      track({
        order: { id: 'ord_12345678', billing: { email: 'a@b.com', zip: '94107' } },
        contacts: ['jane@example.com', 'no pii here', { phone: '555' }],
        matrix: [['call 555-123-4567']],
      }),
    );
    expect(propertiesOf(result)).toEqual({
      order: { id: 'ord_12345678', billing: { email: '[redacted]', zip: '94107' } },
      contacts: ['[redacted:email]', 'no pii here', { phone: '[redacted]' }],
      matrix: [['call [redacted:phone]']],
    });
  });

  it('redacts a denylisted query parameter in context.page.url and keeps the others', () => {
    const result = run(
      filter,
      track({}, { page: { url: 'https://app.example.com/reset?email=a%40b.com&step=2' } }),
    );
    expect(result.context.page?.url).toBe(
      'https://app.example.com/reset?email=%5Bredacted%5D&step=2',
    );
  });

  it('redacts detected values in context.page.search', () => {
    const result = run(filter, track({}, { page: { search: '?ref=mail&to=jane%40example.com' } }));
    expect(result.context.page?.search).toBe('?ref=mail&to=%5Bredacted%3Aemail%5D');
  });

  it('redacts denylisted query parameters in context.page.referrer', () => {
    const result = run(
      filter,
      track({}, { page: { referrer: 'https://mail.example.com/?phone=5551234567&lang=en' } }),
    );
    expect(result.context.page?.referrer).toBe(
      'https://mail.example.com/?phone=%5Bredacted%5D&lang=en',
    );
  });

  it('redacts a token in a URL fragment', () => {
    const result = run(
      filter,
      track({}, { page: { url: 'https://app.example.com/callback#access_token=abc&state=xyz' } }),
    );
    expect(result.context.page?.url).toBe(
      'https://app.example.com/callback#access_token=%5Bredacted%5D&state=xyz',
    );
  });

  it('filters the query of a hash-router fragment', () => {
    const result = run(
      filter,
      track({}, { page: { url: 'https://app.example.com/#/reset?password=hunter2&step=2' } }),
    );
    expect(result.context.page?.url).toBe(
      'https://app.example.com/#/reset?password=%5Bredacted%5D&step=2',
    );
  });

  it('redacts context.ip and leaves userAgent and library untouched', () => {
    const userAgent =
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36';
    const library = { name: 'sightline-web', version: '1.2.3' };
    const event = track({}, { ip: '203.0.113.7', userAgent, library });
    const result = run(filter, event);
    expect(result.context.ip).toBe('[redacted]');
    expect(result.context.userAgent).toBe(userAgent);
    expect(result.context.library).toBe(event.context.library);
  });

  it('removes context.ip when keyAction is drop', () => {
    const dropping = createPiiFilter({ keyAction: 'drop' });
    const result = run(dropping, track({}, { ip: '203.0.113.7', locale: 'en-US' }));
    expect(result.context).toEqual({ locale: 'en-US' });
  });

  it('filters context.traits', () => {
    const result = run(filter, track({}, { traits: { email: 'jane@example.com', plan: 'pro' } }));
    expect(result.context.traits).toEqual({ email: '[redacted]', plan: 'pro' });
  });

  it('leaves top-level event fields alone', () => {
    const event = track({ plan: 'pro' });
    const result = run(filter, event);
    expect(result).toBe(event);
    expect(result.timestamp).toBe('2026-11-23T10:15:30.123Z');
  });
});

describe('createPiiFilter actions', () => {
  const salt = 'app-1-salt';

  it('redacts by default', () => {
    const result = run(
      createPiiFilter(),
      track({ email: 'jane@example.com', note: 'jane@example.com' }),
    );
    expect(propertiesOf(result)).toEqual({ email: '[redacted]', note: '[redacted:email]' });
  });

  it('hashes denylisted keys with SHA-256 over salt + value', () => {
    const filter = createPiiFilter({ keyAction: 'hash', hashSalt: salt });
    const result = run(filter, track({ email: 'jane@example.com', phone: 5551234567 }));
    expect(propertiesOf(result)).toEqual({
      email: sha256Hex(`${salt}jane@example.com`),
      phone: sha256Hex(`${salt}5551234567`),
    });
    expect(propertiesOf(result).email).toBe(
      createHash('sha256').update('app-1-saltjane@example.com').digest('hex'),
    );
  });

  it('hashes only the detected part of a string', () => {
    const filter = createPiiFilter({ detectors: { email: 'hash' }, hashSalt: salt });
    const result = run(filter, track({ note: 'write to jane@example.com or call 555-123-4567' }));
    expect(propertiesOf(result).note).toBe(
      `write to ${sha256Hex(`${salt}jane@example.com`)} or call [redacted:phone]`,
    );
  });

  it('drops a denylisted field with keyAction drop', () => {
    const filter = createPiiFilter({ keyAction: 'drop' });
    const result = run(filter, track({ email: 'jane@example.com', plan: 'pro' }));
    expect(propertiesOf(result)).toEqual({ plan: 'pro' });
    expect('email' in propertiesOf(result)).toBe(false);
  });

  it('drops a field whose value a drop detector matches', () => {
    const filter = createPiiFilter({ detectors: { email: 'drop' } });
    const result = run(filter, track({ note: 'mail jane@example.com', plan: 'pro' }));
    expect(propertiesOf(result)).toEqual({ plan: 'pro' });
  });

  it('removes the array element a drop detector matches', () => {
    const filter = createPiiFilter({ detectors: { email: 'drop' } });
    const result = run(filter, track({ recipients: ['team', 'jane@example.com', 'ops'] }));
    expect(propertiesOf(result)).toEqual({ recipients: ['team', 'ops'] });
  });

  it('drops a card number stored as a number', () => {
    const filter = createPiiFilter({ detectors: { creditCard: 'drop' } });
    const result = run(filter, track({ card: 4111111111111111, total: 1299 }));
    expect(propertiesOf(result)).toEqual({ total: 1299 });
  });

  it('turns a detector off', () => {
    const filter = createPiiFilter({ detectors: { phone: 'off' } });
    const result = run(filter, track({ note: 'call 555-123-4567', mail: 'jane@example.com' }));
    expect(propertiesOf(result)).toEqual({ note: 'call 555-123-4567', mail: '[redacted:email]' });
  });

  it('combines per-detector actions', () => {
    const filter = createPiiFilter({
      detectors: { email: 'hash', phone: 'off', ipv4: 'drop' },
      hashSalt: salt,
    });
    const result = run(
      filter,
      track({ a: 'jane@example.com', b: '555-123-4567', c: '10.0.0.12', d: '123-45-6789' }),
    );
    expect(propertiesOf(result)).toEqual({
      a: sha256Hex(`${salt}jane@example.com`),
      b: '555-123-4567',
      d: '[redacted:ssn]',
    });
  });

  it.each<[string, PiiFilterOptions]>([
    ['keyAction', { keyAction: 'hash' }],
    ['a detector', { detectors: { email: 'hash' } }],
    ['an empty salt', { keyAction: 'hash', hashSalt: '' }],
  ])(
    'throws a ConfigurationError naming pii.hashSalt when %s hashes without a salt',
    (_, options) => {
      expect(() => createPiiFilter(options)).toThrow(ConfigurationError);
      expect(() => createPiiFilter(options)).toThrow(/pii\.hashSalt/);
    },
  );
});

describe('createPiiFilter allowlist', () => {
  it('keeps an allowed path and filters the same key elsewhere', () => {
    const filter = createPiiFilter({ allow: ['properties.name'] });
    const result = run(
      filter,
      track({ name: 'Pro plan', owner: { name: 'Jane' }, email: 'jane@example.com' }),
    );
    expect(propertiesOf(result)).toEqual({
      name: 'Pro plan',
      owner: { name: '[redacted]' },
      email: '[redacted]',
    });
  });

  it('keeps an allowed path in traits only when that path is listed', () => {
    const filter = createPiiFilter({ allow: ['properties.name'] });
    const result = run(filter, identify({ name: 'Jane Doe' }));
    expect(traitsOf(result)).toEqual({ name: '[redacted]' });
  });

  it('keeps an allowed key everywhere, including URL query strings', () => {
    const filter = createPiiFilter({ allow: ['email'] });
    const result = run(
      filter,
      track(
        { email: 'jane@example.com', nested: { email: 'a@b.com' }, password: 'x', note: 'a@b.com' },
        { page: { url: 'https://app.example.com/?email=a%40b.com&token=1' } },
      ),
    );
    expect(propertiesOf(result)).toEqual({
      email: 'jane@example.com',
      nested: { email: 'a@b.com' },
      password: '[redacted]',
      note: '[redacted:email]',
    });
    expect(result.context.page?.url).toBe('https://app.example.com/?email=a%40b.com&token=1');
  });
});

describe('createPiiFilter immutability', () => {
  const filter = createPiiFilter();

  it('never mutates a deep-frozen input and copies only changed branches', () => {
    const event = track(
      {
        untouched: { plan: 'pro', tags: ['a', 'b'] },
        user: { email: 'jane@example.com', tags: ['x', 'call 555-123-4567'] },
      },
      {
        page: { url: 'https://a.example.com/?email=a%40b.com' },
        library: { name: 'l', version: '1' },
      },
    );
    const snapshot = structuredClone(event);
    deepFreeze(event);
    const result = filter(event, stepContext);
    expect(event).toEqual(snapshot);
    expect(result).not.toBe(event);
    if (result === null || result instanceof Promise) throw new Error('expected an event');
    const properties = propertiesOf(result);
    expect(properties.untouched).toBe(event.properties.untouched);
    expect(properties.user).toEqual({ email: '[redacted]', tags: ['x', 'call [redacted:phone]'] });
    expect(result.context.library).toBe(event.context.library);
  });

  it('returns the very same event object when nothing changed', () => {
    const event = track(
      { plan: 'pro', items: [{ sku: 'A-1', price: 19.99 }], at: 1732356930123 },
      { page: { url: 'https://app.example.com/pricing?plan=pro#faq' } },
    );
    const result = run(filter, event);
    expect(result).toBe(event);
  });
});

describe('piiDetectors', () => {
  it('passesLuhn accepts valid checksums and rejects others', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn(LUHN_VALID_NO_ISSUER)).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(passesLuhn('79927398710')).toBe(false);
  });

  it('isPaymentCard needs both a real issuer prefix and a valid Luhn checksum', () => {
    expect(isPaymentCard('4111 1111 1111 1111')).toBe(true);
    expect(isPaymentCard('4111-1111-1111-1111')).toBe(true);
    expect(isPaymentCard('5555555555554444')).toBe(true);
    expect(isPaymentCard('378282246310005')).toBe(true);
    expect(isPaymentCard('6011111111111117')).toBe(true);
    expect(isPaymentCard('4111111111111112')).toBe(false);
    expect(isPaymentCard(LUHN_VALID_NO_ISSUER)).toBe(false);
  });

  it('isIpv6 accepts real addresses and rejects look-alikes', () => {
    expect(isIpv6('2001:db8:85a3::8a2e:370:7334')).toBe(true);
    expect(isIpv6('2001:0db8:85a3:0000:0000:8a2e:0370:7334')).toBe(true);
    expect(isIpv6('fe80::1ff:fe23:4567:890a')).toBe(true);
    expect(isIpv6('::ffff:192.168.1.20')).toBe(true);
    expect(isIpv6('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isIpv6('1::2::3')).toBe(false);
    expect(isIpv6('00:1A:2B:3C:4D:5E')).toBe(false);
    expect(isIpv6('12:30:45')).toBe(false);
    expect(isIpv6('d::')).toBe(false);
  });
});

describe('context.campaign', () => {
  const filter = createPiiFilter();
  const event = (campaign: Record<string, unknown>) =>
    ({
      type: 'track',
      event: 'x',
      properties: {},
      messageId: 'm',
      timestamp: '2026-01-01T00:00:00.000Z',
      anonymousId: 'a',
      context: { campaign },
    }) as AnalyticsEvent;

  it('keeps a campaign name: the `name` key rule is for people, not UTM campaigns', () => {
    const input = event({ source: 'newsletter', name: 'black_friday_2026' });
    expect(run(filter, input)).toBe(input);
  });

  it('still redacts personal data pasted into UTM values', () => {
    const result = run(filter, event({ name: 'promo', content: 'sent to ada@example.com' }));
    expect(result.context.campaign).toEqual({ name: 'promo', content: 'sent to [redacted:email]' });
  });
});
