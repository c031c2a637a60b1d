from flask import Blueprint

bp = Blueprint("data", __name__, url_prefix="/kelola-data")

from . import routes  # noqa: E402,F401
