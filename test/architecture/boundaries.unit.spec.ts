import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the rule is plain CommonJS for ESLint
const { violation } = require('../../eslint/boundaries.rule') as { violation(file: string, spec: string): string | undefined };

const at = (relPath: string) => join(__dirname, '..', '..', relPath);

describe('boundaries rule', () => {
  it('refuses a service importing another service, relatively or deeply', () => {
    expect(violation(at('services/ingestion/src/cli/ingest.command.ts'), '../../../platform/src/cli/cli-args')).toMatch(
      /services\/ingestion imports services\/platform/,
    );
    expect(violation(at('services/annotation/src/main.ts'), '../../ingestion/src/ingestion.module')).toMatch(/imports services\/ingestion/);
    expect(violation(at('services/lineage/src/audit/audit.module.ts'), '../../../annotation/src/annotation.module')).toMatch(
      /services\/lineage imports services\/annotation/,
    );
  });

  it('lets platform compose the services and a service import its own files and libraries', () => {
    expect(violation(at('services/platform/src/platform.module.ts'), '../../ingestion/src/ingestion.module')).toBeUndefined();
    expect(violation(at('services/ingestion/src/assets/assets.controller.ts'), '../ingestion.exception')).toBeUndefined();
    expect(violation(at('services/ingestion/src/main.ts'), '@trellis/runtime')).toBeUndefined();
  });

  it('refuses a library importing a service', () => {
    expect(violation(at('libs/runtime/src/run-service.ts'), '../../../services/ingestion/src/openapi')).toMatch(/libs\/runtime imports services\/ingestion/);
  });

  it('keeps the ML library, contracts and errors free of databases, brokers and servers', () => {
    expect(violation(at('libs/ml/src/train/trainer.ts'), '@trellis/event-store')).toMatch(/libs\/ml imports @trellis\/event-store/);
    expect(violation(at('libs/ml/src/train/trainer.ts'), '@trellis/messaging')).toMatch(/libs\/ml imports @trellis\/messaging/);
    expect(violation(at('libs/ml/src/train/trainer.ts'), 'typeorm')).toMatch(/libs\/ml imports typeorm/);
    expect(violation(at('libs/contracts/src/envelope.ts'), '@trellis/event-store')).toMatch(/libs\/contracts imports @trellis\/event-store/);
    expect(violation(at('libs/contracts/src/envelope.ts'), '@nestjs/common')).toMatch(/libs\/contracts imports @nestjs\/common/);
    expect(violation(at('libs/ml/src/model/model.exception.ts'), '@trellis/errors')).toBeUndefined();
    expect(violation(at('libs/ml/src/metrics/bleu.ts'), '@tensorflow/tfjs-core')).toBeUndefined();
  });
});
