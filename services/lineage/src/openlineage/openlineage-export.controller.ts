import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Roles } from '@trellis/auth';
import { OpenLineageExportQuery } from './openlineage-export.query';

@ApiTags('lineage: OpenLineage')
@ApiBearerAuth()
@Controller('lineage/openlineage')
export class OpenLineageExportController {
  constructor(private readonly query: OpenLineageExportQuery) {}

  @Get('runs')
  @Roles('auditor', 'admin', 'engineer')
  @ApiOperation({
    summary:
      'Training runs as OpenLineage 2-0-2 run events in log order, with custom run facets trellis_consentCoverage (the snapshot: included and excluded items and why, consent time, Merkle root) and trellis_deidentification (methods behind its images); page with after = next',
  })
  @ApiQuery({ name: 'after', required: false, type: Number, description: 'position in the openlineage log; default 0' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1 to 1000; default 100' })
  runs(@Query('after') after?: string, @Query('limit') limit?: string) {
    return this.query.runs(after, limit);
  }
}
