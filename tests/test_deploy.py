"""The deploy kit in deploy/: its settings agree with the app's, and the tools that read them accept them.

gunicorn starting with deploy/gunicorn.conf.py is proved by tests/test_two_servers.py, which runs two of them.
`nginx -t` and `systemd-analyze verify` run where those tools are installed (`apt-get install nginx-light`); the
checks that need neither always run.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess

import pytest

from webapp.config import ENV_VARS, PROJECT_ROOT, build_config

DEPLOY = PROJECT_ROOT / "deploy"
GUNICORN_VARS = ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS")
S3_VARS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)
READ_IN_CODE = re.compile(r"""os\.environ(?:\.get)?[\[(]\s*["']([A-Z0-9_]+)["']|getenv\(\s*["']([A-Z0-9_]+)["']""")


def test_gunicorn_config_takes_workers_from_the_cores_and_threads_for_waits(monkeypatch):
    for name in GUNICORN_VARS:
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["workers"] == 2 * (os.cpu_count() or 1)
    assert conf["worker_class"] == "gthread" and conf["threads"] == 4
    assert conf["bind"] == "127.0.0.1:8000" and conf.get("preload_app", False) is False
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.11:8000")
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["workers"] == 3 and conf["bind"] == "10.0.0.11:8000"


def test_the_environment_file_and_the_readme_name_every_variable():
    example = (DEPLOY / "kail.env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    wanted = {var.name for var in ENV_VARS} | set(GUNICORN_VARS) | set(S3_VARS)
    assert wanted - named == set(), "missing from deploy/kail.env.example"
    assert named - wanted == set(), "deploy/kail.env.example sets a variable nothing reads"
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name in GUNICORN_VARS:
        assert f"`{name}`" in readme, f"README does not document {name}"


def test_every_variable_the_code_reads_by_name_is_in_the_readme_and_the_environment_file():
    """Besides config.ENV_VARS: names read straight from os.environ (storage's boto3 address, gunicorn's)."""
    sources = [*(PROJECT_ROOT / "webapp").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]
    read = {a or b for path in sources for a, b in READ_IN_CODE.findall(path.read_text(encoding="utf-8"))}
    assert {"AWS_ENDPOINT_URL_S3", "GUNICORN_BIND"} <= read  # the pattern finds what it must
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    example = (DEPLOY / "kail.env.example").read_text(encoding="utf-8")
    for name in read:
        assert f"`{name}`" in readme, f"README does not document {name}"
        assert re.search(rf"^#?{name}=", example, re.MULTILINE), f"deploy/kail.env.example lacks {name}"


def test_the_environment_file_is_read_by_the_app_as_written(monkeypatch, tmp_path):
    """Every line, commented ones included, is a value the app accepts (a typo would stop a server's start)."""
    example = (DEPLOY / "kail.env.example").read_text(encoding="utf-8")
    for name, value in re.findall(r"^#?([A-Z][A-Z0-9_]+)=(.*)$", example, re.MULTILINE):
        monkeypatch.setenv(name, value.strip('"'))
    config = build_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["TRUST_PROXY_HOPS"] == 1 and config["SESSION_COOKIE_SECURE"] is True
    assert config["PUBLIC_URL"] == "https://kail.example.go.id" and config["MAP_TILE_ATTRIBUTION"] == "© OpenStreetMap"


def test_the_timers_run_commands_the_app_has(app):
    commands = set(app.cli.list_commands(None))
    for unit in DEPLOY.glob("kail*.service"):
        for line in re.findall(r"^ExecStart=(.*)$", unit.read_text(), re.MULTILINE):
            exec_start = line.split()
            if exec_start[0].endswith("/flask"):
                assert exec_start[1:3] == ["--app", "webapp"] and exec_start[3] in commands, unit.name
    for timer in DEPLOY.glob("*.timer"):
        assert (DEPLOY / f"{timer.stem}.service").exists(), f"{timer.name} starts no service"


def test_nginx_takes_what_the_app_allows():
    site = (DEPLOY / "nginx-kail.conf").read_text(encoding="utf-8")
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    assert body_mb > build_config(PROJECT_ROOT / "instance", {"SECRET_KEY": "x"})["MAX_UPLOAD_MB"]
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header} " in site  # what ProxyFix reads with TRUST_PROXY_HOPS
    assert len(re.findall(r"^\s*server \d+\.\d+\.\d+\.\d+:\d+", site, re.MULTILINE)) == 2


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx missing: apt-get install nginx-light")
def test_nginx_accepts_the_site(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl missing")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=kail.example.go.id",
        ]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx-kail.conf").read_text(encoding="utf-8")
    cache = re.search(r"proxy_cache_path (\S+)", site).group(1)
    assert os.path.isdir(os.path.dirname(cache)), "nginx makes the cache folder, not its parents"
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain\.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey\.pem", str(key), site)
    site = site.replace("/var/lib/nginx/kail-cache", str(tmp_path / "cache"))
    (tmp_path / "kail.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    paths = "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items() if name != "body")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\nhttp {{\n"
        f"    access_log off;\n    client_body_temp_path {temp['body']};\n{paths}"
        f"    include {tmp_path / 'kail.conf'};\n}}\n"
    )
    checked = subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("nginx"),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "warn" not in checked.stderr, checked.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_accepts_the_units(tmp_path):
    """`systemd-analyze verify`, with the install paths pointed at this checkout and its virtualenv (it checks
    that the commands exist)."""
    venv = os.path.realpath(PROJECT_ROOT / ".venv")
    if not os.path.exists(os.path.join(venv, "bin", "gunicorn")):
        pytest.skip("no .venv with gunicorn in this checkout")
    units = []
    for unit in sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer")):
        text = unit.read_text().replace("/opt/kail/venv", venv).replace("/opt/kail/app", str(PROJECT_ROOT))
        text = text.replace("/opt/seaweedfs/bin/weed", shutil.which("weed") or os.path.join(venv, "bin", "weed"))
        (tmp_path / unit.name).write_text(text)
        units.append(str(tmp_path / unit.name))
    verify = [shutil.which("systemd-analyze"), "verify", *units]
    checked = subprocess.run(verify, capture_output=True, text=True)  # noqa: S603 - fixed arguments
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr


def test_kail_flask_reads_the_environment_file_as_sh_does_and_runs_a_command(tmp_path):
    """deploy/kail-flask sources /etc/kail/kail.env with sh: the example must be valid sh as well as systemd."""
    venv = os.path.realpath(PROJECT_ROOT / ".venv")
    if not os.path.exists(os.path.join(venv, "bin", "flask")):
        pytest.skip("no .venv with flask in this checkout")
    example = (DEPLOY / "kail.env.example").read_text(encoding="utf-8")
    local = f"DATABASE_URL=sqlite:///{tmp_path / 'kail.sqlite3'}\nPHOTO_STORAGE=\nUPLOAD_DIR={tmp_path / 'uploads'}\n"
    env_file = tmp_path / "kail.env"
    env_file.write_text(example.replace("SECRET_KEY=\n", "SECRET_KEY=0123abcd\n") + local, encoding="utf-8")
    script = (DEPLOY / "kail-flask").read_text()
    script = script.replace("/etc/kail/kail.env", str(env_file)).replace("/opt/kail/venv", venv)
    script = script.replace("/opt/kail/app", str(PROJECT_ROOT))
    (tmp_path / "kail-flask").write_text(script)
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    ran = subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("sh"), str(tmp_path / "kail-flask"), "--help"], capture_output=True, text=True, env=clean
    )
    assert ran.returncode == 0, ran.stderr
    assert "refresh-dashboard" in ran.stdout and "photos-prune" in ran.stdout
