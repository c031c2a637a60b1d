"""photo hashes, third scheme, and a lookup read from the indexes alone

photos.phash becomes "3:" + three (lookup, check) pairs (webapp.photohash: the lookup hash is now the signs of the
64 lowest DCT frequencies, and the flat borders are trimmed less eagerly), or "3:-". photos.phash_lookup holds the
stored lookup hash as a signed 64-bit integer; the four single-band indexes are replaced by (band, phash_lookup, id)
indexes, so the duplicate lookup tests its candidates' lookup distance without reading their rows.

Every photo not yet on the third scheme is rehashed from its stored thumbnail (the display copy if the thumbnail
is gone), in batches of 500, each committed on its own: an interrupted upgrade resumes where it stopped (rows
already holding a "3:" hash with their phash_lookup are skipped; a "3:" hash without it, as migration 0012 writes
when it runs with this code, only gets its columns filled). A photo with neither file becomes "3:-".

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 500


def _hash_file(upload_dir, names) -> str:
    from webapp.photo_rehash import hash_file

    return hash_file(upload_dir, names)


def rehash(connection, upload_dir) -> int:
    """Rehash every photo not yet on the current scheme (or fill its indexed columns); returns how many.

    Written for the third scheme; with today's code it writes the current one (webapp.photo_rehash), which the
    later hash migrations (0017) then find done and skip."""
    from webapp.photo_rehash import rehash as rehash_photos

    return rehash_photos(connection, upload_dir, BATCH, _hash_file)


def _index_names():
    return {ix['name'] for ix in sa.inspect(op.get_bind()).get_indexes('photos')}


def upgrade():
    from flask import current_app

    existing = _index_names()
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('photos')}
    with op.batch_alter_table('photos', schema=None) as batch_op:
        if 'phash_lookup' not in columns:  # (present when an interrupted upgrade is run again)
            batch_op.add_column(sa.Column('phash_lookup', sa.BigInteger(), nullable=True))
        for band in range(4):
            if f'ix_photos_phash_b{band}' in existing:
                batch_op.drop_index(f'ix_photos_phash_b{band}')
    # Each batch is committed on its own: what was rehashed stays rehashed if the upgrade is interrupted.
    with op.get_context().autocommit_block():
        rehash(op.get_bind(), current_app.config['UPLOAD_DIR'])
    # The indexes last: built once over the final values rather than updated row by row.
    with op.batch_alter_table('photos', schema=None) as batch_op:
        for band in range(4):
            if f'ix_photos_band{band}_lookup' not in existing:
                batch_op.create_index(f'ix_photos_band{band}_lookup', [f'phash_b{band}', 'phash_lookup', 'id'],
                                      unique=False)


def downgrade():
    # The second scheme's hashes are not recomputed here: "3:" texts read as "cannot be compared" under the
    # second scheme's code until they are rehashed (migration 0012 run again rehashes them).
    with op.batch_alter_table('photos', schema=None) as batch_op:
        for band in range(4):
            batch_op.drop_index(f'ix_photos_band{band}_lookup')
        batch_op.drop_column('phash_lookup')
        for band in range(4):
            batch_op.create_index(f'ix_photos_phash_b{band}', [f'phash_b{band}'], unique=False)
