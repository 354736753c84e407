import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * trellis_append_rows runs its statements on generic plans (bench:event-store, issue 16).
 *
 * PL/pgSQL plans a statement for the values of each call (a custom plan) until it judges a
 * generic plan as cheap; for the per-stream lookup of AppendRowsStreamLookupByIndex it never
 * did, and planned it again on every call: pg_stat_statements with track_planning, 3,000
 * single-event appends: 3,000 plans, 73 us each, of a function call of 246 us (the lookup
 * itself runs in 14 us). The generic plans are the ones wanted whatever the values: the
 * lookup's is one index probe per stream (an int test checks it reads next to nothing of a
 * long log), the INSERT's has no choice to make. With them the call takes 157 us.
 */
export class AppendRowsGenericPlan1765300000100 implements MigrationInterface {
  name = 'AppendRowsGenericPlan1765300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER FUNCTION trellis_append_rows(text, bigint, text, text[], int[], json) SET plan_cache_mode = force_generic_plan');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER FUNCTION trellis_append_rows(text, bigint, text, text[], int[], json) RESET plan_cache_mode');
  }
}
