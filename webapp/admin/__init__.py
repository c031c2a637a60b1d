from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/pengelola")

from . import routes, users  # noqa: E402,F401
