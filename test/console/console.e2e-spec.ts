import { consoleWorld } from './console-world';
import { describeLineagePages } from './lineage.console';
import { describeAnnotationPages } from './annotation.console';
import { describeModelPages } from './models.console';
import { describeRecordPages } from './records.console';

// Issue 18: the web console in real headless Chromium against a platform the demo seeded,
// started as the README writes it. Each feature's pages have their own file of tests, all on
// this one platform (the demo takes a minute; starting it per file would multiply that). Order
// matters only in that the consent withdrawal (records) comes last.
describe('the web console (/console)', () => {
  const world = consoleWorld();
  describeLineagePages(world);
  describeAnnotationPages(world);
  describeModelPages(world);
  describeRecordPages(world);
});
