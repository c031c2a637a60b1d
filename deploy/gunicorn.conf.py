"""gunicorn settings for Kail in production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Why these values (docs/DECISIONS.md, "Several app servers"):
- gthread, not sync: a request often waits on something other than the CPU — PostgreSQL (a large dashboard
  scope takes seconds), the S3 store (a photo PUT, a photo streamed to a supervisor) — and threads let the
  worker serve others meanwhile. A slow phone is absorbed by nginx, which receives the whole upload before
  passing it on (proxy_request_buffering on); should a client reach gunicorn directly, a slow body holds one
  thread, not a whole worker.
- Workers from the core count (one per core, at least 2, so one busy or restarting worker never stops the app)
  with 4 threads each: Python runs one thread per process at a time, so more processes than cores only add
  memory, and 4 threads cover the waits. WEB_CONCURRENCY and GUNICORN_THREADS override both.
- Timeouts for slow uploads: a 2G phone sends a 400 KB photo in a minute or two, but nginx has it whole before
  gunicorn sees it. In a gthread worker `timeout` only restarts a worker whose main loop hangs; a long request
  (a 100,000-row import check) is bounded by nginx's proxy_read_timeout instead. keepalive a little above
  nginx's upstream keepalive_timeout would race it, so it stays below (nginx reuses connections for 4 s).
- No preload_app: the app opens its S3 client at start (to refuse a wrong bucket); a client made before the fork
  would share its sockets between workers.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx on another machine: the private address
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

timeout = 60  # a worker whose main loop is silent this long is restarted
graceful_timeout = 30  # on restart (systemctl reload), requests in flight get this long to finish
keepalive = 5  # seconds an idle connection from nginx stays open (nginx's upstream keepalive_timeout is 4 s)

max_requests = 5000  # a worker is replaced after this many requests (bounds slow memory growth) ...
max_requests_jitter = 500  # ... not all at once

# Workers' heartbeat files in memory, not on a slow disk (gunicorn makes them with mkstemp: private names).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
accesslog = None  # the app writes one JSON line per request itself (webapp/logs.py)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "kail"
