import { type StandardSchemaV1, ValidationError } from '@sightline/core';
import {
  type FieldSpec,
  type FixedEventOptions,
  firstIssue,
  fixedEventSchema,
  report,
  sendFixedEvent,
  text,
} from './fixedEvent';
import type { NodeAnalytics } from './nodeAnalytics';

/** The event that records which variant of an experiment a user saw. */
export const EXPERIMENT_EXPOSURE_EVENT = 'experiment_exposure';

/** The properties of an `experiment_exposure` event as the collector receives them. */
export interface ExperimentExposureProperties {
  [key: string]: unknown;
  experiment: string;
  variant: string;
}

const EXPOSURE_FIELDS: readonly FieldSpec[] = [
  { input: 'experiment', property: 'experiment', required: true, check: text(256, 'new-prompt') },
  { input: 'variant', property: 'variant', required: true, check: text(256, 'control') },
];

/**
 * The Standard Schema of `experiment_exposure` properties, for a typed event catalog.
 *
 * @example
 * defineEventCatalog({ [EXPERIMENT_EXPOSURE_EVENT]: experimentExposureSchema });
 */
export const experimentExposureSchema: StandardSchemaV1<ExperimentExposureProperties> =
  fixedEventSchema<ExperimentExposureProperties>(EXPOSURE_FIELDS);

/**
 * Records that a user saw `variant` of `experiment` (an `experiment_exposure` event), which the
 * collector's `GET /v1/experiments/:name` turns into per-variant conversion, lift and
 * significance. Track it when the variant is shown, not when it is assigned; the user's first
 * exposure decides its variant. Never throws: bad input goes to `options.onError` as a
 * `ValidationError` and nothing is sent.
 *
 * @example
 * trackExperimentExposure(analytics, 'new-prompt', variant, { userId: user.id });
 */
export function trackExperimentExposure(
  analytics: NodeAnalytics,
  experiment: string,
  variant: string,
  options: FixedEventOptions = {},
): void {
  const issue = firstIssue(EXPOSURE_FIELDS, { experiment, variant }, 'input');
  if (issue) {
    report(options?.onError, new ValidationError(issue.field, issue.fix));
    return;
  }
  sendFixedEvent(analytics, EXPERIMENT_EXPOSURE_EVENT, { experiment, variant }, options ?? {});
}
