import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { pipeline } from 'node:stream/promises';
import { Public } from '@trellis/auth';
import { FilesystemObjectStorage } from './filesystem-object-storage';
import { OBJECT_STORAGE, ObjectStorage } from './object-storage';
import { StorageErrorCode, StorageException } from './storage.exception';
import { DOWNLOAD_ROUTE } from './download-link.signer';

interface DownloadResponse extends NodeJS.WritableStream {
  setHeader(name: string, value: string | number): void;
}

/**
 * Serves the filesystem adapter's signed download links. Public on purpose: the signature is
 * the credential (as with an S3 presigned URL). With S3 storage the links point at S3, so
 * nothing is served here.
 */
@Controller(DOWNLOAD_ROUTE)
export class StorageDownloadController {
  constructor(@Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage) {}

  @Public()
  @Get(':area/*key')
  async download(
    @Param('area') area: string,
    @Param('key') keyParam: string | string[],
    @Query('expires') expires: unknown,
    @Query('signature') signature: unknown,
    @Res() res: DownloadResponse,
  ): Promise<void> {
    if (!(this.storage instanceof FilesystemObjectStorage)) {
      throw new StorageException(StorageErrorCode.NotFound, 'download links are served by the object store itself in this deployment');
    }
    // Express 5 hands a wildcard parameter over as its segments.
    const key = Array.isArray(keyParam) ? keyParam.join('/') : keyParam;
    const { stream, size } = await this.storage.openVerified(area, key, expires, signature);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', size);
    res.setHeader('Cache-Control', 'private, no-store');
    await pipeline(stream, res);
  }
}
