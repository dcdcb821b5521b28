import type { Api } from './api';
import type { DayRange } from './dates';
import type { Panel } from './dom';

/** What every panel reads with: the API (key and tenant), the date range and the time zone. */
export interface Scope {
  api: Api;
  range: DayRange;
  tz: string;
  /** Event names seen in the range, most frequent first (the funnel's default steps). */
  eventNames: Promise<string[]>;
}

/** A panel of the dashboard: its section, and how it (re)loads for a scope. */
export interface DashboardPanel {
  panel: Panel;
  load(scope: Scope): Promise<void>;
}
