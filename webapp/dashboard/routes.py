import datetime as dt

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import audit, formatting, lifecycle, localtime, outcomes
from ..access import get_recipient_for, regions_visible_to, require_role
from ..extensions import db
from ..models import Region
from . import bp


def _reach_counts(reach):
    return [
        (_("Ikut pelatihan usaha"), reach.trained),
        (_("Pilar 1: BLT, sembako, PKH"), reach.pillar_1),
        (_("Pilar 3: rumah, sanitasi, air bersih"), reach.pillar_3),
        (_("Ketiga pilar"), reach.all_three),
    ]


def _month(value: str) -> dt.date:
    """'2026-01' (a month of `outcomes.turnover_by_month`) -> the first of that month, for the month filters."""
    return dt.date.fromisoformat(f"{value}-01")


def _region_choice() -> tuple[list[Region], str]:
    """The user's regencies and the one asked for (`?wilayah=CODE`), or '' for all of them."""
    require_role(current_user, "admin", "supervisor")
    regions = regions_visible_to(current_user)
    region = request.args.get("wilayah", "")
    return regions, region if region in {r.code for r in regions} else ""


def _definitions() -> dict[str, str]:
    """`outcomes.DEFINITIONS` with this installation's settings filled in."""
    months = ", ".join(str(m) for m in current_app.config["FOLLOWUP_MONTHS"])
    money = formatting.rupiah(current_app.config["GRADUATION_MIN_TURNOVER_DAY"])
    filled = {"overdue": {"months": months}, "graduation": {"min": money}}
    return {key: str(text) % filled[key] if key in filled else str(text) for key, text in outcomes.DEFINITIONS.items()}


def _dashboard_context() -> dict:
    """The figures for the user's scope, optionally one regency (`?wilayah=CODE`), and the helpers the charts use."""
    regions, region = _region_choice()
    data = outcomes.build(
        current_user,
        localtime.today(),
        current_app.config["FOLLOWUP_MONTHS"],
        region,
        current_app.config["GRADUATION_MIN_TURNOVER_DAY"],
        cache_s=60 * current_app.config["DASHBOARD_CACHE_MINUTES"],
        cache_min_families=current_app.config["DASHBOARD_CACHE_MIN_FAMILIES"],
        budget_year=request.args.get("tahun", type=int),
    )
    return dict(
        d=data,
        regions=regions,
        region=region,
        region_obj=next((r for r in regions if r.code == region), None),
        how=_definitions(),
        month_of=_month,
        target_rows=lambda targets: [(t.region.name, t.pct or 0) for t in targets],
        target_top=lambda targets: max([100, *(t.pct or 0 for t in targets)]),
        status_rows=lambda statuses: [(lifecycle.status_label(s), n) for s, n in statuses],
        survival_rows=lambda survival: [
            (_("%(n)s bulan (n = %(assessed)s)", n=s.months, assessed=formatting.number(s.assessed)), s.pct or 0)
            for s in survival
        ],
        # n beside each month's bar, as for survival: a month of one or two visits is no trend.
        turnover_rows=lambda months: [
            (_("%(month)s (n = %(n)s)", month=format_date(_month(month), "MMM yyyy"), n=formatting.number(n)), median)
            for month, median, n in months
        ],
        reach_counts=_reach_counts,
        reach_rows=lambda reach: [
            (label, reach.pct(n) or 0)
            for label, (_long, n) in zip(
                (_("Pelatihan"), _("Pilar 1"), _("Pilar 3"), _("Ketiga pilar")), _reach_counts(reach), strict=True
            )
        ],
    )


@bp.get("/")
@login_required
def index():
    """Targets, status, coverage, backlog and outcomes for the province (admins) or the regency (supervisors)."""
    return render_template("dashboard/index.html", **_dashboard_context())


@bp.get("/laporan")
@login_required
def report():
    """The same figures as a printable A4 report (the browser's "save as PDF" makes the document)."""
    return render_template("dashboard/report.html", printable=True, today=localtime.today(), **_dashboard_context())


@bp.get("/terlambat")
@login_required
def overdue():
    """The dashboard's overdue total per mentor, counted now (never from a snapshot)."""
    regions, region = _region_choice()
    rows = outcomes.overdue_per_mentor(
        outcomes.dashboard_scope(current_user, region), localtime.today(), current_app.config["FOLLOWUP_MONTHS"]
    )
    return render_template(
        "dashboard/overdue.html",
        rows=rows,
        total=sum(n for _mentor, n in rows),
        regions=regions,
        region=region,
        region_obj=next((r for r in regions if r.code == region), None),
        how=_definitions(),
    )


@bp.post("/kuota")
@login_required
def quotas():
    """Admins set each regency's target; a value that is not a whole number 0–100000 is refused, nothing saved."""
    require_role(current_user, "admin")
    regions = db.session.scalars(select(Region).order_by(Region.code)).all()
    values, bad = {}, []
    for region in regions:
        raw = (request.form.get(f"quota-{region.code}") or "").strip()
        if raw.isdigit() and int(raw) <= 100_000:
            values[region.code] = int(raw)
        else:
            bad.append(region.name)
    if bad:
        flash(_("Target tidak disimpan: isi angka bulat 0–100.000 untuk %(regions)s.", regions=", ".join(bad)), "error")
        return redirect(url_for("dashboard.index"), code=303)
    for region in regions:
        if region.quota != values[region.code]:
            audit.record("quota_changed", region, old=region.quota, new=values[region.code])
            region.quota = values[region.code]
    db.session.commit()
    flash(_("Target per kabupaten/kota tersimpan."), "ok")
    return redirect(url_for("dashboard.index"), code=303)


@bp.post("/graduasi/<int:recipient_id>")
@login_required
def graduate(recipient_id: int):
    """A supervisor confirms a proposed graduation: the family becomes `mandiri`."""
    require_role(current_user, "admin", "supervisor")
    recipient = get_recipient_for(current_user, recipient_id, write=True)
    try:
        lifecycle.change_status(
            recipient,
            lifecycle.MANDIRI,
            current_user._get_current_object(),
            _("Graduasi dikonfirmasi dari dasbor: usaha berjalan stabil."),
            audit_action="graduated",
        )
    except lifecycle.StaleStatusError:
        flash(_("Status keluarga ini baru saja diubah orang lain. Periksa lagi."), "error")
    except lifecycle.TransitionError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(name)s kini berstatus Mandiri.", name=recipient.name), "ok")
    return redirect(url_for("dashboard.index"), code=303)
