"""Chromium flags the browser benches share: a quiet, reproducible browser (no sync, updates or QUIC)."""

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
