import type { Properties } from '@sightline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AutoTrackOptions, watchDataAttributes } from '../autoTrack';

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
  document.body.innerHTML = '';
});

function watch(html: string, options?: AutoTrackOptions) {
  document.body.innerHTML = html;
  const tracked: Array<[string, Properties]> = [];
  stop = watchDataAttributes((event, properties) => tracked.push([event, properties]), options);
  return tracked;
}

const click = (selector: string) =>
  document
    .querySelector<HTMLElement>(selector)!
    .dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));

describe('click tracking through data attributes', () => {
  it('tracks the seed form: data-analytics-track with data-analytics-feature', () => {
    const tracked = watch(
      '<button data-analytics-track="feature_click" data-analytics-feature="generate">Generate</button>',
    );
    click('button');
    expect(tracked).toEqual([['feature_click', { feature: 'generate' }]]);
  });

  it('reads data-analytics-prop-* properties, dashes becoming underscores', () => {
    const tracked = watch(
      '<a href="#" data-analytics-track="plan_selected" data-analytics-prop-plan="pro" data-analytics-prop-billing-cycle="yearly">Pro</a>',
    );
    click('a');
    expect(tracked).toEqual([['plan_selected', { plan: 'pro', billing_cycle: 'yearly' }]]);
  });

  it('tracks clicks on a child of the tracked element, and ignores untracked elements', () => {
    const tracked = watch(
      '<div data-analytics-track="card_opened"><span id="inner">Open</span></div><p id="plain">x</p>',
    );
    click('#inner');
    click('#plain');
    expect(tracked).toEqual([['card_opened', {}]]);
  });

  it('never prevents the default action, and sees clicks whose propagation a handler stops', () => {
    const tracked = watch('<a id="go" href="#next" data-analytics-track="nav_clicked">Next</a>');
    const link = document.querySelector('#go')!;
    link.addEventListener('click', (event) => event.stopPropagation());
    const event = new MouseEvent('click', { bubbles: true, cancelable: true });
    link.dispatchEvent(event);
    expect(event.defaultPrevented).toBe(false);
    expect(tracked).toEqual([['nav_clicked', {}]]);
  });

  it('uses a configured attribute prefix', () => {
    const tracked = watch('<button data-track-track="x" data-track-prop-a="1">x</button>', {
      prefix: 'data-track',
    });
    click('button');
    expect(tracked).toEqual([['x', { a: '1' }]]);
  });

  it('can be switched off per feature, and stop() removes the listeners', () => {
    const off = watch('<button data-analytics-track="x">x</button>', { clicks: false });
    click('button');
    expect(off).toEqual([]);
    stop?.();
    const on = watch('<button data-analytics-track="x">x</button>');
    stop?.();
    stop = undefined;
    click('button');
    expect(on).toEqual([]);
  });
});

describe('form tracking through data attributes', () => {
  const FORM = `<form data-analytics-form="contact_form">
      <input type="email" name="email" required>
      <input type="text" name="message">
      <input type="checkbox" name="topics" value="a"><input type="checkbox" name="topics" value="b">
      <button type="submit">Submit</button>
    </form>`;

  it('tracks form_started on the first interaction and form_submitted on submit, never a value', () => {
    const tracked = watch(FORM);
    const email = document.querySelector<HTMLInputElement>('input[name="email"]')!;
    email.value = 'jane@example.com';
    email.dispatchEvent(new Event('input', { bubbles: true }));
    email.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true }));
    const expected = {
      form: 'contact_form',
      field_names: ['email', 'message', 'topics'],
      field_count: 3,
    };
    expect(tracked).toEqual([
      ['form_started', expected],
      ['form_submitted', expected],
    ]);
    expect(JSON.stringify(tracked)).not.toContain('jane@example.com');
  });

  it('tracks form_started before form_submitted when a form is submitted untouched', () => {
    const tracked = watch(FORM);
    document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true }));
    expect(tracked.map(([event]) => event)).toEqual(['form_started', 'form_submitted']);
  });

  it('ignores forms without the attribute', () => {
    const tracked = watch('<form><input name="q"></form>');
    document.querySelector('input')!.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true }));
    expect(tracked).toEqual([]);
  });
});
