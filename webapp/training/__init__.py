from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/pelatihan")

from . import routes  # noqa: E402,F401
