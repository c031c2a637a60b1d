"""Where photo files live: a local folder (the default) or an S3-compatible bucket (`PHOTO_STORAGE=s3://…`).

One small interface, two backends. Names are content-addressed (`<sha256>.jpg`, see `photos.py`) and kept under
a two-character shard, `ab/abcdef….jpg`, in the folder or under the bucket's prefix. Both backends:
- `save(name, content)` writes atomically and never replaces: readers never see half a file; a name that is
  already stored is only marked as in use again (its time refreshed) so that `prune` leaves it alone;
- `prune` deletes only names no committed photo row holds, untouched for longer than the grace period, and puts
  back what a concurrent request saved or committed meanwhile;
- a store that cannot be reached raises `StorageUnavailable` (the visit is not stored, the phone retries).
No request needed; `current()` gives the app's configured store.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

STORED_NAME = re.compile(r"[0-9a-f]{64}\.jpg")
TRASH = "trash/"  # S3: deleted names wait here for one grace period (see S3Storage.prune)


class StorageError(RuntimeError):
    """The store is misconfigured (wrong bucket, credentials, address): the app does not start."""


class StorageUnavailable(StorageError):
    """The store did not answer in time or refused: nothing is counted as stored; try again later."""


def check_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError("not a stored photo name")
    return name


def _blob_key(key: str) -> str:
    """A blob's key: plain relative parts only (never outside the root, never a photo shard)."""
    parts = key.split("/")
    if not key or any(not part or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
        raise ValueError("not a blob key")
    if len(parts[0]) == 2:
        raise ValueError("blob keys stay out of the photo shards")
    return key


class LocalStorage:
    """Photos in a folder: `root/ab/abcdef….jpg`."""

    kind = "local"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def describe(self) -> str:
        return str(self.root)

    def path(self, name: str) -> Path:
        check_name(name)
        return self.root / name[:2] / name

    def save(self, name: str, content: bytes) -> Path | None:
        """Write `content` under `name` unless stored; returns the path if this call created it.

        A temporary file hard-linked to its name: the link fails when the name exists, so nothing is ever
        overwritten, and a name that exists gets a fresh modification time (prune leaves it alone).
        """
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            try:
                os.utime(path)  # already stored: mark it as in use
                return None
            except FileNotFoundError:
                pass
            tmp = path.with_name(f".{name}.{uuid.uuid4().hex}.part")  # unique: threads may write the same photo
            try:
                tmp.write_bytes(content)
                os.link(tmp, path)  # atomic, never replaces: readers never see half a file
                return path
            except FileExistsError:
                continue  # written by a concurrent request a moment ago: touch it on the next round
            finally:
                tmp.unlink(missing_ok=True)
        return None

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def read(self, name: str) -> bytes:
        """The stored bytes; FileNotFoundError when the name is not stored."""
        return self.path(name).read_bytes()

    def open(self, name: str) -> Path:
        """What `send_file` serves: the file itself (FileNotFoundError when absent)."""
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        return path

    def listing(self) -> Iterator[tuple[str, float]]:
        """Every stored photo name with its modification time (other things in the folder, imports/…, skipped),
        in name order as a bucket lists them; one shard folder (1/256 of the names) in memory at a time."""
        if not self.root.is_dir():
            return
        for shard in sorted(os.listdir(self.root)):
            folder = self.root / shard
            if len(shard) != 2 or not folder.is_dir():
                continue
            for name in sorted(os.listdir(folder)):
                if STORED_NAME.fullmatch(name) and name[:2] == shard:
                    try:
                        yield name, (folder / name).stat().st_mtime
                    except FileNotFoundError:
                        continue

    def prune(self, names: list[str], is_referenced: Callable[[str], bool], limit: float) -> list[Path]:
        """Delete these candidates: each is moved aside (atomic rename), then its time and the database are
        checked again; a request that saved the same picture meanwhile touched the file (or, after the move,
        wrote it anew), and a row committed meanwhile is seen, so a file about to be used is put back."""
        deleted = []
        for name in names:
            path = self.path(name)
            aside = path.with_name(f".{name}.{uuid.uuid4().hex}.prune")
            try:
                os.rename(path, aside)
            except FileNotFoundError:
                continue
            if aside.stat().st_mtime >= limit or is_referenced(name):
                try:
                    os.link(aside, path)  # put back (unless a request already wrote it again: same content)
                except FileExistsError:
                    pass
                aside.unlink()
                continue
            aside.unlink()
            deleted.append(path)
        return deleted

    # Small files other parts of the app keep between requests (staged imports: `imports/<token>…`), by key
    # relative to the root; written whole and replaced atomically, unlike photos.
    def put_blob(self, key: str, content: bytes) -> None:
        path = self.root / _blob_key(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            tmp.write_bytes(content)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def get_blob(self, key: str) -> bytes:
        return (self.root / _blob_key(key)).read_bytes()

    def delete_blob(self, key: str) -> None:
        (self.root / _blob_key(key)).unlink(missing_ok=True)

    def delete_blobs_older(self, folder: str, limit: float) -> None:
        directory = self.root / _blob_key(folder)
        if directory.is_dir():
            for path in directory.iterdir():
                try:
                    if path.is_file() and path.stat().st_mtime < limit:
                        path.unlink(missing_ok=True)
                except FileNotFoundError:
                    continue

    def check(self) -> None:
        """Takes writes (for /healthz); raises StorageUnavailable otherwise."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".healthz-"):
                pass
        except OSError as exc:
            raise StorageUnavailable(f"photo folder {self.root} takes no writes: {exc}") from exc


class S3Storage:
    """Photos in an S3-compatible bucket: `s3://bucket/prefix/ab/abcdef….jpg`, through boto3 and its standard
    variables (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION)."""

    kind = "s3"

    def __init__(self, url: str, client=None):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"PHOTO_STORAGE must be a folder or s3://BUCKET[/PREFIX], not {url!r}")
        self.url = url
        self.bucket = parts.netloc
        prefix = parts.path.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        self.client = client or _client()

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    def describe(self) -> str:
        return f"{self.url} at {self.client.meta.endpoint_url}"

    def key(self, name: str) -> str:
        check_name(name)
        return f"{self.prefix}{name[:2]}/{name}"

    def _trash_key(self, name: str) -> str:
        return f"{self.prefix}{TRASH}{check_name(name)}"

    def _call(self, method: str, **kwargs):
        """One S3 call; an unreachable or failing store becomes StorageUnavailable, a missing key
        FileNotFoundError, a refused precondition FileExistsError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key", "")) from exc
            if code in ("PreconditionFailed", "412"):
                raise FileExistsError(kwargs.get("Key", "")) from exc
            raise StorageUnavailable(f"{self.url}: {method} failed: {code or exc}") from exc
        except BotoCoreError as exc:  # connection refused, timeouts, DNS…
            raise StorageUnavailable(f"{self.url}: {method} failed: {exc}") from exc

    def _touch(self, key: str) -> None:
        """A fresh LastModified for a stored object (a copy onto itself), so prune leaves it alone."""
        self._call(
            "copy_object",
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": key},
            MetadataDirective="REPLACE",
            ContentType="image/jpeg",
            Metadata={"touched": str(int(time.time()))},
        )

    def _put(self, key: str, content: bytes) -> None:
        self._call("put_object", Bucket=self.bucket, Key=key, Body=content, ContentType="image/jpeg", IfNoneMatch="*")

    def save(self, name: str, content: bytes) -> PurePosixPath | None:
        """PUT with `If-None-Match: *` (a PUT is atomic: readers see the whole object or none); a name already
        stored is touched instead. Content-addressed, so a concurrent writer of the same name writes the same
        bytes. Returns the key if this call created it."""
        key = self.key(name)
        for _attempt in range(3):
            try:
                self._put(key, content)
                return PurePosixPath(key)
            except FileExistsError:
                pass
            try:
                self._touch(key)
                return None
            except FileNotFoundError:
                continue  # pruned between the two calls: write it again
        raise StorageUnavailable(f"{self.url}: {key} could not be written")

    def exists(self, name: str) -> bool:
        try:
            self._call("head_object", Bucket=self.bucket, Key=self.key(name))
            return True
        except FileNotFoundError:
            return False

    def _modified(self, key: str) -> float | None:
        try:
            return self._call("head_object", Bucket=self.bucket, Key=key)["LastModified"].timestamp()
        except FileNotFoundError:
            return None

    def read(self, name: str) -> bytes:
        """The stored bytes. A name found only in the trash (pruned while a visit with the same picture was
        being committed) is put back first. FileNotFoundError when it is nowhere."""
        key = self.key(name)
        try:
            return self._call("get_object", Bucket=self.bucket, Key=key)["Body"].read()
        except FileNotFoundError:
            content = self._call("get_object", Bucket=self.bucket, Key=self._trash_key(name))["Body"].read()
            self.save(name, content)
            return content

    def open(self, name: str) -> io.BytesIO:
        """What `send_file` serves: the whole object read first (a photo is at most a few hundred kB), so a
        store failing half-way gives a clear error, never a truncated image with status 200."""
        return io.BytesIO(self.read(name))

    def _objects(self, prefix: str) -> Iterator[tuple[str, float]]:
        paginator = self.client.get_paginator("list_objects_v2")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"{self.url}: listing failed: {exc}") from exc

    def listing(self) -> Iterator[tuple[str, float]]:
        for key, modified in self._objects(self.prefix):
            rest = key[len(self.prefix) :]
            shard, _, name = rest.partition("/")
            if len(shard) == 2 and STORED_NAME.fullmatch(name) and name[:2] == shard:
                yield name, modified

    def prune(self, names: list[str], is_referenced: Callable[[str], bool], limit: float) -> list[PurePosixPath]:
        """S3 has no atomic rename and no conditional delete on a time: each candidate, checked again (still
        old, still not named by a row), is copied to `trash/` and deleted. A request that saved the same picture
        in the moment before the delete either wrote it anew (then it exists again) or will commit its row:
        `read` and the next prune put such a name back from the trash. The trash keeps each object for one
        grace period."""
        deleted = []
        for name in names:
            key = self.key(name)
            modified = self._modified(key)
            if modified is None or modified >= limit or is_referenced(name):
                continue
            self._call(
                "copy_object",
                Bucket=self.bucket,
                Key=self._trash_key(name),
                CopySource={"Bucket": self.bucket, "Key": key},
            )
            self._call("delete_object", Bucket=self.bucket, Key=key)
            if is_referenced(name):  # committed meanwhile
                self._restore(name)
                continue
            deleted.append(PurePosixPath(key))
        self._empty_trash(is_referenced, limit)
        return deleted

    def _restore(self, name: str) -> None:
        if not self.exists(name):
            content = self._call("get_object", Bucket=self.bucket, Key=self._trash_key(name))["Body"].read()
            self.save(name, content)

    def _empty_trash(self, is_referenced: Callable[[str], bool], limit: float) -> None:
        for key, modified in list(self._objects(self.prefix + TRASH)):
            name = key.rsplit("/", 1)[-1]
            if not STORED_NAME.fullmatch(name):
                continue
            if is_referenced(name):
                self._restore(name)
            elif modified >= limit:
                continue
            self._call("delete_object", Bucket=self.bucket, Key=key)

    def put_blob(self, key: str, content: bytes) -> None:
        self._call("put_object", Bucket=self.bucket, Key=self.prefix + _blob_key(key), Body=content)

    def get_blob(self, key: str) -> bytes:
        return self._call("get_object", Bucket=self.bucket, Key=self.prefix + _blob_key(key))["Body"].read()

    def delete_blob(self, key: str) -> None:
        self._call("delete_object", Bucket=self.bucket, Key=self.prefix + _blob_key(key))

    def delete_blobs_older(self, folder: str, limit: float) -> None:
        for key, modified in list(self._objects(self.prefix + _blob_key(folder).rstrip("/") + "/")):
            if modified < limit:
                self._call("delete_object", Bucket=self.bucket, Key=key)

    def check(self) -> None:
        """The bucket exists and these credentials may use it; raises StorageUnavailable otherwise."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            reason = {
                "404": "bucket not found",
                "NoSuchBucket": "bucket not found",
                "403": "access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
                "AccessDenied": "access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
                "InvalidAccessKeyId": "unknown access key (AWS_ACCESS_KEY_ID)",
                "SignatureDoesNotMatch": "wrong secret key (AWS_SECRET_ACCESS_KEY)",
            }.get(code, code or str(exc))
            raise StorageUnavailable(f"{self.describe()}: {reason}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"{self.describe()}: {exc}") from exc


def _client():
    """boto3's S3 client from the standard variables, with short timeouts (a slow store fails a visit upload
    quickly, which the phone retries) and path-style addresses when an endpoint is given (SeaweedFS, MinIO)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - boto3 is in the s3 extra
        raise StorageError("PHOTO_STORAGE=s3://… needs boto3: pip install 'kail[s3]'") from exc
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if endpoint else "auto"},
        # Checksums only where S3 requires them: not every S3-compatible server takes the newer trailers.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", config=config, region_name=os.environ.get("AWS_DEFAULT_REGION"))


