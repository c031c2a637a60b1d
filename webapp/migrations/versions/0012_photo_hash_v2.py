"""photo hashes, second scheme: a lookup and a check hash, and photos that cannot be compared

photos.phash holds "2:" + three pairs of a 64-bit lookup hash and a 256-bit check hash (webapp.photohash), or
"2:-" for a picture with too little structure (or whose file is missing); it loses its index (it is never looked
up by value). photos.phash_b0..b3 are the stored lookup hash's bands and NULL for such pictures, so they are never
a duplicate candidate.

Every stored photo is rehashed from its stored thumbnail (the display copy if the thumbnail is gone), in batches
of 500, each committed on its own: an interrupted upgrade resumes where it stopped (rows already holding a "2:"
hash are skipped, and the column changes can be applied again). A photo with neither file becomes "2:-".

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BATCH = 500

photos = sa.table('photos', sa.column('id', sa.Integer), sa.column('stored_name', sa.String),
                  sa.column('thumb_name', sa.String), sa.column('phash', sa.String),
                  *(sa.column(f'phash_b{band}', sa.Integer) for band in range(4)))


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


def rehash(connection, upload_dir) -> int:
    """Rehash every photo not yet on the second scheme; returns how many were rehashed."""
    from webapp import photohash

    done = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(photos.c.id, photos.c.thumb_name, photos.c.stored_name)
            .where(photos.c.id > last_id, sa.not_(photos.c.phash.like(f'{photohash.VERSION}:%')))
            .order_by(photos.c.id).limit(BATCH)).all()
        if not rows:
            return done
        params = []
        for photo_id, thumb_name, stored_name in rows:
            text = _hash_file(upload_dir, (thumb_name, stored_name))
            parsed = photohash.parse(text)
            values = photohash.bands(parsed.stored.lookup) if parsed is not None else (None,) * 4
            params.append({'photo_id': photo_id, 'new_phash': text,
                           **{f'new_b{band}': value for band, value in enumerate(values)}})
        connection.execute(photos.update().where(photos.c.id == sa.bindparam('photo_id')).values(
            phash=sa.bindparam('new_phash'), **{f'phash_b{band}': sa.bindparam(f'new_b{band}') for band in range(4)}),
            params)  # one statement a batch
        done += len(rows)
        last_id = rows[-1].id


def upgrade():
    from flask import current_app

    with op.batch_alter_table('photos', schema=None) as batch_op:
        if 'ix_photos_phash' in {ix['name'] for ix in sa.inspect(op.get_bind()).get_indexes('photos')}:
            batch_op.drop_index('ix_photos_phash')  # (absent when an interrupted upgrade is run again)
        batch_op.alter_column('phash', existing_type=sa.String(length=16), type_=sa.String(length=242),
                              existing_nullable=False)
        for band in range(4):
            batch_op.alter_column(f'phash_b{band}', existing_type=sa.Integer(), nullable=True)
    upload_dir = current_app.config['UPLOAD_DIR']
    # Each batch is committed on its own: what was rehashed stays rehashed if the upgrade is interrupted.
    with op.get_context().autocommit_block():
        rehash(op.get_bind(), upload_dir)


def downgrade():
    # The first scheme's dHash is not recomputed: each photo keeps its lookup hash (same 64-bit band layout);
    # pictures that cannot be compared get an all-zero hash, as a flat picture had under the first scheme.
    connection = op.get_bind()
    for photo_id, text in connection.execute(sa.select(photos.c.id, photos.c.phash)).all():
        lookup = int(text[2:18], 16) if text and len(text) == 242 else 0
        connection.execute(photos.update().where(photos.c.id == photo_id).values(
            phash=f'{lookup:016x}',
            **{f'phash_b{band}': (lookup >> shift) & 0xFFFF for band, shift in enumerate((48, 32, 16, 0))}))
    with op.batch_alter_table('photos', schema=None) as batch_op:
        for band in range(4):
            batch_op.alter_column(f'phash_b{band}', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('phash', existing_type=sa.String(length=242), type_=sa.String(length=16),
                              existing_nullable=False)
        batch_op.create_index('ix_photos_phash', ['phash'], unique=False)
