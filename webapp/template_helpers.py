"""Template filters and globals: dates in WITA, Indonesian numbers, and the labels of stored codes.

Labels come from the domain modules that own each vocabulary; this module only makes them available to templates.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import format_date, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from . import formatting, integrity, lifecycle, localtime, pillars, review_states, timeline, visit_kinds
from .models import FLAG_CODES
from .schedule import haversine_km


def _distance_to_business(visit) -> str | None:
    r = visit.recipient
    if visit.lat is None or not r.has_business_location:
        return None
    return formatting.distance(haversine_km(visit.lat, visit.lon, r.business_lat, r.business_lon) * 1000)


def register_template_helpers(app: Flask) -> None:
    @app.template_filter("wita")
    def wita_filter(value: dt.datetime | None, with_time: bool = True) -> str:
        local = localtime.to_wita(value)
        if local is None:
            return "—"
        text_ = format_date(local.date(), "d MMM yyyy")
        return f"{text_}, {local:%H.%M} WITA" if with_time else text_

    @app.template_filter("tanggal")
    def date_filter(value: dt.date | None) -> str:
        return formatting.day(value)

    # Globals, not a context processor: imported macros see globals but not the render context.
    @app.template_filter("tanggal_bulan")
    def month_filter(value: dt.date) -> str:
        return format_date(value, "MMMM yyyy")

    # Numbers reach a page only through these (webapp/formatting.py): '1.000', '60,1', 'Rp 1.250.000', '60,1 km'.
    # ngettext's %(num)s too ('1.680 penerima'): Jinja's own newstyle ngettext, with the count formatted.
    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, /, **variables) -> str:
        variables.setdefault("num", formatting.number(num))  # a template may pass its own `num`
        text = get_translations().ungettext(singular, plural, num)
        # Markup as Jinja's own ngettext does: the text is our catalogue's, and `%` escapes the variables.
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704

    app.jinja_env.globals["ngettext"] = ngettext
    app.add_template_filter(formatting.number, "angka")
    app.add_template_filter(formatting.decimal, "desimal")
    app.add_template_filter(formatting.rupiah, "rupiah")
    app.add_template_filter(formatting.distance, "jarak")

    app.jinja_env.globals.update(
        get_locale=get_locale,
        photo_tag_label=visit_kinds.photo_tag_label,
        answer_label=visit_kinds.answer_label,
        flag_label=integrity.flag_label,
        explain_flag=integrity.explain,
        flag_codes=FLAG_CODES,
        decision_label=review_states.decision_label,
        distance_to_business=_distance_to_business,
        now_wita=lambda: f"{localtime.now():%d/%m %H.%M} WITA",
        status_label=lifecycle.status_label,
        proposal_state_label=lifecycle.proposal_state_label,
        assistance_label=pillars.assistance_label,
        usual_offices=pillars.USUAL_OFFICES,
        timeline=timeline.timeline,
        visit_kind_label=visit_kinds.kind_title,
        review_label=review_states.state_label,
    )
