type Kind = 'string' | 'number';
type Shape = Record<string, Kind>;
type Infer<S extends Shape> = { [Key in keyof S]: S[Key] extends 'number' ? number : string };

/**
 * A Standard Schema for flat objects of strings and numbers: the interface zod, valibot and
 * arktype implement, written out so this example needs none of them. An app would use
 * `z.object({ assetId: z.string() })` instead.
 *
 * @example
 * const assetViewed = fields({ assetId: 'string', projectId: 'string' });
 */
export function fields<const S extends Shape>(shape: S) {
  return {
    '~standard': {
      version: 1 as const,
      vendor: 'sightline-example',
      validate(value: unknown) {
        const record = (value ?? {}) as Record<string, unknown>;
        const issues = Object.entries(shape)
          .filter(([key, kind]) => typeof record[key] !== kind)
          .map(([key, kind]) => ({ message: `expected a ${kind}`, path: [key] }));
        return issues.length > 0 ? { issues } : { value: record as Infer<S> };
      },
      /** Types only: what the catalog infers each event's properties from. */
      types: undefined as unknown as { input: Infer<S>; output: Infer<S> },
    },
  };
}
