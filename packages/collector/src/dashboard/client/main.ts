/**
 * The collector's dashboard page: sign-in with a read key (kept in sessionStorage for this tab),
 * a tenant picker for admin keys, the range and time-zone controls, and the panels. Served by
 * the collector at `<mount>/dashboard`; every request goes to the read API of that mount.
 */
import { type Api, ApiError, createApi, errorMessage, type TenantEntry } from './api';
import { createAttributionPanel } from './attributionPanel';
import { isDay, lastDays } from './dates';
import { field, h, replace, select } from './dom';
import { createEventsPanel } from './eventsPanel';
import { createFunnelPanel } from './funnelPanel';
import { createKpiPanel } from './kpiPanel';
import { createRetentionPanel } from './retentionPanel';
import type { DashboardPanel, Scope } from './scope';
import { createSeriesPanel } from './seriesPanel';

const STORAGE = {
  key: 'sightline.dashboard.readKey',
  tenant: 'sightline.dashboard.tenant',
  tz: 'sightline.dashboard.tz',
  range: 'sightline.dashboard.range',
} as const;
const PRESETS = [
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
  ['custom', 'Custom'],
] as const;

/** The collector's mount point: the page is `<mount>/dashboard`. */
const base = new URL('.', location.href);
const root = document.getElementById('app')!;

/** Who signed in: the key, and for an admin key (tenant `*`) the tenants it may pick from. */
interface Session {
  key: string;
  tenants: TenantEntry[] | undefined;
}

/**
 * Checks a read key: `GET /v1/tenants` answers an admin key with the tenant list and a tenant's
 * key with 403 `admin_key_required` (a valid key all the same); 401 means an unknown key.
 */
async function verify(key: string): Promise<Session> {
  try {
    const { tenants } = await createApi(base, key, undefined).get<{ tenants: TenantEntry[] }>(
      'v1/tenants',
    );
    return { key, tenants };
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return { key, tenants: undefined };
    throw error;
  }
}

