/**
 * Ad-platform click ids read from landing-page URLs, into `context.clickIds`: by the browser SDK
 * when a session starts, and by the collector for events that carry none. One list, so an event
 * reports the same click ids whichever side read them.
 *
 * @example
 * for (const id of CLICK_IDS) if (url.searchParams.has(id)) clickIds[id] = url.searchParams.get(id)!;
 */
export const CLICK_IDS: readonly string[] = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
  'twclid',
  'epik',
  'rdt_cid',
  'sccid',
  'irclickid',
  'yclid',
  'mc_cid',
];
