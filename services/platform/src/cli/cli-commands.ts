import type { CliCommand } from '@trellis/cli';
import { ingestCommand } from '../../../ingestion/src/cli/ingest.command';
import { subjectsCommand } from '../../../ingestion/src/cli/subjects-import.command';
import { annotationCommand } from '../../../annotation/src/cli/annotation.command';
import { baseModelCommand, trainCommand } from '../../../trainer/src/cli/train.command';
import { approveCommand, evalCommand, modelsCommand, promoteCommand } from '../../../registry/src/cli/registry.command';
import { auditCommand, lineageCommand } from '../../../lineage/src/cli/lineage.command';
import { demoCommand } from '../demo/demo.command';
import { syntheticCommand } from './synthetic.command';
import { tokenCommand } from './token.command';

/** One entry per command; services add theirs here. */
export const CLI_COMMANDS: Record<string, CliCommand> = {
  ingest: ingestCommand,
  subjects: subjectsCommand,
  annotation: annotationCommand,
  train: trainCommand,
  'base-model': baseModelCommand,
  models: modelsCommand,
  eval: evalCommand,
  promote: promoteCommand,
  approve: approveCommand,
  lineage: lineageCommand,
  audit: auditCommand,
  demo: demoCommand,
  synthetic: syntheticCommand,
  token: tokenCommand,
};
