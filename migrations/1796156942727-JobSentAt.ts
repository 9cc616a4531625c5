// Down drops the column: claimed-but-unsent attempts are then re-sent under a new attempt once their lease lapses.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class JobSentAt1796156942727 implements MigrationInterface {
  name = 'JobSentAt1796156942727';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "jobs" ADD "sent_at" TIMESTAMP WITH TIME ZONE');
    // Rows dispatched before this column existed were sent (or are lost, which the lease finds as before).
    await queryRunner.query('UPDATE "jobs" SET "sent_at" = COALESCE("started_at", "created_at") WHERE "attempt" > 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "jobs" DROP COLUMN "sent_at"');
  }
}
