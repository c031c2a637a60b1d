"""gunicorn settings for Kail in production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Why these values (docs/DECISIONS.md, "Deploy kit: gthread workers behind a buffering nginx"):
- gthread, not sync: a request often waits on something other than the CPU — PostgreSQL (a large dashboard
  scope takes seconds), the S3 store (a photo PUT, a photo streamed to a supervisor) — and threads let the
  worker serve others meanwhile. A slow phone is absorbed by nginx, which receives the whole upload before
  passing it on (proxy_request_buffering on); should a client reach gunicorn directly, a slow body holds one
  thread, not a whole worker.
- Workers from the core count, two per core (so one busy or restarting worker never stops the app), with 4
  threads each for the waits. Python runs one thread per process at a time: a photo visit's 0.3-0.5 s of
  decoding and hashing slows every page its worker serves meanwhile. Measured at national scale on 2 cores
  (docs/PERFORMANCE.md, "Capacity at national peak"): pages stayed under 300 ms at p95 up to 14 actions/s with
  4 workers against 10 with 2, at ~100 MB of memory a worker. WEB_CONCURRENCY and GUNICORN_THREADS override both.
- Timeouts for slow uploads: on 2G (20-40 kbit/s) one 64 KB photo chunk takes 15-25 s and a 400 KB photo sent
  whole a few minutes, but nginx has the body whole before gunicorn sees it. In a gthread worker `timeout` only
  restarts a worker whose main loop hangs, never a slow request; a long request (a 100,000-row import check) is
  bounded by nginx's proxy_read_timeout instead. An idle connection from nginx stays open 5 s here, longer than
  nginx's upstream keepalive_timeout (4 s): nginx always closes first, so it never sends a request on a
  connection gunicorn is just closing.
- No preload_app: the app opens its S3 client at start (to refuse a wrong bucket); a client made before the fork
  would share its sockets between workers.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx on another machine: the private address
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)

timeout = 60  # a worker whose main loop is silent this long is restarted
graceful_timeout = 30  # on restart (systemctl reload), requests in flight get this long to finish
keepalive = 5  # seconds an idle connection from nginx stays open (above nginx's upstream keepalive_timeout, 4 s)

max_requests = 5000  # a worker is replaced after this many requests (bounds slow memory growth) ...
max_requests_jitter = 500  # ... not all at once

# Workers' heartbeat files in memory, not on a slow disk (gunicorn makes them with mkstemp: private names).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
accesslog = None  # the app writes one JSON line per request itself (webapp/logs.py)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "kail"
