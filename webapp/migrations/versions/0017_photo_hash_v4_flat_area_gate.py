"""photo hashes, fourth scheme: pictures made of a few flat areas cannot be compared

photos.phash becomes "4:" + the same three (lookup, check) pairs as the third scheme, or "4:-": webapp.photohash
now also refuses a picture whose centre is mostly flat 4×4 blocks (two or three flat areas with an edge between
them matched any other such picture with its edge in the same place), and accepts a near pair (lookup hash up to
10 bits when a band is within one bit, check hash within 30). The hashes of pictures still comparable are
unchanged, but whether a picture is comparable can only be decided from its file: every photo is rehashed from its
stored thumbnail (display copy if the thumbnail is gone; neither: "4:-"), through the configured store (folder or
bucket), 500 a batch, each batch committed on its own (webapp.photo_rehash), so an interrupted upgrade resumes.
The band indexes stay; a photo that is no longer comparable gets NULL bands and lookup (never a candidate).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 500


def _hash_file(upload_dir, names) -> str:
    from webapp.photo_rehash import hash_file

    return hash_file(upload_dir, names)


def rehash(connection, upload_dir) -> int:
    """Rehash every photo not yet on the current scheme (the fourth, when this was written; or fill its indexed
    columns); returns how many."""
    from webapp.photo_rehash import rehash as rehash_photos

    return rehash_photos(connection, upload_dir, BATCH, _hash_file)


def upgrade():
    from flask import current_app

    # Each batch is committed on its own: what was rehashed stays rehashed if the upgrade is interrupted.
    with op.get_context().autocommit_block():
        rehash(op.get_bind(), current_app.config['UPLOAD_DIR'])


def downgrade():
    # The third scheme's texts are not recomputed here: "4:" texts read as "cannot be compared" under the third
    # scheme's code until they are rehashed (migration 0013 run again rehashes them).
    pass
