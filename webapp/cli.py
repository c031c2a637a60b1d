"""Command-line tasks: `flask --app webapp seed-demo`, `create-user`, `reset-password`, `refresh-dashboard`, …"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select, union_all

from . import accounts, localtime
from .extensions import db
from .models import Recipient


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds recipients.")
def seed_demo_command(if_empty: bool) -> None:
    """Load demo regions, accounts (password kail-demo), 1,680 families and a few visits. Idempotent."""
    from .demo import DEMO_PASSWORD, seed_demo

    if if_empty and db.session.scalar(select(func.count()).select_from(Recipient)):
        click.echo("Database already has data: demo data not loaded.")
        return
    report = seed_demo(current_app.config["UPLOAD_DIR"])
    db.session.commit()
    click.echo(
        f"Demo data: +{report.regions} regions, +{report.users} users, "
        f"+{report.recipients} recipients, +{report.visits} visits, +{report.photos} photos."
    )
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}', DEMO_MODE=1 only): " + ", ".join(report.logins))


@click.command("import-recipients")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--year",
    "budget_year",
    type=click.IntRange(2000, 2100),
    default=None,
    help="Budget year for rows without a 'Tahun Anggaran' column (default: this year).",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even when some rows are invalid.")
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the invalid rows with reasons (.xlsx or .csv; default FILE-kesalahan.xlsx).",
)
def import_recipients_command(
    file: str, budget_year: int | None, dry_run: bool, skip_invalid: bool, errors_path: str | None
) -> None:
    """Import recipients from .xlsx or .csv (the same checks as the admin import page), all rows or none."""
    from pathlib import Path

    from . import audit, exporting, importing

    path = Path(file)
    try:
        table = importing.read_table(path, path.name)
    except importing.ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    with click.progressbar(length=len(table.rows), label="Checking rows ", show_pos=True) as bar:
        preview = importing.validate(table, path.name, budget_year or localtime.today().year, progress=bar.update)
    if preview.missing:
        raise click.ClickException("Required columns not found: " + ", ".join(preview.missing))
    click.echo(
        f"{len(preview.rows)} rows: {len(preview.valid)} valid "
        f"({len(preview.with_warnings)} with warnings), {len(preview.invalid)} invalid."
    )
    if preview.invalid:
        out = Path(errors_path or path.with_name(f"{path.stem}-kesalahan.xlsx"))
        table_out = exporting.import_errors(preview, out.stem)
        if out.suffix.lower() == ".csv":
            out.write_text("".join(exporting.csv_stream(table_out)), encoding="utf-8")
        else:
            with exporting.xlsx_file(table_out, "kesalahan") as fh:
                out.write_bytes(fh.read())
        click.echo(f"Invalid rows with reasons: {out}")
        for row in preview.invalid[:10]:
            click.echo(f"  line {row.line}: " + "; ".join(row.errors))
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    if preview.invalid and not skip_invalid:
        raise click.ClickException("Nothing written: fix the invalid rows or add --skip-invalid.")
    with click.progressbar(length=len(preview.valid), label="Importing    ", show_pos=True) as bar:
        stored = importing.commit(preview, None, progress=bar.update)
    audit.record(
        "recipients_imported",
        None,
        filename=path.name,
        rows=stored,
        skipped=len(preview.invalid),
        budget_year=preview.budget_year,
        via="cli",
    )
    db.session.commit()
    click.echo(f"{stored} recipients imported.")


@click.command("seed-regions")
@with_appcontext
def seed_regions_command() -> None:
    """Load the 10 regencies/cities of Kaltim (needed before creating supervisors and mentors)."""
    from .demo import seed_regions

    added = seed_regions()
    db.session.commit()
    click.echo(f"{added} regions added.")


@click.command("backup")
@with_appcontext
@click.option("--to", "destination", default="backups", show_default=True, help="Folder for the archive.")
@click.option(
    "--without-photos", is_flag=True, help="Database only (a bucket kept by its own versioning and replication)."
)
def backup_command(destination: str, without_photos: bool) -> None:
    """Write a consistent snapshot of the database and the photo store into one .tar.gz archive."""
    from . import storage
    from .backup import BackupError, create_backup

    try:
        path = create_backup(
            current_app.config["SQLALCHEMY_DATABASE_URI"], storage.current(), destination, photos=not without_photos
        )
    except (BackupError, storage.StorageError) as exc:
        raise click.ClickException(f"Backup failed: {exc}") from exc
    click.echo(f"Backup written: {path}")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: the current database and photos are replaced.")
def restore_command(archive: str, yes: bool) -> None:
    """Replace the database and the photo store with a backup archive's."""
    from . import storage
    from .backup import BackupError, restore_backup

    if not yes:
        raise click.UsageError("restore replaces all current data; add --yes to confirm")
    try:
        manifest = restore_backup(archive, current_app.config["SQLALCHEMY_DATABASE_URI"], storage.current())
    except (BackupError, storage.StorageError) as exc:
        raise click.ClickException(f"Restore failed: {exc}") from exc
    click.echo(
        f"Restored backup of {manifest['created_at']} (schema {manifest['schema_revision']}, "
        f"{manifest['photos']} photo files). Run `flask db upgrade` if the app is newer."
    )


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name as shown in the app.")
@click.option("--role", type=click.Choice(["admin", "supervisor", "mentor"]), required=True)
@click.option("--region", "regions", multiple=True, help="Kemendagri code, e.g. 6472; repeatable.")
@click.option("--phone", default=None)
@click.password_option(help="Asked for when not given (min. 10 characters, letters and digits).")
def create_user_command(username, full_name, role, regions, phone, password) -> None:
    """Create a real (non-demo) account."""
    try:
        user = accounts.create_user(username, full_name, role, password, list(regions), phone=phone)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.BadParameter(str(exc.message), param_hint=exc.field) from exc
    click.echo(f"User {user.username} ({user.role}) created.")


