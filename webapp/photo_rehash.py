"""Rehash stored photos to the current duplicate-photo scheme (webapp.photohash), for the migrations that
change it (0013, 0017).

Each photo's hash is recomputed from its stored thumbnail — through the configured store, a folder or a bucket
(webapp.photos.read) — or from its display copy when the thumbnail is gone; with neither, it becomes "cannot be
compared". Batches of `batch` rows, one UPDATE statement each: run inside an autocommit block, every batch is
committed on its own, so an interrupted upgrade resumes where it stopped. A row already on the current scheme
with its indexed columns is skipped; one on the current scheme without them only gets its columns.
"""

from __future__ import annotations

import io

import sqlalchemy as sa

BATCH = 500

photos_table = sa.table(
    "photos",
    sa.column("id", sa.Integer),
    sa.column("stored_name", sa.String),
    sa.column("thumb_name", sa.String),
    sa.column("phash", sa.String),
    sa.column("phash_lookup", sa.BigInteger),
    *(sa.column(f"phash_b{band}", sa.Integer) for band in range(4)),
)


def indexed_columns(text: str) -> dict:
    """The values of phash_lookup and phash_b0..b3 for a hash text (all None when not comparable)."""
    from webapp import photohash

    parsed = photohash.parse(text)
    if parsed is None:
        return {"new_lookup": None, **{f"new_b{band}": None for band in range(4)}}
    return {
        "new_lookup": photohash.signed64(parsed.stored.lookup),
        **{f"new_b{band}": value for band, value in enumerate(photohash.bands(parsed.stored.lookup))},
    }


def hash_file(upload_dir, names) -> str:
    """The current scheme's hash text of the first readable file among `names` (thumbnail, display copy)."""
    from PIL import Image

    from webapp import photohash
    from webapp.photos import THUMB_MAX, read

    for name in names:
        try:
            with Image.open(io.BytesIO(read(upload_dir, name))) as image:
                image.draft("RGB", (THUMB_MAX * 2, THUMB_MAX * 2))
                picture = image.convert("RGB")
        except (OSError, ValueError, SyntaxError):
            continue  # missing or unreadable: try the next file
        if max(picture.size) > THUMB_MAX:  # the display copy: hash what the app hashes, a 320 px thumbnail
            picture.thumbnail((THUMB_MAX, THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
        return photohash.hash_text(picture)
    return photohash.NOT_COMPARABLE


def rehash(connection, upload_dir, batch: int = BATCH, hash_file=hash_file) -> int:
    """Rehash every photo not yet on the current scheme (or fill its indexed columns); returns how many."""
    from webapp import photohash

    photos = photos_table
    current = f"{photohash.VERSION}:%"
    pending = sa.or_(
        sa.not_(photos.c.phash.like(current)),
        sa.and_(photos.c.phash_lookup.is_(None), photos.c.phash != photohash.NOT_COMPARABLE),
    )
    done = 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(photos.c.id, photos.c.thumb_name, photos.c.stored_name, photos.c.phash)
            .where(photos.c.id > last_id, pending)
            .order_by(photos.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return done
        params = []
        for photo_id, thumb_name, stored_name, old in rows:
            text = old if old.startswith(f"{photohash.VERSION}:") else hash_file(upload_dir, (thumb_name, stored_name))
            params.append({"photo_id": photo_id, "new_phash": text, **indexed_columns(text)})
        connection.execute(  # one statement a batch
            photos.update()
            .where(photos.c.id == sa.bindparam("photo_id"))
            .values(
                phash=sa.bindparam("new_phash"),
                phash_lookup=sa.bindparam("new_lookup"),
                **{f"phash_b{band}": sa.bindparam(f"new_b{band}") for band in range(4)},
            ),
            params,
        )
        done += len(rows)
        last_id = rows[-1].id
