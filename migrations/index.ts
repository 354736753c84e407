import { CreateEventStore1764270000000 } from './1764270000000-CreateEventStore';
import { CreateApiTokens1764270001000 } from './1764270001000-CreateApiTokens';
import { CreateAppendFunction1764270002000 } from './1764270002000-CreateAppendFunction';
import { CreateMessaging1764270003000 } from './1764270003000-CreateMessaging';

/** Listed explicitly so that ts-jest, ts-node and the compiled dist/ all find the same set. */
export const MIGRATIONS = [CreateEventStore1764270000000, CreateApiTokens1764270001000, CreateAppendFunction1764270002000, CreateMessaging1764270003000];
