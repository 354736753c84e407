import type { INestApplication } from '@nestjs/common';
import { SafeInputPipe } from './safe-input.pipe';

/**
 * Headers every response carries. The CSP allows only this origin (the console will be served
 * from it, working offline), inline styles for the OpenAPI page, and images from data/blob URLs
 * for media previews; nothing may frame the platform.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

type Next = () => void;
interface HeaderResponse {
  setHeader(name: string, value: string): void;
}

/**
 * Security headers on every route, no `X-Powered-By` advertising the framework, and the one
 * input check every parameter and body passes (SafeInputPipe).
 */
export function hardenHttp(app: INestApplication): void {
  app.useGlobalPipes(new SafeInputPipe());
  const express = app.getHttpAdapter().getInstance() as { disable?(setting: string): void };
  express.disable?.('x-powered-by');
  app.use((_req: unknown, res: HeaderResponse, next: Next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    next();
  });
}
