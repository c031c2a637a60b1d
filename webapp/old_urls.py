"""Old addresses keep working: pages stored on installed phones, bookmarks and links in old exports still use the
English paths and query parameters Kail had before its URLs followed the language rule (docs/DECISIONS.md).

A request to an old path, or with an old query parameter, is answered with a permanent redirect (308, so a POST
from a stored form is repeated with its body) to the address that replaced it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, redirect, request

# Old path prefix -> the new one; the longest matching prefix wins.
OLD_PATHS = {
    "/review/": "/periksa/",
    "/data/": "/kelola-data/",
    "/admin/": "/pengelola/",
    "/auth/login": "/akun/masuk",
    "/auth/logout": "/akun/keluar",
    "/auth/akun": "/akun/",
}
OLD_PARAMS = {
    "region": "wilayah",
    "mentor": "pendamping",
    "flag": "tanda",
    "page": "halaman",
    "action": "aksi",
    "user": "pengguna",
}


def new_address(path: str, args: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]] | None:
    """The (path, query items) that replaced an old address; None when the address is current."""
    new_path = path
    for old in sorted(OLD_PATHS, key=len, reverse=True):
        if path == old or path.startswith(old) or path + "/" == old:
            new_path = OLD_PATHS[old] + path[len(old) :]
            break
    new_args = [(OLD_PARAMS.get(key, key), value) for key, value in args]
    if new_path == path and new_args == args:
        return None
    return new_path, new_args


def _redirect_old_address():
    found = new_address(request.path, list(request.args.items(multi=True)))
    if found is None:
        return None
    path, args = found
    return redirect(path + ("?" + urlencode(args) if args else ""), code=308)


def register(app: Flask) -> None:
    app.before_request(_redirect_old_address)
