"""Static files under content-hashed URLs (`/static/css/app.css?v=3f2a9c0d1e`), cached by browsers for a year.

`url_for('static', ...)` adds the hash of the file's bytes, so a deploy that changes a file changes its URL and
phones fetch it once; unchanged files are never asked for again. A URL whose `v` is not the current hash (an old
page) gets the current file without the long cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    hashes: dict[str, str | None] = {}

    def file_hash(filename: str) -> str | None:
        if filename in hashes and not app.debug:
            return hashes[filename]
        path = safe_join(app.static_folder, filename)
        digest = None
        if path and Path(path).is_file():
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
        hashes[filename] = digest
        return digest

    @app.url_defaults
    def _hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = file_hash(values["filename"])
            if digest:
                values["v"] = digest

    def get_send_file_max_age(filename: str | None) -> int | None:
        if filename and request.args.get("v") and request.args.get("v") == file_hash(filename):
            return ONE_YEAR
        return None  # revalidate with ETag / Last-Modified

    app.get_send_file_max_age = get_send_file_max_age  # type: ignore[method-assign]

    @app.after_request
    def _immutable(response):
        if request.endpoint == "static" and response.cache_control.max_age == ONE_YEAR:
            response.cache_control.immutable = True
            response.cache_control.public = True
        return response
