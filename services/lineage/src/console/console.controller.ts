import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@trellis/auth';
import { LineageErrorCode, LineageException } from '../lineage.exception';
import { ConsoleFiles } from './console-files';

/** What these handlers use of Express's response. */
interface PageResponse {
  status(code: number): PageResponse;
  setHeader(name: string, value: string): void;
  /** Sends the body with an ETag, answering 304 when the browser's copy is current. */
  send(body: string | Buffer): void;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trellis console</title></head>
<body><h1>The console has not been built</h1><p><code>npm start</code> builds it; by hand: <code>npm run console:build</code>.</p></body></html>`;

/**
 * The web console at /console (both profiles: the platform serves it, and the distributed
 * gateway routes /console here). Its files are public, like /graphiql: they hold no data; every
 * request the console makes to the API carries the token its user signs in with.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly files = new ConsoleFiles();

  @Get()
  @Public()
  index(@Res() res: PageResponse): void {
    const page = this.files.index();
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    if (!page) res.status(503).send(NOT_BUILT);
    else res.send(page);
  }

  @Get('assets/:name')
  @Public()
  asset(@Param('name') name: string, @Res() res: PageResponse): void {
    const file = this.files.asset(name);
    if (!file) throw new LineageException(LineageErrorCode.NotFound, 'no such console asset');
    res.setHeader('Content-Type', file.contentType);
    // Vite names each file by its content's hash: a new build has new names.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.send(file.body);
  }
}
