"""Real Chromium (Debian's) through pytest-playwright, against the app served from this test process."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

# Assertions wait up to 15 s, not Playwright's 5: they prove what happens, never how fast. A visit with a 4000 px
# photo (downscaled on the phone, then processed) took longer than 5 s once in CI with the machine fully loaded.
expect.set_options(timeout=15_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # A closed network: stop Chromium from calling home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which("chromium") and not __import__("os").path.exists(CHROMIUM):
        pytest.skip("Chromium not found: install it with `apt-get install chromium` (make test does on CI)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A mid-range Android phone, Indonesian locale, WITA.
    return {
        **browser_context_args,
        "viewport": {"width": 360, "height": 740},
        "locale": "id-ID",
        "timezone_id": "Asia/Makassar",
        "has_touch": True,
        "is_mobile": True,
        "device_scale_factor": 2,
    }


@pytest.fixture(scope="session")
def live_server(_app):
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


def noisy_photo(folder, seed: int, small: tuple[int, int], scale: int, quality: int) -> str:
    """A camera-like JPEG: random detail at `small`, enlarged `scale` times, so photos of different seeds never look
    alike to the duplicate check and keep their size after the phone's downscale."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    width, height = small
    picture = Image.frombytes("RGB", small, bytes(rng.getrandbits(8) for _ in range(width * height * 3)))
    path = folder / f"foto-{seed}.jpg"
    picture.resize((width * scale, height * scale), Image.Resampling.BICUBIC).save(path, "JPEG", quality=quality)
    return str(path)


def count_rows(model) -> int:
    """Rows of `model` as committed by the app server's thread (the test's session forgets what it had)."""
    from sqlalchemy import func, select

    from webapp.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def wait_until(page, function: str, timeout_ms: int = 15000):
    """Poll `function` (JavaScript function source, may be async) with page.evaluate until it returns something
    truthy. Not page.wait_for_function: its polling compiles the predicate with eval inside the page, which the
    app's CSP (script-src 'self') refuses whenever the first check is not already true."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            if page.evaluate(function):
                return
        except Exception as exc:  # noqa: BLE001 - a navigation in between: ask again
            if "Execution context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_ms} ms: {function}")
        page.wait_for_timeout(200)


SW_STATE = """async () => {
  const reg = navigator.serviceWorker && await navigator.serviceWorker.getRegistration();
  const s = (w) => w ? w.state : "-";
  return JSON.stringify({controller: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
    registration: !!reg, installing: s(reg && reg.installing), waiting: s(reg && reg.waiting),
    active: s(reg && reg.active), url: location.pathname});
}"""


def wait_for_service_worker(page, timeout_ms: int = 30000):
    """Wait until the service worker controls the page; on a timeout, say where the worker got to."""
    try:
        wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)", timeout_ms)
    except AssertionError as exc:
        raise AssertionError(f"the service worker never took control: {page.evaluate(SW_STATE)}") from exc


def log_in(page, username: str, password: str | None = None):
    """Log in through the real login form, as a person would."""
    from .. import factories

    page.goto("/akun/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password or factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state("networkidle")
