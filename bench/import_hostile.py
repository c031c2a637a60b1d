"""Hostile spreadsheets: time and peak memory of reading each file of tests/security/test_spreadsheets.py.

    .venv/bin/python bench/import_hostile.py            # the current reader
    .venv/bin/python bench/import_hostile.py --before 36f4e9d   # the reader as it was at a commit

Each file is read in its own process (`importing.read_table`, what the upload and the CLI do first), with a
memory ceiling (--max-mb, default 2048) and a time limit (--timeout, default 60 s), so a file that would take the
machine down only reports "over". Peak = tracemalloc's peak (Python allocations); RSS = the process's growth.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _reader(before: str | None):
    if before is None:
        from webapp import importing

        return importing
    source = subprocess.run(
        ["git", "show", f"{before}:webapp/importing.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "importing_before.py"
    path.write_text(source)
    import webapp  # noqa: F401 - the old module's relative imports resolve in the package

    spec = importlib.util.spec_from_file_location("webapp.importing_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _measure(path: str, filename: str, before: str | None, max_mb: int, out) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_mb * 1024 * 1024, max_mb * 1024 * 1024))
    importing = _reader(before)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    try:
        table = importing.read_table(Path(path), filename)
        outcome = f"read, {len(table.rows)} rows"
    except MemoryError:
        outcome = "MemoryError"
    except Exception as exc:  # noqa: BLE001
        outcome = f"{type(exc).__name__}: {str(exc)[:70]}"
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    out.send((outcome, elapsed, peak / 2**20, rss / 1024))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="a commit whose webapp/importing.py to measure instead")
    parser.add_argument("--max-mb", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    from tests.security.test_spreadsheets import HOSTILE

    folder = Path(tempfile.mkdtemp())
    print("| file | size | outcome | s | peak MB | RSS MB |")
    print("|---|---:|---|---:|---:|---:|")
    for name, (filename, build, _expected) in HOSTILE.items():
        path = folder / filename
        path.write_bytes(build())
        size = path.stat().st_size
        receive, send = mp.Pipe(duplex=False)
        child = mp.Process(target=_measure, args=(str(path), filename, args.before, args.max_mb, send))
        started = time.perf_counter()
        child.start()
        child.join(args.timeout)
        if child.is_alive():
            child.kill()
            child.join()
            row = (f"over {args.timeout:.0f} s", time.perf_counter() - started, None, None)
        elif receive.poll():
            row = receive.recv()
        else:
            row = (
                f"killed (exit {child.exitcode}, ceiling {args.max_mb} MB)",
                time.perf_counter() - started,
                None,
                None,
            )
        outcome, elapsed, peak, rss = row
        shown = [
            f"{size / 1024:,.0f} KB",
            outcome,
            f"{elapsed:.2f}",
            "–" if peak is None else f"{peak:,.0f}",
            "–" if rss is None else f"{rss:,.0f}",
        ]
        print(f"| {name} | " + " | ".join(shown) + " |", flush=True)
        path.unlink()


if __name__ == "__main__":
    main()
