from flask import Blueprint

bp = Blueprint("data", __name__, url_prefix="/data")

from . import routes  # noqa: E402,F401
