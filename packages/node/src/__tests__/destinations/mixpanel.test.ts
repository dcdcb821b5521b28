import { ConfigurationError, type SightlineError } from '@sightline/core';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import type { ForwardingError } from '../../destinations/forwardingError';
import { type MixpanelDestinationOptions, mixpanelDestination } from '../../destinations/mixpanel';
import {
  basicCredentials,
  interceptProviders,
  mixpanelImports,
  mixpanelUpdates,
} from './providerServer';
import {
  aliasEvent,
  groupEvent,
  identifyEvent,
  pageEvent,
  TIME_MS,
  trackEvent,
} from './sampleEvents';
import { createTestClock, until } from './testClock';

const IMPORT = 'https://api.mixpanel.com/import';
const ENGAGE = 'https://api.mixpanel.com/engage';
const GROUPS = 'https://api.mixpanel.com/groups';
const mixpanel = interceptProviders({
  [IMPORT]: mixpanelImports,
  [ENGAGE]: mixpanelUpdates,
  [GROUPS]: mixpanelUpdates,
  'https://api-eu.mixpanel.com/import': mixpanelImports,
  'https://api-in.mixpanel.com/import': mixpanelImports,
});
const { requests } = mixpanel;
const to = (path: string) => requests.filter((request) => request.url.pathname === path);
/** The events of the `index`th request. */
const imported = (index = 0) => requests[index]!.body as ImportedEvent[];

interface ImportedEvent {
  event: string;
  properties: Record<string, unknown>;
}

const serviceAccount = { username: 'sa.sightline', secret: 'sa-secret', projectId: 3141592 };

function destination(options: Partial<MixpanelDestinationOptions> = {}) {
  const clock = createTestClock();
  const errors: ForwardingError[] = [];
  const forwarder = mixpanelDestination({
    projectToken: 'mp-token',
    serviceAccount,
    scheduler: clock.scheduler,
    onError: (error: SightlineError) => errors.push(error as ForwardingError),
    ...options,
  });
  return { forwarder, clock, errors };
}