Storage = LocalStorage | S3Storage


def from_setting(setting: str, upload_dir: str | os.PathLike) -> Storage:
    """The store PHOTO_STORAGE names: empty (UPLOAD_DIR), a folder, or s3://BUCKET[/PREFIX]."""
    setting = (setting or "").strip()
    if setting.startswith("s3://"):
        return S3Storage(setting)
    if "://" in setting:
        raise StorageError(f"PHOTO_STORAGE must be a folder or s3://BUCKET[/PREFIX], not {setting!r}")
    return LocalStorage(setting or upload_dir)


def current() -> Storage:
    """The app's configured store (built once per setting; UPLOAD_DIR may be changed by tests at run time)."""
    from flask import current_app

    cache = current_app.extensions.setdefault("kail_storage", {})
    spec = (current_app.config.get("PHOTO_STORAGE") or "", current_app.config["UPLOAD_DIR"])
    if spec not in cache:
        cache.clear()
        cache[spec] = from_setting(*spec)
    return cache[spec]


def resolve(target) -> Storage:
    """A store from what callers pass: a store itself, or a folder. The app's UPLOAD_DIR stands for the app's
    configured store (callers that predate PHOTO_STORAGE pass it); any other folder is a local store there."""
    if isinstance(target, LocalStorage | S3Storage):
        return target
    from flask import current_app, has_app_context

    if has_app_context() and os.path.abspath(target) == os.path.abspath(current_app.config["UPLOAD_DIR"]):
        return current()
    return LocalStorage(target)


