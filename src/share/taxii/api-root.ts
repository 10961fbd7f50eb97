/** A TAXII API root's information (GET /{root}/). */
import { principalOf, sendTaxii } from '../http.ts';
import { RootParams, type TaxiiRoutes } from './scope.ts';

export function registerApiRoot({ app, ctx, scope }: TaxiiRoutes): void {
  app.get<{ Params: { root: string } }>(
    '/:root/',
    { schema: { params: RootParams } },
    async (request, reply) => {
      const root = await scope.rootFor(principalOf(request), request.params.root);
      return sendTaxii(reply, 200, {
        title: root.title,
        description: root.description,
        versions: ['application/taxii+json;version=2.1'],
        max_content_length: ctx.config.bodyLimitBytes,
      });
    },
  );
}
