"""The app shell's version: a hash of the files the service worker precaches, so a deploy renews the caches."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask

SHELL_FILES = ("css", "js", "vendor", "img")


def shell_version(app: Flask) -> str:
    cached = app.extensions.get("kail_shell_version")
    if cached:
        return cached
    digest = hashlib.sha256()
    root = Path(app.static_folder)
    for folder in SHELL_FILES:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    for template in ("pwa/sw.js", "pwa/offline.html", "base.html"):
        digest.update((Path(app.template_folder) / template).read_bytes())
    version = digest.hexdigest()[:12]
    if not app.debug:
        app.extensions["kail_shell_version"] = version
    return version


def build_version(app: Flask) -> str:
    """What every rendered page depends on besides its data: templates, translations and the shell."""
    cached = app.extensions.get("kail_build_version")
    if cached:
        return cached
    digest = hashlib.sha256(shell_version(app).encode())
    roots = [Path(app.template_folder), Path(app.root_path) / "translations"]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".html", ".mo"):
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    version = digest.hexdigest()[:12]
    if not app.debug:
        app.extensions["kail_build_version"] = version
    return version