def _account(username: str):
    """The account named `username` (as typed, any case), or a usage error."""
    from .models import User

    user = db.session.scalar(select(User).where(User.username == accounts.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    return user


def _commit_or_fail(change):
    """Run `change()`, commit, return its result; an account rule it breaks rolls back and exits with the reason."""
    try:
        result = change()
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    return result


@click.command("list-users")
@with_appcontext
@click.option("--role", type=click.Choice(["admin", "supervisor", "mentor"]), default=None)
@click.option("--region", default=None, help="Kemendagri code, e.g. 6472.")
@click.option("--inactive", is_flag=True, help="Only deactivated accounts.")
def list_users_command(role, region, inactive) -> None:
    """List accounts: user name, role, regencies, active or not, families (mentors), last login."""
    from .models import Region, User

    query = select(User).order_by(User.role, User.username)
    if role:
        query = query.where(User.role == role)
    if region:
        query = query.where(User.regions.any(Region.code == region))
    if inactive:
        query = query.where(User.active.is_(False))
    families = dict(db.session.execute(select(Recipient.mentor_id, func.count()).group_by(Recipient.mentor_id)).all())
    count = 0
    for user in db.session.scalars(query):
        count += 1
        regions = ",".join(r.code for r in user.regions) or "-"
        last = f"{localtime.to_wita(user.last_login_at):%Y-%m-%d %H.%M} WITA" if user.last_login_at else "never"
        click.echo(
            f"{user.username:<40} {user.role:<10} {regions:<15} {'active' if user.active else 'INACTIVE':<8} "
            f"{families.get(user.id, 0):>5} families  last login {last}"
            + ("  (must change password)" if user.must_change_password else "")
        )
    click.echo(f"{count} users.")


def _account_switch(name: str, change, done, help_text: str) -> click.Command:
    """A command that turns one account on or off by name: `change(user, by)`, then says `done(user)`."""

    @click.command(name, help=help_text)
    @with_appcontext
    @click.argument("username")
    def command(username) -> None:
        user = _account(username)
        _commit_or_fail(lambda: change(user, None))
        click.echo(done(user))

    return command


deactivate_user_command = _account_switch(
    "deactivate-user",
    accounts.deactivate_user,
    lambda user: (
        f"User {user.username} deactivated; {accounts.families_of(user)} families still assigned "
        "(see hand-over-families)."
    ),
    "Lock an account out at once: every session of it ends (not the last active admin).",
)
reactivate_user_command = _account_switch(
    "reactivate-user",
    accounts.reactivate_user,
    lambda user: f"User {user.username} reactivated.",
    "Let a deactivated account log in again.",
)


@click.command("reset-password")
@with_appcontext
@click.argument("username")
def reset_password_command(username) -> None:
    """Give an account a one-time password (printed once) that must be changed at the next login; its sessions
    end."""
    user = _account(username)
    password = _commit_or_fail(lambda: accounts.reset_password(user, None))
    click.echo(f"One-time password for {user.username}: {password}")
    click.echo("Give it to the user in person; they must choose their own at the next login.")


@click.command("set-role")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "supervisor", "mentor"]), required=True)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Kemendagri code; repeatable. Mentor: exactly one; supervisor: one or more; admin: none.",
)
def set_role_command(username, role, regions) -> None:
    """Change an account's role and regencies; its sessions end."""
    user = _account(username)
    _commit_or_fail(lambda: accounts.change_role_and_regions(user, role, list(regions), None))
    click.echo(f"User {user.username} is now {user.role} ({','.join(r.code for r in user.regions) or 'all regions'}).")


