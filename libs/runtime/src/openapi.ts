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
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
