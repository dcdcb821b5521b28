/**
 * Adds DOM event listeners and returns the function that removes them all.
 *
 * @example
 * const stop = listen(window, { pagehide: onHide, pageshow: onShow });
 */
export function listen(
  target: EventTarget,
  // biome-ignore lint/suspicious/noExplicitAny: each listener takes its own event type.
  listeners: Record<string, (event: any) => void>,
  capture = false,
): () => void {
  const entries = Object.entries(listeners);
  for (const [type, listener] of entries) target.addEventListener(type, listener, capture);
  return () => {
    for (const [type, listener] of entries) target.removeEventListener(type, listener, capture);
  };
}
