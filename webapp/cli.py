"""Command-line tasks: `flask --app webapp seed-demo`, `create-user`, `refresh-dashboard`, …"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from . import accounts
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
    click.echo(f"Demo data: +{report.regions} regions, +{report.users} users, "
               f"+{report.recipients} recipients, +{report.visits} visits, +{report.photos} photos.")
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}', DEMO_MODE=1 only): " + ", ".join(report.logins))


@click.command("import-recipients")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", "budget_year", type=click.IntRange(2000, 2100), default=None,
              help="Budget year for rows without a 'Tahun Anggaran' column (default: this year).")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows even when some rows are invalid.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the invalid rows with reasons (.xlsx or .csv; default FILE-kesalahan.xlsx).")
def import_recipients_command(file: str, budget_year: int | None, dry_run: bool, skip_invalid: bool,
                              errors_path: str | None) -> None:
    """Import recipients from .xlsx or .csv (the same checks as the admin import page), all rows or none."""
    import datetime as dt
    from pathlib import Path

    from . import audit, exporting, importing

    path = Path(file)
    try:
        table = importing.read_table(path, path.name)
    except importing.ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    with click.progressbar(length=len(table.rows), label="Checking rows ", show_pos=True) as bar:
        preview = importing.validate(table, path.name, budget_year or dt.date.today().year, progress=bar.update)
    if preview.missing:
        raise click.ClickException("Required columns not found: " + ", ".join(preview.missing))
    click.echo(f"{len(preview.rows)} rows: {len(preview.valid)} valid "
               f"({len(preview.with_warnings)} with warnings), {len(preview.invalid)} invalid.")
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
    audit.record("recipients_imported", None, filename=path.name, rows=stored, skipped=len(preview.invalid),
                 budget_year=preview.budget_year, via="cli")
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
def backup_command(destination: str) -> None:
    """Write a consistent snapshot of the database and the photo store into one .tar.gz archive."""
    from .backup import BackupError, create_backup

    try:
        path = create_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["UPLOAD_DIR"],
                             destination)
    except BackupError as exc:
        raise click.ClickException(f"Backup failed: {exc}") from exc
    click.echo(f"Backup written: {path}")


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: the current database and photos are replaced.")
def restore_command(archive: str, yes: bool) -> None:
    """Replace the database and the photo store with a backup archive's."""
    from .backup import BackupError, restore_backup

    if not yes:
        raise click.UsageError("restore replaces all current data; add --yes to confirm")
    try:
        manifest = restore_backup(archive, current_app.config["SQLALCHEMY_DATABASE_URI"],
                                  current_app.config["UPLOAD_DIR"])
    except BackupError as exc:
        raise click.ClickException(f"Restore failed: {exc}") from exc
    click.echo(f"Restored backup of {manifest['created_at']} (schema {manifest['schema_revision']}, "
               f"{manifest['photos']} photo files). Run `flask db upgrade` if the app is newer.")


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


@click.command("refresh-dashboard")
@with_appcontext
def refresh_dashboard_command() -> None:
    """Recompute the dashboard's outcome figures for the whole program (and any regency) of at least
    DASHBOARD_CACHE_MIN_FAMILIES families, so no one waits for them. Run it from cron more often than
    DASHBOARD_CACHE_MINUTES; smaller programs never need it."""
    import datetime as dt
    import time

    from . import outcomes

    config = current_app.config
    started = time.perf_counter()
    done = outcomes.refresh_snapshots(dt.date.today(), config["FOLLOWUP_MONTHS"],
                                      config["GRADUATION_MIN_TURNOVER_DAY"], config["DASHBOARD_CACHE_MIN_FAMILIES"])
    if done:
        click.echo(f"Dashboard figures refreshed for {', '.join(done)} in {time.perf_counter() - started:.1f} s.")
    else:
        click.echo(f"No scope has {config['DASHBOARD_CACHE_MIN_FAMILIES']:,} families: nothing to refresh "
                   "(the dashboard computes its figures fresh).")


COMMANDS = (
    seed_demo_command,
    import_recipients_command,
    seed_regions_command,
    backup_command,
    restore_command,
    create_user_command,
    refresh_dashboard_command,
)


def register_cli(app: Flask) -> None:
    """Add the commands above to `flask --app webapp …`."""
    for command in COMMANDS:
        app.cli.add_command(command)
