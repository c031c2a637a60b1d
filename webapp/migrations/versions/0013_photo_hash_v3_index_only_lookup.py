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
VERSION = '3'

photos = sa.table('photos', sa.column('id', sa.Integer), sa.column('stored_name', sa.String),
                  sa.column('thumb_name', sa.String), sa.column('phash', sa.String),
                  sa.column('phash_lookup', sa.BigInteger),
                  *(sa.column(f'phash_b{band}', sa.Integer) for band in range(4)))


def _columns(text):
    from webapp import photohash

    parsed = photohash.parse(text)
    if parsed is None:
        return {'new_lookup': None, **{f'new_b{band}': None for band in range(4)}}
    return {'new_lookup': photohash.signed64(parsed.stored.lookup),
            **{f'new_b{band}': value for band, value in enumerate(photohash.bands(parsed.stored.lookup))}}


def rehash(connection, upload_dir) -> int:
    """Rehash every photo not yet on the third scheme (or fill its indexed columns); returns how many."""
    from webapp import photohash

    assert photohash.VERSION == VERSION, 'this migration writes the third scheme'
    pending = sa.or_(sa.not_(photos.c.phash.like(f'{VERSION}:%')),
                     sa.and_(photos.c.phash_lookup.is_(None), photos.c.phash != photohash.NOT_COMPARABLE))
    done = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(photos.c.id, photos.c.thumb_name, photos.c.stored_name, photos.c.phash)
            .where(photos.c.id > last_id, pending).order_by(photos.c.id).limit(BATCH)).all()
        if not rows:
            return done
        params = []
        for photo_id, thumb_name, stored_name, old in rows:
            text = old if old.startswith(f'{VERSION}:') else _hash_file(upload_dir, (thumb_name, stored_name))
            params.append({'photo_id': photo_id, 'new_phash': text, **_columns(text)})
        connection.execute(photos.update().where(photos.c.id == sa.bindparam('photo_id')).values(
            phash=sa.bindparam('new_phash'), phash_lookup=sa.bindparam('new_lookup'),
            **{f'phash_b{band}': sa.bindparam(f'new_b{band}') for band in range(4)}), params)  # one statement a batch
        done += len(rows)
        last_id = rows[-1].id


def _hash_file(upload_dir, names) -> str:
    from PIL import Image

    from webapp import photohash
    import io

    from webapp.photos import THUMB_MAX, read

    for name in names:
        try:
            path = io.BytesIO(read(upload_dir, name))  # through the configured store: a folder or a bucket
            with Image.open(path) as image:
                image.draft('RGB', (THUMB_MAX * 2, THUMB_MAX * 2))
                picture = image.convert('RGB')
        except (OSError, ValueError, SyntaxError):
            continue  # missing or unreadable: try the next file
        if max(picture.size) > THUMB_MAX:  # the display copy: hash what the app hashes, a 320 px thumbnail
            picture.thumbnail((THUMB_MAX, THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
        return photohash.hash_text(picture)
    return photohash.NOT_COMPARABLE


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
