import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { Public } from '@trellis/auth';
import { SECURITY_HEADERS } from '@trellis/runtime';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { GRAPHIQL_ASSETS, GRAPHIQL_BOOT_SCRIPT, graphiqlAssetPath, graphiqlPage } from './graphiql.assets';

/** What these handlers use of Express's response. */
interface PageResponse {
  setHeader(name: string, value: string): void;
  /** Sends the body with an ETag, answering 304 when the browser's copy is current. */
  send(body: string | Buffer): void;
}

/**
 * GraphiQL at /graphiql, served from the installed npm packages (no CDN, works offline). The page
 * and its scripts are public, like /docs: they hold no data, and every query they send to
 * /graphql needs a token, typed into the headers editor.
 */
@ApiExcludeController()
@Controller('graphiql')
export class GraphiqlController {
  private readonly page = graphiqlPage('/graphiql');
  /** Read on first use (1.4 MB in all), then served from memory. */
  private readonly files = new Map<string, Buffer>();

  @Get()
  @Public()
  index(@Res() res: PageResponse): void {
    // graphiql.min.css carries its fonts as data: URLs, which the platform-wide CSP (font-src
    // falls back to 'self') would block; this page alone allows them.
    res.setHeader('Content-Security-Policy', `${SECURITY_HEADERS['Content-Security-Policy']}; font-src 'self' data:`);
    this.send(res, 'text/html; charset=utf-8', this.page);
  }

  @Get('assets/graphiql-boot.js')
  @Public()
  boot(@Res() res: PageResponse): void {
    this.send(res, 'text/javascript; charset=utf-8', GRAPHIQL_BOOT_SCRIPT);
  }

  @Get('assets/:name')
  @Public()
  asset(@Param('name') name: string, @Res() res: PageResponse): void {
    const asset = Object.hasOwn(GRAPHIQL_ASSETS, name) ? GRAPHIQL_ASSETS[name] : undefined;
    if (!asset) throw new LineageException(LineageErrorCode.NotFound, 'no such GraphiQL asset');
    let body = this.files.get(name);
    if (!body) {
      body = readFileSync(graphiqlAssetPath(asset));
      this.files.set(name, body);
    }
    this.send(res, asset.contentType, body);
  }

  private send(res: PageResponse, contentType: string, body: string | Buffer): void {
    res.setHeader('Content-Type', contentType);
    // Revalidated by ETag, so an upgraded package is picked up at once.
    res.setHeader('Cache-Control', 'no-cache');
    res.send(body);
  }
}
