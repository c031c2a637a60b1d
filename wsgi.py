import gc

from webapp import create_app

app = create_app()

# The app's modules, templates and catalogues (~135,000 objects) live as long as the process: moved out of the
# collector's reach, so a full collection no longer walks them (docs/PERFORMANCE.md, "Mentor home against
# /healthz"). gunicorn imports this module in each worker (no preload_app), after the fork.
gc.collect()
gc.freeze()
