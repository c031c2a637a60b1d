"""Count the dashboard's figures by hand on a SQLite database (the demo of `make run`) and compare them with the
dashboard the admin sees.

The counts here are plain SQL and Python over the raw tables, written from the definitions on the page
("Cara menghitung"), not from `webapp.outcomes`: the app is only used to render the page being checked.

    .venv/bin/python scripts/check_dashboard.py instance/kail.db

Prints every figure side by side and exits 1 if any differs.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import statistics
import sys
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HANDED_OVER = {"disalurkan", "usaha_berjalan", "usaha_kesulitan", "usaha_berhenti", "mandiri"}
LEFT = {"keluar", "tidak_memenuhi_syarat"}
WITA = dt.timedelta(hours=8)


def wita_day(text: str) -> dt.date:
    return (dt.datetime.fromisoformat(text) + WITA).date()


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def hand_count(con: sqlite3.Connection, today: dt.date, followup_months=(1, 3, 6, 12)) -> dict:
    families = con.execute(
        "SELECT r.id, g.name, g.quota, r.status, r.funding_source, r.budget_year, r.distributed_on, r.mentor_id"
        " FROM recipients r JOIN regions g ON g.id = r.region_id"
    ).fetchall()
    history = defaultdict(list)
    for rid, to_status, at in con.execute(
        "SELECT recipient_id, to_status, changed_at FROM status_changes ORDER BY changed_at, id"
    ):
        history[rid].append((wita_day(at), to_status))
    visits = defaultdict(list)
    for rid, kind, at, state, per_day, planned in con.execute(
        "SELECT recipient_id, kind, visited_at, review_state, turnover_per_day, next_visit_on FROM visits"
        " ORDER BY visited_at, id"
    ):
        visits[rid].append((kind, dt.datetime.fromisoformat(at), state, per_day, planned))
    year = max(f[5] for f in families)
    out: dict = {"year": year}

    # Realisation per regency (the latest budget year)
    regions = defaultdict(lambda: [0, 0, 0, 0])  # quota, registered, handed APBD, handed APBD-P
    for rid, region, quota, status, source, budget_year, handed_on, _m in families:
        regions[region][0] = quota
        if budget_year != year:
            continue
        regions[region][1] += 1
        seen = {s for _d, s in history[rid]}
        if status in HANDED_OVER or (status in LEFT and (handed_on or seen & HANDED_OVER)):
            regions[region][2 if source == "APBD" else 3] += 1
    out["targets"] = {
        name: [quota, reg, a, ap, a + ap, round(100 * (a + ap) / quota) if quota else None]
        for name, (quota, reg, a, ap) in regions.items()
    }

    # Status, families handed over and still in the program, coverage, backlog
    out["statuses"] = Counter(f[3] for f in families)
    active = [f for f in families if f[3] in HANDED_OVER]
    since = dt.datetime.combine(today - dt.timedelta(days=30), dt.time.min) - WITA
    covered = sum(any(v[2] == "disetujui" and v[1] >= since for v in visits[f[0]]) for f in active)
    out["coverage"] = (covered, len(active))
    out["backlog"] = sum(v[2] == "menunggu" for vs in visits.values() for v in vs)

    # Survival
    survival = {}
    for months in (3, 6, 12):
        seen = Counter()
        for rid, *_x, handed_on, _m in families:
            if not handed_on:
                continue
            day = add_months(dt.date.fromisoformat(handed_on), months)
            if day > today:
                continue
            then = None
            for at, status in history[rid]:
                if at <= day:
                    then = status
            kind = (
                "running"
                if then in ("usaha_berjalan", "mandiri")
                else then
                if then in ("usaha_kesulitan", "usaha_berhenti")
                else "left"
                if then in LEFT
                else "not_assessed"
            )
            seen[kind] += 1
        assessed = seen["running"] + seen["usaha_kesulitan"] + seen["usaha_berhenti"]
        survival[months] = [
            seen["running"],
            seen["usaha_kesulitan"],
            seen["usaha_berhenti"],
            assessed,
            round(100 * seen["running"] / assessed) if assessed else None,
            seen["not_assessed"],
            seen["left"],
        ]
    out["survival"] = survival

    # Turnover: median per WITA month of approved mentoring visits, the 12 months up to the latest
    by_month = defaultdict(list)
    for vs in visits.values():
        for kind, at, state, per_day, _p in vs:
            if kind == "pendampingan" and state == "disetujui" and per_day is not None:
                by_month[(at + WITA).strftime("%Y-%m")].append(per_day)
    months = sorted(by_month)[-12:]
    if months:
        first = add_months(dt.date.fromisoformat(months[-1] + "-01"), -11).strftime("%Y-%m")
        months = [m for m in months if m >= first]
    out["turnover"] = {m: (round(statistics.median(by_month[m])), len(by_month[m])) for m in months}

    # Overdue: past a milestone without a mentoring visit from 2 weeks before it, or past the planned date
    overdue = 0
    for rid, _r, _q, status, _s, _y, handed_on, _m in families:
        if not handed_on or status in {"calon", "terverifikasi", "mandiri"} | LEFT:
            continue
        vs = [v for v in visits[rid] if v[2] != "ditolak"]
        if any(v[2] == "perbaikan" for v in visits[rid]):
            continue
        handed = dt.date.fromisoformat(handed_on)
        follow = [(v[1] + WITA).date() for v in vs if v[0] == "pendampingan"]
        last_follow = max(follow, default=None)
        missed = any(
            add_months(handed, m) < today
            and (last_follow is None or last_follow < add_months(handed, m) - dt.timedelta(days=14))
            for m in followup_months
        )
        planned = max((dt.date.fromisoformat(v[4]) for v in vs if v[4]), default=None)
        last = max(((v[1] + WITA).date() for v in vs), default=None)
        passed = planned is not None and last is not None and planned > last and planned < today
        overdue += missed or passed
    out["overdue"] = overdue
    return out


class Tables(HTMLParser):
    """{caption: {row header: [cells]}} and the KPI values of a dashboard page."""

    def __init__(self):
        super().__init__()
        self.tables, self.caption, self.row, self.cell, self.kpis, self.in_kpi = {}, None, None, None, [], False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class", "") or ""
        if tag == "caption" or (tag in ("th", "td") and self.row is not None):
            self.cell = []
        elif tag == "tr":
            self.row = []
        elif "kpi__value" in classes:
            self.in_kpi, self.cell = True, []

    def handle_endtag(self, tag):
        if self.in_kpi and tag in ("span", "a"):
            self.kpis.append("".join(self.cell).split()[0])  # the number, not the screen-reader text after it
            self.in_kpi, self.cell = False, None
        elif tag == "caption":
            self.caption, self.cell = "".join(self.cell).strip(), None
            self.tables[self.caption] = {}
        elif tag in ("th", "td") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row and self.caption:
            self.tables[self.caption][self.row[0]] = self.row[1:]
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def shown(value) -> str:
    if value is None:
        return "—"
    return f"{value:,}".replace(",", ".")


def main(path: str) -> int:
    import os

    os.environ.setdefault("SECRET_KEY", "check-dashboard")
    from webapp import create_app, localtime
    from webapp.extensions import db
    from webapp.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(path).resolve()}", "WTF_CSRF_ENABLED": False})
    today = None
    with app.app_context():
        admin = db.session.scalars(db.select(User).where(User.role == "admin")).first()
        today = localtime.today()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(admin.get_id())
            session["_fresh"] = True
            session["generation"] = admin.session_generation or 0  # see auth.routes._start_session
        response = client.get("/dasbor/", headers={"Accept-Language": "id"})
    html = response.get_data(as_text=True)
    if response.status_code != 200 or "Dasbor" not in html:
        print("could not read the dashboard as admin in Indonesian:", response.status_code)
        return 2
    page = Tables()
    page.feed(html)
    counted = hand_count(sqlite3.connect(path), today)
    checks = []
    targets = page.tables["Target dan realisasi per kabupaten/kota"]
    for region, (_quota, reg, a, ap, total, pct) in sorted(counted["targets"].items()):
        row = targets.get(region, [])
        want = [shown(reg), shown(a), shown(ap), shown(total), f"{pct}%"]
        checks.append((f"realisasi {region}", want, row[1:]))
    survival = page.tables["Usaha bertahan setelah penyaluran"]
    for months, values in counted["survival"].items():
        want = [shown(v) if i != 4 else (f"{v}%" if v is not None else "—") for i, v in enumerate(values)]
        checks.append((f"bertahan {months} bulan", want, survival.get(f"{months} bulan")))
    turnover = page.tables.get("Median omzet harian per bulan", {})
    got_turnover = [[cells[0], cells[1]] for cells in list(turnover.values())[1:]]
    want_turnover = [[f"Rp {shown(median)}", shown(n)] for median, n in counted["turnover"].values()]
    checks.append(("omzet per bulan", want_turnover, got_turnover))
    covered, active = counted["coverage"]
    checks.append(
        ("cakupan 30 hari", f"{round(100 * covered / active)}%" if active else "—", page.kpis[1] if page.kpis else None)
    )
    checks.append(("terlambat", shown(counted["overdue"]), page.kpis[2] if len(page.kpis) > 2 else None))
    checks.append(("menunggu diperiksa", shown(counted["backlog"]), page.kpis[3] if len(page.kpis) > 3 else None))
    m = re.search(r"\((\d[\d.]*) dari (\d[\d.]*)\)", html)
    checks.append(("cakupan n", (shown(covered), shown(active)), m.groups() if m else None))
    bad = 0
    for name, want, got in checks:
        ok = want == got
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {name}: hand {want} · page {got}")
    print(f"{len(checks) - bad} of {len(checks)} figures agree (today {today}, budget year {counted['year']})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "instance/kail.db"))