@click.command("hand-over-families")
@with_appcontext
@click.argument("from_username")
@click.argument("to_username")
def hand_over_families_command(from_username, to_username) -> None:
    """Assign every family of one mentor to another active mentor of the same regency (visits and status
    history keep the mentor who made them)."""
    from_mentor, to_mentor = _account(from_username), _account(to_username)
    moved = _commit_or_fail(lambda: accounts.hand_over_families(from_mentor, to_mentor, None))
    click.echo(f"{len(moved)} families handed over from {from_mentor.username} to {to_mentor.username}.")


@click.command("refresh-dashboard")
@with_appcontext
def refresh_dashboard_command() -> None:
    """Recompute the dashboard's outcome figures for the whole program (and any regency) of at least
    DASHBOARD_CACHE_MIN_FAMILIES families, so no one waits for them. Run it from cron more often than
    DASHBOARD_CACHE_MINUTES; smaller programs never need it."""
    import time

    from . import outcomes

    config = current_app.config
    started = time.perf_counter()
    done = outcomes.refresh_snapshots(
        localtime.today(),
        config["FOLLOWUP_MONTHS"],
        config["GRADUATION_MIN_TURNOVER_DAY"],
        config["DASHBOARD_CACHE_MIN_FAMILIES"],
    )
    if done:
        click.echo(f"Dashboard figures refreshed for {', '.join(done)} in {time.perf_counter() - started:.1f} s.")
    else:
        click.echo(
            f"No scope has {config['DASHBOARD_CACHE_MIN_FAMILIES']:,} families: nothing to refresh "
            "(the dashboard computes its figures fresh)."
        )


@click.command("photos-prune")
@with_appcontext
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=1),
    default=24,
    show_default=True,
    help="Keep files saved within this many hours (a visit being recorded may be about to use them).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def photos_prune_command(grace_hours: float, dry_run: bool) -> None:
    """Delete photo files no stored photo points to (left by visits that failed), after a grace period."""
    import datetime as dt

    from . import photos, storage
    from .models import Photo

    upload_dir = storage.current()  # the folder or the bucket PHOTO_STORAGE names
    grace = dt.timedelta(hours=grace_hours)
    referenced = set(db.session.scalars(select(Photo.stored_name))) | set(db.session.scalars(select(Photo.thumb_name)))
    db.session.rollback()  # each later check reads what is committed now

    def is_referenced(name: str) -> bool:
        found = db.session.scalar(
            select(func.count()).select_from(Photo).where((Photo.stored_name == name) | (Photo.thumb_name == name))
        )
        db.session.rollback()
        return bool(found)

    if dry_run:
        found = photos.orphans(upload_dir, referenced, grace)
        click.echo(f"{len(found)} orphan photo files would be deleted.")
        return
    deleted = photos.prune(upload_dir, is_referenced, grace, referenced=referenced)
    click.echo(f"{len(deleted)} orphan photo files deleted.")
    import time

    from . import recording, uploads

    recording.prune_staged(upload_dir, time.time())  # photos sent ahead for visits that never arrived
    stale = uploads.prune()  # photos sent in chunks for visits that never arrived
    click.echo(f"{stale} unfinished photo uploads older than {uploads.STALE_AFTER.days} days deleted.")