describe('mixpanelDestination', () => {
  it('imports events as a JSON array with $insert_id = messageId, time in ms and both ids', async () => {
    const { forwarder } = destination();
    const event = trackEvent(
      'Order Completed',
      { total: 42.5, time: 1, $insert_id: 'spoofed' },
      { context: { ip: '203.0.113.7' } },
    );
    forwarder.send(event);
    await forwarder.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url.href).toBe(`${IMPORT}?strict=1&project_id=3141592`);
    expect(basicCredentials(request!)).toBe('sa.sightline:sa-secret');
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(request!.text)).toStrictEqual([
      {
        event: 'Order Completed',
        properties: {
          ip: '203.0.113.7',
          total: 42.5,
          time: TIME_MS,
          distinct_id: 'user-0042',
          $device_id: 'anon-0001',
          $user_id: 'user-0042',
          $insert_id: event.messageId,
        },
      },
    ]);
  });

  it('authenticates with the API secret as Basic username and an empty password', async () => {
    const { forwarder } = destination({ serviceAccount: undefined, apiSecret: 'api-secret' });
    forwarder.send(trackEvent('a'));
    await forwarder.flush();
    expect(requests[0]?.url.href).toBe(`${IMPORT}?strict=1`);
    expect(basicCredentials(requests[0]!)).toBe('api-secret:');
  });

  it('gzips import bodies of 1 KB or more', async () => {
    const { forwarder } = destination();
    const small = trackEvent('small');
    const large = trackEvent('large', { note: 'n'.repeat(2000) });
    forwarder.send(small);
    await forwarder.flush();
    forwarder.send(large);
    await forwarder.flush();

    expect(requests.map((request) => request.gzipped)).toEqual([false, true]);
    expect(requests.map((request) => request.headers.get('content-encoding'))).toEqual([
      null,
      'gzip',
    ]);
    expect(imported(1)[0]?.properties.$insert_id).toBe(large.messageId);
  });

  it('sends an anonymous event with distinct_id = anonymousId and no $user_id', async () => {
    const { forwarder } = destination();
    forwarder.send(trackEvent('visit', {}, { userId: undefined }));
    await forwarder.flush();
    const [event] = imported();
    expect(event?.properties).toStrictEqual({
      time: TIME_MS,
      distinct_id: 'anon-0001',
      $device_id: 'anon-0001',
      $insert_id: expect.any(String),
    });
  });

  it("maps page to $mp_web_page_view with Mixpanel's page properties, and screen to its own event", async () => {
    const { forwarder } = destination();
    const page = pageEvent();
    forwarder.send(page);
    forwarder.send(
      pageEvent({ type: 'screen', name: 'Settings', category: undefined, context: {} }),
    );
    await forwarder.flush();

    expect(imported().map((event) => event.event)).toEqual([
      '$mp_web_page_view',
      '[Sightline] Screen Viewed',
    ]);
    expect(imported()[0]?.properties).toStrictEqual({
      $current_url: 'https://example.com/pricing?ref=nav',
      current_page_title: 'Pricing',
      current_url_path: '/pricing',
      current_url_search: '?ref=nav',
      $referrer: 'https://google.com/',
      plan: 'pro',
      name: 'Pricing',
      category: 'marketing',
      time: TIME_MS,
      distinct_id: 'user-0042',
      $device_id: 'anon-0001',
      $user_id: 'user-0042',
      $insert_id: page.messageId,
    });
  });

  it('sends identify to the Engage API as a $set, with reserved traits renamed, ungzipped and without auth', async () => {
    const { forwarder } = destination();
    forwarder.send(
      identifyEvent({ email: 'ada@example.com', name: 'Ada', plan: 'pro', bio: 'b'.repeat(2000) }),
    );
    forwarder.send(identifyEvent({ plan: 'team' }, { context: { ip: '198.51.100.4' } }));
    await forwarder.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url.href).toBe(`${ENGAGE}?verbose=1`);
    expect(request?.headers.get('authorization')).toBeNull();
    expect(request?.gzipped).toBe(false); // the Engage API does not accept gzip
    expect(JSON.parse(request!.text)).toStrictEqual([
      {
        $token: 'mp-token',
        $distinct_id: 'user-0042',
        $ip: '0', // no client IP known: keep Mixpanel from placing the user at our server
        $set: { $email: 'ada@example.com', $name: 'Ada', plan: 'pro', bio: 'b'.repeat(2000) },
      },
      {
        $token: 'mp-token',
        $distinct_id: 'user-0042',
        $ip: '198.51.100.4',
        $set: { plan: 'team' },
      },
    ]);
  });

  it('sends group as a $union on the user profile and a $set on the group profile, and skips alias', async () => {
    const { forwarder } = destination();
    forwarder.send(groupEvent('org-77', { type: 'workspace', name: 'Acme' }));
    forwarder.send(groupEvent('org-78', {}));
    forwarder.send(aliasEvent());
    await forwarder.flush();

    expect(to('/engage').map((request) => request.body)).toStrictEqual([
      [
        {
          $token: 'mp-token',
          $distinct_id: 'user-0042',
          $ip: '0',
          $union: { workspace: ['org-77'] },
        },
        {
          $token: 'mp-token',
          $distinct_id: 'user-0042',
          $ip: '0',
          $union: { company: ['org-78'] },
        },
      ],
    ]);
    expect(to('/groups').map((request) => [request.url.search, request.body])).toStrictEqual([
      [
        '?verbose=1',
        [
          {
            $token: 'mp-token',
            $group_key: 'workspace',
            $group_id: 'org-77',
            $set: { name: 'Acme' },
          },
        ],
      ],
    ]);
    expect(to('/import')).toEqual([]);
    expect(forwarder.stats().skipped).toEqual({ alias_unsupported: 1 });
  });

  it('posts to the EU and India residency hosts', async () => {
    for (const region of ['eu', 'in'] as const) {
      const { forwarder } = destination({ region });
      forwarder.send(trackEvent('a'));
      await forwarder.flush();
    }
    expect(requests.map((request) => request.url.origin)).toEqual([
      'https://api-eu.mixpanel.com',
      'https://api-in.mixpanel.com',
    ]);
  });

  it('sends 2,001 events as 2,000 + 1 (at most 2,000 per /import request)', async () => {
    const { forwarder } = destination();
    for (let index = 0; index < 2001; index++) forwarder.send(trackEvent('bulk', { index }));
    await forwarder.flush();
    expect(requests.map((request) => (request.body as unknown[]).length)).toEqual([2000, 1]);
  });

  it('drops only the failed_records of a strict-mode 400, since Mixpanel ingested the rest', async () => {
    const { forwarder, errors, clock } = destination();
    const events = [trackEvent('ok'), trackEvent('bad'), trackEvent('fine')];
    mixpanel.answerNext(IMPORT, () =>
      HttpResponse.json(
        {
          code: 400,
          error: 'some data points in the request failed validation',
          failed_records: [
            {
              index: 1,
              $insert_id: events[1]?.messageId,
              field: 'properties.time',
              message: "'properties.time' is invalid",
            },
          ],
          num_records_imported: 2,
          status: 'Bad Request',
        },
        { status: 400 },
      ),
    );
    for (const event of events) forwarder.send(event);
    await forwarder.flush();

    expect(requests).toHaveLength(1); // nothing resent: the valid two were imported
    expect(clock.pending()).toEqual([]);
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['http_400', [events[1]?.messageId]],
    ]);
    expect(errors[0]?.message).toContain("'properties.time' is invalid");
    expect(forwarder.stats()).toMatchObject({ delivered: 2, dropped: { http_400: 1 } });
  });

  it('reports a profile update the Engage API refused in its 200 answer, without retrying', async () => {
    const { forwarder, errors } = destination();
    mixpanel.answerNext(ENGAGE, () =>
      HttpResponse.json({ error: '$distinct_id is required', status: 0 }),
    );
    forwarder.send(identifyEvent({ plan: 'pro' }));
    await forwarder.flush();
    expect(requests).toHaveLength(1);
    expect(errors.map((error) => [error.reason, error.destination])).toEqual([
      ['http_200', 'mixpanel'],
    ]);
    expect(errors[0]?.message).toContain('$distinct_id is required');
  });

  it('retries a 429 with backoff and imports the batch once it is accepted', async () => {
    const { forwarder, clock } = destination();
    mixpanel.answerNext(IMPORT, () =>
      HttpResponse.json(
        {
          code: 429,
          error: 'Project exceeded rate limits. Please retry the request with exponential backoff.',
        },
        { status: 429 },
      ),
    );
    forwarder.send(trackEvent('a'));
    const flushing = forwarder.flush();
    await until(() => clock.pending().length === 1);
    clock.advance(1000);
    await flushing;
    expect(requests).toHaveLength(2);
    expect(requests[1]?.text).toBe(requests[0]?.text);
    expect(forwarder.stats().delivered).toBe(1);
  });

  it('throws at once, naming the option, without a token or with no (or both) credentials', () => {
    expect(() => mixpanelDestination({ projectToken: '', apiSecret: 's' })).toThrow(
      ConfigurationError,
    );
    expect(() => mixpanelDestination({ projectToken: 't' })).toThrow(/`serviceAccount`/);
    expect(() =>
      mixpanelDestination({ projectToken: 't', apiSecret: 's', serviceAccount }),
    ).toThrow(/`serviceAccount`/);
    expect(() =>
      mixpanelDestination({ projectToken: 't', apiSecret: 's', region: 'mars' as never }),
    ).toThrow(/`region`/);
  });
});
