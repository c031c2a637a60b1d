"""Cost growth (issue 8, point 3): each page's in-process time at two data sizes, and the ratio.

Every GET page of bench/load.py is requested through Flask's test client, after a warm-up, `--repeat` times at
each size; the median time, the time in SQL and the statement count are reported side by side with the ratio
large ÷ small. No server and no concurrency: this isolates what the data size costs from queueing, so the
figure is steadier than a loaded p50 on a shared machine. Run the two sizes interleaved page by page.

    .venv/bin/python bench/cost_growth.py --small "$PG?options=-csearch_path%3Dk1680" \\
        --large "$PG?options=-csearch_path%3Dn100k"
"""

from __future__ import annotations

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", required=True, help="database URL of the 1,680-family dataset")
    parser.add_argument("--large", required=True, help="database URL of the 100,000-family dataset")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pages", help="comma-separated substrings of page names (default: every GET page)")
    args = parser.parse_args()
    pages = [
        p
        for p in load.PAGES
        if p[2] != "POST" and p[1] is not None and (not args.pages or any(s in p[0] for s in args.pages.split(",")))
    ]
    plans = {size: load.page_plan(url) for size, url in (("small", args.small), ("large", args.large))}
    for plan in plans.values():  # the recipient page: a family with a typical history at both sizes
        plan["family"], plan["family_visits"] = plan["typical_family"], plan["typical_family_visits"]
    results = {}
    for page in pages:  # one page at both sizes before the next: drift on a shared machine hits both alike
        for size, url in (("small", args.small), ("large", args.large)):
            results[(page[0], size)] = load.count_queries(url, plans[size], [page], args.repeat)[page[0]]
    small, large = plans["small"], plans["large"]
    print(
        f"small: {small['recipients']:,} recipients, {small['visits']:,} visits; large: {large['recipients']:,} "
        f"recipients, {large['visits']:,} visits; median of {args.repeat} requests; recipient page = a family with "
        f"{small['family_visits']} / {large['family_visits']} visits"
    )
    print()
    print("| page | small ms | large ms | large ÷ small | statements small / large | SQL ms small / large |")
    print("|---|---:|---:|---:|---|---|")
    for name, _role, _path in pages:
        s, g = results[(name, "small")], results[(name, "large")]
        print(
            f"| {name} | {s[3] * 1e3:.0f} | {g[3] * 1e3:.0f} | **{g[3] / s[3]:.2f}×** | {s[0]} / {g[0]} | "
            f"{s[1] * 1e3:.0f} / {g[1] * 1e3:.0f} |"
        )


if __name__ == "__main__":
    main()
