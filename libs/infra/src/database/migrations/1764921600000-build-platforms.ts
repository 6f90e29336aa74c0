import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The platforms a build's image was built for (BUILD_PLATFORMS), comma-separated; null: the builder's own. */
export class BuildPlatforms1764921600000 implements MigrationInterface {
  name = 'BuildPlatforms1764921600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE read_builds ADD COLUMN platforms text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE read_builds DROP COLUMN platforms`);
  }
}
