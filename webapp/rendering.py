"""Page or fragment: the one place that decides which template an htmx request gets."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request


def wants_fragment() -> bool:
    """A fragment only for an htmx request that is neither boosted nor a history restore."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page_template: str, fragment_template: str, status: int = 200, **context: Any):
    """Render the fragment for a plain htmx request and the page (which includes it) otherwise."""
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response
