import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * OpenAPI document of every REST controller in the app, served at /docs (UI) and /docs-json.
 * Both are plain routes on the HTTP adapter, outside the auth guard: the API's shape is public,
 * its data is not.
 */
export function setupOpenApi(app: INestApplication, title = 'Trellis'): void {
  const config = new DocumentBuilder()
    .setTitle(title)
    .setDescription('Event-sourced data and model lifecycle platform. Authenticate with an API token: `Authorization: Bearer trl_...`.')
    .setVersion('0.1.0')
    .addBearerAuth()
    .build();
  const document = withErrorSchema(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

type OpenApiDocument = ReturnType<typeof SwaggerModule.createDocument>;

/**
 * Every operation answers errors with the one body of HttpExceptionFilter; documenting it once
 * here keeps the schema and the filter from drifting apart per controller.
 */
export function withErrorSchema(document: OpenApiDocument): OpenApiDocument {
  document.components = document.components ?? {};
  document.components.schemas = {
    ...document.components.schemas,
    Error: {
      type: 'object',
      required: ['error', 'reason', 'message'],
      properties: {
        error: { type: 'string', description: 'the error code, e.g. ASSET_REJECTED', example: 'ASSET_REJECTED' },
        reason: {
          type: 'string',
          description: 'the most specific machine-readable reason (e.g. TRUNCATED); the code where there is none finer',
          example: 'TRUNCATED',
        },
        message: { type: 'string', description: 'for people; never echoes personal data' },
        fields: { type: 'array', items: { type: 'string' }, description: 'offending input fields, as dotted paths' },
      },
    },
  };
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      operation.responses['4XX'] = { description: 'refused: bad input, credentials, role, missing or conflicting state', ...error };
      operation.responses['5XX'] = { description: 'the platform failed or a dependency is away', ...error };
    }
  }
  return document;
}
