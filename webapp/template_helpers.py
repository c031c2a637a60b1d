"""Template filters and globals: dates in WITA, Indonesian numbers, and the labels of stored codes.

Labels come from the domain modules that own each vocabulary; this module only makes them available to templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask
from flask_babel import format_date, get_locale, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from . import formatting, integrity, lifecycle, localtime, pillars, review_states, timeline, visit_kinds
from .models import FLAG_CODES
from .schedule import haversine_km


def _distance_to_business(visit) -> str | None:
    r = visit.recipient
    if visit.lat is None or not r.has_business_location:
        return None
    return formatting.distance(haversine_km(visit.lat, visit.lon, r.business_lat, r.business_lon) * 1000)


def _locale_key() -> tuple:
    """The request's locale as a cheap dictionary key (babel's Locale compares in Python, field by field)."""
    locale = get_locale()
    return (locale.language, locale.territory, locale.script, locale.variant) if locale else ()


def _install_translations(app: Flask) -> None:
    """`_`, `gettext`, `pgettext` and `ngettext` in templates, each one lookup in the request's catalogue.

    Flask-Babel's own callables find the catalogue again for every string through three levels of Jinja calls,
    and as context functions they make Jinja copy its context for every call inside a loop (together ~15 µs a
    string, and a page has about a hundred: a tenth of the mentor home's CPU). The catalogue of a locale never
    changes while the app runs (Flask-Babel keeps it for the app's life too), so it is kept here per locale.
    Jinja's newstyle rules hold: the text is always %-formatted, and Markup when autoescaping.
    """
    catalogues: dict = {}

    def catalogue():
        key = _locale_key()
        try:
            return catalogues[key]
        except KeyError:
            catalogues[key] = translations = get_translations()
            return translations

    def finish(eval_ctx: EvalContext, text: str, variables: dict) -> str:
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - our catalogue's text; `%` escapes the variables
        return text % variables if variables or "%" in text else text  # noqa: S704

    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, /, **variables) -> str:
        return finish(eval_ctx, catalogue().ugettext(string), variables)

    @pass_eval_context
    def pgettext(eval_ctx: EvalContext, msgctxt: str, string: str, /, **variables) -> str:
        return finish(eval_ctx, catalogue().upgettext(msgctxt, string), variables)

    # Numbers reach a page only through webapp/formatting.py, ngettext's %(num)s too ('1.680 penerima').
    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables) -> str:
        variables.setdefault("num", formatting.number(num))  # a template may pass its own `num`
        return finish(eval_ctx, catalogue().ungettext(singular, plural, num), variables)

    app.jinja_env.globals.update(_=gettext, gettext=gettext, pgettext=pgettext, ngettext=ngettext)


def _per_locale(label: Callable[[str], str]) -> Callable[[str], str]:
    """`label(code)` remembered per locale: a fixed vocabulary, each label a Flask-Babel lookup (~8 µs) that a
    list page repeats on every row."""
    cache: dict = {}

    def remembered(code: str) -> str:
        key = (_locale_key(), code)
        try:
            return cache[key]
        except KeyError:
            text = label(code)
            if len(cache) < 1000:  # the codes are few; anything beyond is not kept
                cache[key] = text
            return text
        except TypeError:  # an unhashable argument: not one of the codes
            return label(code)

    return remembered


def now_wita() -> str:
    """When the page was made, as a page offline later says it ("diperbarui 02/12 10.50 WITA")."""
    return f"{localtime.now():%d/%m %H.%M} WITA"


def register_template_helpers(app: Flask) -> None:
    _install_translations(app)

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
        now_wita=now_wita,
        status_label=_per_locale(lifecycle.status_label),
        proposal_state_label=lifecycle.proposal_state_label,
        assistance_label=pillars.assistance_label,
        usual_offices=pillars.USUAL_OFFICES,
        timeline=timeline.timeline,
        visit_kind_label=visit_kinds.kind_title,
        review_label=review_states.state_label,
    )
