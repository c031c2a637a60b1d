from flask import Blueprint

bp = Blueprint("recipients", __name__, url_prefix="/penerima")

from . import routes  # noqa: E402,F401
