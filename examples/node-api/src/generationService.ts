import type { Decorators } from '@sightline/node';

export interface Generation {
  id: string;
  model: string;
  prompt: string;
}

/**
 * A service whose methods are tracked by decorators (legacy `experimentalDecorators`, as NestJS
 * apps use them; TC39 decorators work the same way): no tracking code in the methods.
 */
export function createGenerationService({ Track, TrackOperation }: Decorators) {
  class GenerationService {
    #count = 0;

    /** `generation_started`, then `generation_completed` with `duration_ms`, or `generation_failed`. */
    @TrackOperation('generation', {
      properties: ([model]: [string, string]) => ({ model }),
    })
    async generate(model: string, prompt: string): Promise<Generation> {
      if (prompt.trim() === '') throw new Error('prompt is empty');
      await new Promise((resolve) => setTimeout(resolve, 20)); // the model at work
      return { id: `gen-${++this.#count}`, model, prompt };
    }

    /** `project_created` with the new project's id, once it exists. */
    @Track('project_created', {
      properties: (_args: [string], result: { id: string }) => ({ project_id: result.id }),
    })
    createProject(name: string): { id: string; name: string } {
      return { id: `prj-${name.toLowerCase().replace(/\W+/g, '-')}`, name };
    }
  }
  return new GenerationService();
}