def init_app(app) -> None:
    """Refuse to start with a store that cannot work: a wrong bucket, credentials or address is one line."""
    if not str(app.config.get("PHOTO_STORAGE") or "").startswith("s3://"):
        return
    with app.app_context():
        try:
            current().check()
        except StorageError as exc:
            raise SystemExit(f"Kail cannot start: PHOTO_STORAGE {exc}") from None


def missing(store: Storage, named: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The (name, tag) pairs of `named` (in name order, e.g. photo files from the database with their photo id)
    whose file is not in `store`: one pass over the store's listing beside them, in constant memory whatever the
    number of photos (both sides in name order: a bucket lists keys so, LocalStorage.listing sorts). A name the
    walk does not meet is asked of the store itself before it is reported (saved since the listing, in the trash,
    or a listing out of order), so the walk can only cost time, never report a stored file as missing."""
    listing = (name for name, _modified in store.listing())
    current = next(listing, None)
    for name, tag in named:
        while current is not None and current < name:
            current = next(listing, None)
        if current != name and not store.exists(name):
            yield name, tag


def orphan_names(store: Storage, referenced: set[str], grace: dt.timedelta, now: float | None = None) -> list[str]:
    limit = (time.time() if now is None else now) - grace.total_seconds()
    return [name for name, modified in store.listing() if name not in referenced and modified < limit]
