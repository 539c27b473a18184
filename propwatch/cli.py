"""The ``propwatch`` command line."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import signal
import sys
import threading
from pathlib import Path

from propwatch.settings import Settings, SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``propwatch`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:
        # The simulators own their options (including --help); argparse's REMAINDER would drop a leading one.
        from simulators.cli import main as simulate_main

        return simulate_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"propwatch: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO; the dispatch scan runs each second.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    from dispatch.errors import NotificationConfigError
    from ingest.migrations import StorageModeError

    try:
        return args.handler(settings, args)
    except (StorageModeError, NotificationConfigError) as exc:  # say what to change, not a traceback
        print(f"propwatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before a command has taken the signal over (still importing, starting)
        print("\npropwatch: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="propwatch", description="IoT monitoring and dispatch for estates.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run everything on embedded services with a simulated estate")
    demo.add_argument("--data-dir", type=Path, default=None, help="where embedded data lives (default .data)")
    demo.add_argument("--port", type=int, default=None, help="web port (default 8000)")
    demo.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="exit after this long")
    demo.set_defaults(handler=_demo)

    db = commands.add_parser("db", help="database administration").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply pending migrations").set_defaults(handler=_db_upgrade)
    db.add_parser("maintain", help="run storage maintenance now: rollups, retention, compression").set_defaults(
        handler=_db_maintain)

    commands.add_parser("pipeline", help="run gateway, rules and dispatch").set_defaults(handler=_pipeline)
    commands.add_parser("gateway", help="run a gateway worker alone (external PostgreSQL and broker)").set_defaults(
        handler=_gateway)
    commands.add_parser("serve", help="run the web app").set_defaults(handler=_serve)

    broker = commands.add_parser("broker", help="logins and ACL of an external Mosquitto").add_subparsers(
        required=True, metavar="ACTION")
    write_auth = broker.add_parser("write-auth", help="write the broker's password file and ACL from the registry")
    write_auth.add_argument("--dir", type=Path, required=True, help="directory for passwd and acl")
    write_auth.add_argument("--gateway-logins", type=Path, default=None, metavar="FILE",
                            help="user:password lines, one per gateway worker (default: the configured gateway)")
    write_auth.set_defaults(handler=_broker_write_auth)
    device_password = broker.add_parser("device-password", help="print one device's broker password")
    device_password.add_argument("device_id")
    device_password.set_defaults(handler=_broker_device_password)

    users = commands.add_parser("users", help="web users").add_subparsers(required=True, metavar="ACTION")
    create_admin = users.add_parser("create-admin", help="create the first admin (password from "
                                    "PROPWATCH_ADMIN_PASSWORD, else asked twice)")
    create_admin.add_argument("--username", default="admin")
    create_admin.add_argument("--display-name", default="Administrator")
    create_admin.set_defaults(handler=_users_create_admin)

    # Listed for --help only: main() hands `simulate ...` to the simulators' own command line.
    commands.add_parser("simulate", help="run device simulators (see `propwatch simulate --help`)")

    rules = commands.add_parser("rules", help="rule packs").add_subparsers(required=True, metavar="ACTION")
    check = rules.add_parser("check", help="validate a rule pack file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_rules_check)
    return parser


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from propwatch.demo import DemoOptions, run_demo

    run_demo(settings, DemoOptions(
        data_dir=args.data_dir or settings.data_dir,
        port=args.port or settings.web_port,
        duration_s=args.duration,
    ))
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from propwatch import services
    from propwatch.schema import upgrade_database

    with contextlib.ExitStack() as stack:
        report = upgrade_database(services.database_url(settings, stack), storage=settings.storage)
    print(f"storage mode: {report.mode}; applied {len(report.applied)} migrations")
    for label in report.applied:
        print(f"  {label}")
    return 0


def _db_maintain(settings: Settings, args: argparse.Namespace) -> int:
    from ingest import maintenance
    from ingest.database import connect
    from propwatch import services

    with contextlib.ExitStack() as stack, connect(services.database_url(settings, stack), autocommit=True) as conn:
        report = maintenance.run(conn, every_job=True)
    for task, error in report.tasks.items():
        print(f"  {task}: {error or 'ok'}")
    for job in report.failing_jobs:
        print(f"  the server fails to run {job.task}: {job.error or 'not started'}. Fix: {job.fix}")
    return 0 if report.ok else 1


def _pipeline(settings: Settings, args: argparse.Namespace) -> int:
    from propwatch import services
    from propwatch.pipeline import Pipeline
    from propwatch.schema import upgrade_database

    with contextlib.ExitStack() as stack:
        database_url = services.database_url(settings, stack)
        upgrade_database(database_url, storage=settings.storage)
        endpoint, protocol = services.broker(settings, stack, database_url)
        pipeline = Pipeline(database_url=database_url, endpoint=endpoint, protocol=protocol,
                            rules_file=settings.rules_file, client_id=settings.gateway_client_id,
                            sites=settings.sites, limits=settings.gateway_limits)
        pipeline.start()
        stack.callback(pipeline.stop)
        _wait_for_stop_signal()
    return 0


def _gateway(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.service import Gateway
    from propwatch.schema import upgrade_database
    from propwatch.services import external_endpoint

    # A worker alone shares the database and broker of a pipeline; embedded ones would be its own, seen by nobody.
    if settings.database_url is None or settings.mqtt is None:
        print("propwatch: PROPWATCH_DATABASE_URL and PROPWATCH_MQTT_URL must be set to run the gateway alone",
              file=sys.stderr)
        return 2
    upgrade_database(settings.database_url, storage=settings.storage)
    gateway = Gateway(
        endpoint=external_endpoint(settings),
        database_url=settings.database_url,
        protocol=settings.mqtt_protocol,
        client_id=settings.gateway_client_id,
        shared_group=settings.gateway_shared_group,
        sites=settings.sites,
        session_expiry_s=settings.mqtt_session_expiry_s,
        tls_ca_file=settings.gateway_tls_ca_file,
        dead_letters=settings.gateway_limits.dead_letters,
        late_event_after_s=settings.gateway_limits.late_event_after_s,
        stall_after_s=settings.gateway_limits.stall_after_s,
    )
    gateway.start()
    try:
        _wait_for_stop_signal()
    finally:
        gateway.stop()
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from dashboard.app import create_app
    from dashboard.limits import Limits
    from propwatch import services
    from propwatch.demo import GRACEFUL_SHUTDOWN_S

    with contextlib.ExitStack() as stack:
        app = create_app(database_url=services.database_url(settings, stack), secret_key=settings.secret_key,
                         uploads_dir=settings.data_dir / "uploads", limits=Limits(body=settings.web_max_body_bytes),
                         statement_timeout_s=settings.web_statement_timeout_s,
                         log_client_address=settings.web_log_client_address)
        # The app logs each request itself, without personal data; uvicorn's access log would add a second line.
        uvicorn.run(app, host=settings.web_host, port=settings.web_port, access_log=False,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    return 0


def _users_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from dashboard.accounts import AccountExists, create_admin
    from ingest.database import connect
    from propwatch import services
    from propwatch.schema import upgrade_database

    if settings.admin_password is not None:
        password = settings.admin_password.get_secret_value()
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("propwatch: the passwords differ", file=sys.stderr)
            return 2
    else:
        print("propwatch: set PROPWATCH_ADMIN_PASSWORD or run this in a terminal to be asked", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        database_url = services.database_url(settings, stack)
        upgrade_database(database_url, storage=settings.storage)
        with connect(database_url) as conn:
            try:
                user = create_admin(conn, username=args.username, password=password,
                                    display_name=args.display_name)
            except (AccountExists, ValueError) as exc:
                print(f"propwatch: {exc}", file=sys.stderr)
                return 1
            conn.commit()
    print(f"created admin {user.username} (id {user.id})")
    return 0


def _broker_write_auth(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.credentials import write_broker_auth
    from propwatch import services
    from propwatch.broker_auth import MissingSecret, gateway_login, master_key, read_gateway_logins, registry_access

    try:
        key = master_key(settings, settings.data_dir)
        gateways = (read_gateway_logins(args.gateway_logins) if args.gateway_logins
                    else (gateway_login(settings, settings.data_dir),))
    except (MissingSecret, ValueError, OSError) as exc:
        print(f"propwatch: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        try:
            access = registry_access(services.database_url(settings, stack), gateways, key)
        except ValueError as exc:
            print(f"propwatch: {exc}", file=sys.stderr)
            return 2
    passwd, acl = write_broker_auth(args.dir.resolve(), access)
    print(f"wrote {passwd} ({len(access.gateways)} gateway and {len(access.devices)} device logins)")
    print(f"wrote {acl}")
    print("mosquitto.conf needs (gateway/mosquitto/propwatch.conf.template has them all):")
    print("  per_listener_settings false")
    print("  allow_anonymous false")
    print(f"  password_file {passwd}")
    print(f"  acl_file {acl}")
    print("  use_username_as_clientid true    (after every listener line)")
    print("then make Mosquitto reread the files: kill -HUP <its pid> (or restart it)")
    return 0


def _broker_device_password(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.credentials import derive_device_password
    from gateway.protocol.topics import IDENTIFIER
    from propwatch.broker_auth import MissingSecret, master_key

    if not IDENTIFIER.match(args.device_id):
        print(f"propwatch: {args.device_id!r} is not a device id ({IDENTIFIER.pattern})", file=sys.stderr)
        return 2
    try:
        key = master_key(settings, settings.data_dir)
    except MissingSecret as exc:
        print(f"propwatch: {exc}", file=sys.stderr)
        return 2
    print(derive_device_password(key, args.device_id))
    return 0


def _rules_check(settings: Settings, args: argparse.Namespace) -> int:
    from rules.cli import main as rules_main

    return rules_main(["check", str(args.file)])


def _wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM, so a service manager's stop shuts down as cleanly as Ctrl-C."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