@click.group("storage")
def storage_group() -> None:
    """The photo store: copy it to another store, check that every photo row has its files."""


def _copy_one(source, target, name: str, verify: bool) -> str:
    """Copy one stored name; 'skipped' when the target holds it (and, with verify, its bytes match)."""
    import hashlib

    digest = name.removesuffix(".jpg")
    if target.exists(name) and (not verify or hashlib.sha256(target.read(name)).hexdigest() == digest):
        return "skipped"
    content = source.read(name)
    if hashlib.sha256(content).hexdigest() != digest:
        return "corrupt"  # the source's bytes do not match their content-addressed name: not copied
    target.save(name, content)
    if hashlib.sha256(target.read(name)).hexdigest() != digest:
        return "mismatch"
    return "copied"


@storage_group.command("migrate")
@with_appcontext
@click.option("--to", "destination", required=True, help="s3://BUCKET[/PREFIX] or a folder.")
@click.option("--jobs", type=click.IntRange(1, 32), default=8, show_default=True, help="Copies at once.")
@click.option("--verify", is_flag=True, help="Also read back photos the target already holds and compare.")
def storage_migrate_command(destination: str, jobs: int, verify: bool) -> None:
    """Copy every photo of the configured store to another one, sha256-checked; run again to resume.

    Then set PHOTO_STORAGE to the new store and restart. Photos saved meanwhile: run it once more after the
    switch, with PHOTO_STORAGE still pointing at the old store for that run (`PHOTO_STORAGE=… flask storage
    migrate --to …`).
    """
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    from . import storage

    source = storage.current()
    try:
        target = storage.from_setting(destination, destination)
        target.check()
        names = sorted(name for name, _modified in source.listing())
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    counts: Counter[str] = Counter()
    problems = []
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        click.progressbar(length=len(names), label=f"{source.describe()} -> {target.describe()}") as bar,
    ):
        for name, outcome in zip(names, pool.map(lambda n: _copy_one(source, target, n, verify), names), strict=True):
            counts[outcome] += 1
            if outcome in ("corrupt", "mismatch"):
                problems.append(f"{outcome}: {name}")
            bar.update(1)
    for line in problems[:20]:
        click.echo(line, err=True)
    click.echo(
        f"{counts['copied']} copied, {counts['skipped']} already there, "
        f"{counts['corrupt'] + counts['mismatch']} failed the sha256 check."
    )
    if problems:
        raise SystemExit(1)


@storage_group.command("check")
@with_appcontext
def storage_check_command() -> None:
    """Check that the file of every photo row (display copy and thumbnail) is in the configured store."""
    from . import storage
    from .models import Photo

    store = storage.current()
    rows = db.session.scalar(select(func.count()).select_from(Photo)) or 0
    # Every file name a photo row holds, in name order, streamed; walked beside the store's listing (also in name
    # order), so neither side is ever in memory whole: it works the same at 2,000,000 photos.
    files = union_all(
        select(Photo.stored_name.label("name"), Photo.id.label("photo_id")),
        select(Photo.thumb_name.label("name"), Photo.id.label("photo_id")),
    ).subquery()
    query = select(files.c.name, files.c.photo_id).order_by(files.c.name, files.c.photo_id)
    named = db.session.execute(query.execution_options(yield_per=5000))
    missing = 0
    shown = []
    try:
        store.check()
        for name, photo_id in storage.missing(store, named):
            missing += 1
            if len(shown) < 20:
                shown.append(f"photo {photo_id}: {name} missing")
    except storage.StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in shown:
        click.echo(line, err=True)
    click.echo(f"{rows} photos checked in {store.describe()}: {missing} files missing.")
    if missing:
        raise SystemExit(1)


COMMANDS = (
    seed_demo_command,
    import_recipients_command,
    seed_regions_command,
    backup_command,
    restore_command,
    create_user_command,
    list_users_command,
    deactivate_user_command,
    reactivate_user_command,
    reset_password_command,
    set_role_command,
    hand_over_families_command,
    refresh_dashboard_command,
    photos_prune_command,
    storage_group,
)


def register_cli(app: Flask) -> None:
    """Add the commands above to `flask --app webapp …`."""
    for command in COMMANDS:
        app.cli.add_command(command)
