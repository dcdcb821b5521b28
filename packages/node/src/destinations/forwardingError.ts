import { DeliveryError } from '@sightline/core';

/**
 * Events a forwarding destination gave up on: the provider refused them, retries ran out, the
 * queue overflowed, or the destination closed first. Reported through the destination's
 * `onError`, never thrown; `destination` and `messageIds` say which provider and which events.
 *
 * @example
 * amplitudeDestination({
 *   apiKey,
 *   onError: (error) => {
 *     if (error instanceof ForwardingError) log.warn(error.destination, error.reason, error.messageIds);
 *   },
 * });
 */
export class ForwardingError extends DeliveryError {
  /** The destination's name, e.g. `amplitude`. */
  readonly destination: string;
  /** The Sightline message ids of the events concerned (the provider's insert ids). */
  readonly messageIds: readonly string[];

  constructor(destination: string, reason: string, messageIds: readonly string[], detail: string) {
    super(reason, messageIds.length, `destination "${destination}": ${detail}`);
    this.destination = destination;
    this.messageIds = messageIds;
  }
}
