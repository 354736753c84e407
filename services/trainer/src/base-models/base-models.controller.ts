import { Body, Controller, Get, Param, Post, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FilesInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '@trellis/auth';
import { BASE_MODEL_PRESETS, type Actor } from '@trellis/contracts';
import { BaseModelUseCases } from './base-model.usecases';

/** TRAINER_IMPORT_MAX_BYTES, default 2 GiB: the largest file of an uploaded checkpoint (a bigger model is sharded). */
function importLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.TRAINER_IMPORT_MAX_BYTES);
  return Number.isInteger(n) && n > 0 ? n : 2 * 1024 ** 3;
}

@ApiTags('trainer: base models')
@ApiBearerAuth()
@Controller('training/base-models')
export class BaseModelsController {
  constructor(private readonly baseModels: BaseModelUseCases) {}

  @Post()
  @Roles('engineer')
  @ApiOperation({
    summary:
      'Make a preset base model: `tiny` initializes the tiny multimodal model and pre-trains it on the synthetic data set, stores the checkpoint (safetensors, config.json, tokenizer.json) and registers it (BaseModelRegistered)',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['preset'],
      properties: {
        preset: { type: 'string', enum: [...BASE_MODEL_PRESETS] },
        seed: { type: 'integer', minimum: 0, default: 0 },
        steps: { type: 'integer', minimum: 0, description: 'pre-training steps; default the preset’s' },
      },
    },
  })
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.baseModels.create(body, actor);
  }

  @Post('import')
  @Roles('engineer')
  // Multer keeps the parts in memory up to the limit and refuses anything larger (413).
  @UseInterceptors(FilesInterceptor('files', 40, { limits: { fileSize: importLimitBytes(), fields: 0 } }))
  @ApiConsumes('multipart/form-data')
  @ApiOperation({
    summary:
      'Register your own base checkpoint: upload the files of a Hugging Face LLaVA-layout directory with a Mistral or Llama text model (config.json, tokenizer.json, model*.safetensors) as parts named "files"; it is loaded and checked before it is registered',
  })
  @ApiBody({ schema: { type: 'object', required: ['files'], properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } } } })
  import(@UploadedFiles() files: { originalname: string; buffer: Buffer }[] | undefined, @CurrentActor() actor: Actor) {
    return this.baseModels.import(files ?? [], actor);
  }

  @Get()
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'Registered base models, newest first' })
  list() {
    return this.baseModels.list();
  }

  @Get(':baseModelId')
  @Roles('engineer', 'approver', 'auditor')
  @ApiOperation({ summary: 'A registered base model: its files and hashes, architecture and pre-training' })
  get(@Param('baseModelId') baseModelId: string) {
    return this.baseModels.get(baseModelId);
  }
}