function showSignIn(message?: string): void {
  const input = h('input', {
    id: 'read-key',
    name: 'readKey',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
  });
  const error = h(
    'p',
    { class: 'error', role: 'alert', id: 'sign-in-error', hidden: !message },
    message ?? '',
  );
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-describedby': 'sign-in-note' },
    h('label', { for: 'read-key' }, 'Read key'),
    input,
    button,
    error,
  );
  replace(
    root,
    h(
      'main',
      { id: 'main', class: 'sign-in-page' },
      h('h1', {}, 'Sightline'),
      form,
      h(
        'p',
        { class: 'note', id: 'sign-in-note' },
        'Sign in with a read key of this collector. It stays in this browser tab only (sessionStorage) and is sent to this collector alone.',
      ),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    button.disabled = true;
    error.hidden = true;
    try {
      const session = await verify(key);
      sessionStorage.setItem(STORAGE.key, key);
      showDashboard(session);
    } catch (failure) {
      error.hidden = false;
      error.textContent =
        failure instanceof ApiError && failure.status === 401
          ? 'That read key is not known to this collector.'
          : `Could not sign in: ${errorMessage(failure)}`;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  input.focus();
}

function timeZones(): string[] {
  const browser = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const known =
    typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', browser, ...known])];
}

/** Event names of the range by count, most frequent first (never rejects: pickers stay empty). */
async function eventNames(api: Api, from: string, to: string): Promise<string[]> {
  try {
    const { usage } = await api.get<{ usage: Array<{ event: string; count: number }> }>(
      'v1/usage',
      { from, to },
    );
    const counts = new Map<string, number>();
    for (const row of usage) counts.set(row.event, (counts.get(row.event) ?? 0) + row.count);
    return [...counts].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  } catch {
    return [];
  }
}

/**
 * The scope the dashboard opens on: a link's range and time zone
 * (`dashboard#from=2024-05-01&to=2024-05-31&tz=Europe/Paris`), else the tab's last preset (30
 * days by default) in its last time zone.
 */
function openingScope(zones: readonly string[]): {
  preset: string;
  tz: string;
  from: string;
  to: string;
} {
  const linked = new URLSearchParams(location.hash.slice(1));
  const linkedFrom = linked.get('from') ?? '';
  const linkedTo = linked.get('to') ?? '';
  const linkedTz = linked.get('tz');
  const tz =
    linkedTz && zones.includes(linkedTz)
      ? linkedTz
      : (sessionStorage.getItem(STORAGE.tz) ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  if (isDay(linkedFrom) && isDay(linkedTo) && linkedFrom <= linkedTo) {
    return { preset: 'custom', tz, from: linkedFrom, to: linkedTo };
  }
  const stored = sessionStorage.getItem(STORAGE.range) ?? '30';
  const preset =
    stored === 'custom' || !PRESETS.some(([value]) => value === stored) ? '30' : stored;
  return { preset, tz, ...lastDays(Number(preset), tz) };
}

function showDashboard(session: Session): void {
  const tenants = session.tenants;
  const storedTenant = sessionStorage.getItem(STORAGE.tenant);
  const tenant =
    tenants && tenants.length > 0
      ? tenants.some(({ tenant }) => tenant === storedTenant)
        ? storedTenant!
        : tenants[0]!.tenant
      : undefined;
  const zones = timeZones();
  const opening = openingScope(zones);
  // The funnel's default steps wait for the range's event names: ask for them first, while the
  // page is built, so the funnel's own request does not start after every other panel's.
  let openingNames: Promise<string[]> | undefined =
    tenants && tenants.length === 0
      ? undefined
      : eventNames(createApi(base, session.key, tenant), opening.from, opening.to);
  const tenantSelect =
    tenant !== undefined && tenants
      ? select(
          'tenant',
          tenants.map(({ tenant }) => [tenant, tenant] as const),
          tenant,
        )
      : undefined;
  const preset = select('range', PRESETS, opening.preset);
  const tz = select(
    'tz',
    zones.map((zone) => [zone, zone] as const),
    opening.tz,
  );
  const from = h('input', { type: 'date', name: 'from', required: true });
  const to = h('input', { type: 'date', name: 'to', required: true });
  const rangeError = h('p', { class: 'error', role: 'alert', hidden: true });
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  const scopeForm = h(
    'form',
    { class: 'scope', 'aria-label': 'Dashboard scope' },
    tenantSelect ? field('Tenant', tenantSelect) : null,
    field('Date range', preset),
    field('From', from),
    field('To', to),
    field('Time zone', tz),
  );
  const eventList = h('datalist', { id: 'event-names' });
  const panels: DashboardPanel[] = [
    createKpiPanel(),
    createSeriesPanel(),
    createFunnelPanel(),
    createRetentionPanel(),
    createAttributionPanel(),
    createEventsPanel(),
  ];

  function applyPreset() {
    if (preset.value === 'custom') return;
    const range = lastDays(Number(preset.value), tz.value);
    from.value = range.from;
    to.value = range.to;
  }

  function reload() {
    if (!isDay(from.value) || !isDay(to.value) || from.value > to.value) {
      rangeError.hidden = false;
      rangeError.textContent = 'Choose a range whose start is on or before its end.';
      return;
    }
    rangeError.hidden = true;
    history.replaceState(
      null,
      '',
      preset.value === 'custom'
        ? `#${new URLSearchParams({ from: from.value, to: to.value, tz: tz.value })}`
        : location.pathname + location.search,
    );
    const tenant = tenantSelect?.value;
    if (tenant !== undefined) sessionStorage.setItem(STORAGE.tenant, tenant);
    sessionStorage.setItem(STORAGE.tz, tz.value);
    sessionStorage.setItem(STORAGE.range, preset.value);
    document.documentElement.dataset.tenant = tenant ?? '';
    const api = createApi(base, session.key, tenant);
    const range = { from: from.value, to: to.value };
    const names =
      openingNames && range.from === opening.from && range.to === opening.to
        ? openingNames
        : eventNames(api, range.from, range.to);
    openingNames = undefined;
    void names.then((list) => {
      eventList.replaceChildren(...list.map((name) => h('option', { value: name })));
    });
    const scope: Scope = { api, range, tz: tz.value, eventNames: names };
    for (const { load } of panels) void load(scope);
  }

  preset.addEventListener('change', () => {
    applyPreset();
    reload();
  });
  tz.addEventListener('change', () => {
    applyPreset();
    reload();
  });
  tenantSelect?.addEventListener('change', reload);
  for (const input of [from, to]) {
    input.addEventListener('change', () => {
      preset.value = 'custom';
      reload();
    });
  }
  scopeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    reload();
  });
  signOut.addEventListener('click', () => {
    for (const name of Object.values(STORAGE)) sessionStorage.removeItem(name);
    showSignIn();
  });

  from.value = opening.from;
  to.value = opening.to;
  if (tenants && tenants.length === 0) {
    rangeError.hidden = false;
    rangeError.textContent = 'This collector knows no tenant yet: send events first.';
  } else {
    // The panels' requests go out before the page is attached and laid out.
    reload();
  }
  replace(
    root,
    h('header', { class: 'top' }, h('h1', {}, 'Sightline'), scopeForm, signOut),
    h(
      'main',
      { id: 'main', tabindex: -1 },
      rangeError,
      eventList,
      ...panels.map(({ panel }) => panel.section),
    ),
  );
}

async function start(): Promise<void> {
  const key = sessionStorage.getItem(STORAGE.key);
  if (!key) {
    showSignIn();
    return;
  }
  try {
    showDashboard(await verify(key));
  } catch (error) {
    sessionStorage.removeItem(STORAGE.key);
    showSignIn(`Please sign in again: ${errorMessage(error)}`);
  }
}

void start();
