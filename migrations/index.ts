import { CreateEventStore1764270000000 } from './1764270000000-CreateEventStore';
import { CreateApiTokens1764270001000 } from './1764270001000-CreateApiTokens';
import { CreateAppendFunction1764270002000 } from './1764270002000-CreateAppendFunction';
import { CreateMessaging1764270003000 } from './1764270003000-CreateMessaging';
import { CreateIngestion1764300000000 } from './1764300000000-CreateIngestion';
import { CreateAnnotation1764400000000 } from './1764400000000-CreateAnnotation';
import { AnnotationReleasedAssignments1764400001000 } from './1764400001000-AnnotationReleasedAssignments';
import { AnnotationAnswerViews1764400002000 } from './1764400002000-AnnotationAnswerViews';
import { AnnotationPendingDatasetVersions1764400003000 } from './1764400003000-AnnotationPendingDatasetVersions';
import { AnnotationArchiveAndReannotation1764500000000 } from './1764500000000-AnnotationArchiveAndReannotation';
import { CreatePrincipals1764500001000 } from './1764500001000-CreatePrincipals';
import { SealSubjectIdentities1764600000000 } from './1764600000000-SealSubjectIdentities';
import { CreateTrainer1764700000000 } from './1764700000000-CreateTrainer';
import { CreateRegistry1764800000000 } from './1764800000000-CreateRegistry';
import { CreateRegistryWebhooks1764800000100 } from './1764800000100-CreateRegistryWebhooks';
import { CreateLineage1764900000000 } from './1764900000000-CreateLineage';
import { AuditTrailIndexes1764900000100 } from './1764900000100-AuditTrailIndexes';
import { LineageBenchIndexes1765000000000 } from './1765000000000-LineageBenchIndexes';
import { LineageSnapshotFacts1765000000200 } from './1765000000200-LineageSnapshotFacts';
import { AppendRowsAsJson1765100000000 } from './1765100000000-AppendRowsAsJson';
import { AnnotationSentToAdjudicationBy1765200000000 } from './1765200000000-AnnotationSentToAdjudicationBy';
import { AppendRowsStreamLookupByIndex1765300000000 } from './1765300000000-AppendRowsStreamLookupByIndex';
import { AppendRowsGenericPlan1765300000100 } from './1765300000100-AppendRowsGenericPlan';
import { TrainerSetSubjectsAndRoot1765400000000 } from './1765400000000-TrainerSetSubjectsAndRoot';
import { AuditTrailOffTheAppendPath1765500000000 } from './1765500000000-AuditTrailOffTheAppendPath';

/** Listed explicitly so that ts-jest, ts-node and the compiled dist/ all find the same set. */
export const MIGRATIONS = [
  CreateEventStore1764270000000,
  CreateApiTokens1764270001000,
  CreateAppendFunction1764270002000,
  CreateMessaging1764270003000,
  CreateIngestion1764300000000,
  CreateAnnotation1764400000000,
  AnnotationReleasedAssignments1764400001000,
  AnnotationAnswerViews1764400002000,
  AnnotationPendingDatasetVersions1764400003000,
  AnnotationArchiveAndReannotation1764500000000,
  CreatePrincipals1764500001000,
  SealSubjectIdentities1764600000000,
  CreateTrainer1764700000000,
  CreateRegistry1764800000000,
  CreateRegistryWebhooks1764800000100,
  CreateLineage1764900000000,
  AuditTrailIndexes1764900000100,
  LineageBenchIndexes1765000000000,
  LineageSnapshotFacts1765000000200,
  AppendRowsAsJson1765100000000,
  AnnotationSentToAdjudicationBy1765200000000,
  AppendRowsStreamLookupByIndex1765300000000,
  AppendRowsGenericPlan1765300000100,
  TrainerSetSubjectsAndRoot1765400000000,
  AuditTrailOffTheAppendPath1765500000000,
];
