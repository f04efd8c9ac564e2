"""`alertbot serve`: the server — Alertmanager's API in, notifications out.

    alertbot serve [--config routes.yaml] [--listen 127.0.0.1:9093]
                   [--database sqlite+aiosqlite:///data/alertbot.db] [--external-url URL]
                   [--instance-id NAME] [--lease-duration 15s] [--max-unready-duration 2m]

Each option can also come from the environment (ALERTBOT_CONFIG, ALERTBOT_LISTEN,
ALERTBOT_DATABASE, ALERTBOT_EXTERNAL_URL, ...). Webhook credentials are read from the
environment or from files, never from the command line (it is visible to every user).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import shutil
import signal
import sys
import tempfile

from bot.cli.errors import UserError
from bot.cli.options import add_config, add_matchers_mode, get_config, get_matchers_mode
from bot.config import ConfigError, load_config
from bot.config.durations import parse_duration
from bot.server.workers import FRONT_ENV, FRONT_METRICS_ENV, READY_LINE, Fronts, die_with_parent, port_is_free
from bot.server.settings import (
    DEFAULT_CONFIG,
    DEFAULT_DATABASE,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_LISTEN,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_UNREADY_SECONDS,
    DEFAULT_READ_BODY_TIMEOUT_S,
    DEFAULT_READ_HEADER_TIMEOUT_S,
    Settings,
    SettingsError,
    WebhookAuth,
    split_listen,
)

_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "serve", help="run the server (Alertmanager's API, webhook intake, notifications)",
        description="Run alertbot: it accepts what Prometheus sends to Alertmanager (POST /api/v2/alerts) "
                    "and what Alertmanager sends to a webhook (POST /webhook), and notifies the configured "
                    "receivers. Every option can be set through the environment variable shown.")
    add_config(p, DEFAULT_CONFIG)
    p.add_argument("--listen", "--web.listen-address", dest="listen", metavar="HOST:PORT", default=None,
                   help=f"address to listen on (env ALERTBOT_LISTEN; default {DEFAULT_LISTEN})")
    p.add_argument("--database", metavar="URL", default=None,
                   help="database URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB "
                        f"(env ALERTBOT_DATABASE; default {DEFAULT_DATABASE})")
    p.add_argument("--external-url", "--web.external-url", dest="external_url", metavar="URL", default=None,
                   help="URL the bot is reached at, used in notifications (env ALERTBOT_EXTERNAL_URL; "
                        "default http://<listen>)")
    p.add_argument("--route-prefix", "--web.route-prefix", dest="route_prefix", metavar="PATH", default=None,
                   help="serve every route under this path, as Alertmanager does (env ALERTBOT_ROUTE_PREFIX; "
                        "default: the path of --external-url)")
    add_matchers_mode(p)
    p.add_argument("--max-body-size", metavar="SIZE", default=None,
                   help="largest request body accepted, e.g. 64MiB (env ALERTBOT_MAX_BODY_SIZE; default 64MiB); "
                        "larger ones are refused with 413 before they are read")
    p.add_argument("--read-header-timeout", metavar="DURATION", default=None,
                   help="time a client has to send a request's line and headers, from connecting or from the "
                        "first byte of a request on a kept-alive connection; the connection is closed after it "
                        "(env ALERTBOT_READ_HEADER_TIMEOUT; default 10s; 0: no limit)")
    p.add_argument("--read-body-timeout", metavar="DURATION", default=None,
                   help="time a client has to send a request's whole body once its headers are in; 408 after it "
                        "(env ALERTBOT_READ_BODY_TIMEOUT; default 60s; 0: no limit)")
    p.add_argument("--webhook-bearer-token-file", metavar="FILE", default=None,
                   help="require this bearer token on POST /webhook (env ALERTBOT_WEBHOOK_BEARER_TOKEN or "
                        "ALERTBOT_WEBHOOK_BEARER_TOKEN_FILE)")
    p.add_argument("--webhook-username", metavar="NAME", default=None,
                   help="require basic auth with this user on POST /webhook (env ALERTBOT_WEBHOOK_USERNAME); "
                        "the password comes from --webhook-password-file or ALERTBOT_WEBHOOK_PASSWORD(_FILE)")
    p.add_argument("--webhook-password-file", metavar="FILE", default=None)
    p.add_argument("--instance-id", metavar="NAME", default=None,
                   help="this replica's name in the engine lease, unique among replicas on one database "
                        "(env ALERTBOT_INSTANCE_ID; default HOSTNAME/LISTEN)")
    p.add_argument("--lease-duration", metavar="DURATION", default=None,
                   help="how long the engine lease lasts unrenewed before a standby replica takes over, e.g. 15s "
                        "(env ALERTBOT_LEASE_DURATION; default 15s)")
    p.add_argument("--max-unready-duration", metavar="DURATION", default=None,
                   help="/-/healthy answers 503 once the engine has not been able to run this long (a database "
                        "it cannot reach or recover from, a cycle stuck), so that an orchestrator restarts the "
                        "process (env ALERTBOT_MAX_UNREADY_DURATION; default 2m)")
    p.add_argument("--ingest-workers", metavar="N", default=None,
                   help="front processes that take POST /api/v2/alerts into a durable inbox beside the engine's "
                        "process, for ingestion on more than one core; 0: one process (env ALERTBOT_INGEST_WORKERS; "
                        "default auto: 1 where the server may use more than one core, else 0; docs/inbox.md)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default=None,
                   help="log level (env ALERTBOT_LOG_LEVEL; default info)")
    p.set_defaults(func=run)


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _read_secret(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError as exc:
        raise UserError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


def parse_size(text: str) -> int:
    m = _SIZE.match(text)
    if m is None:
        raise UserError(f"--max-body-size {text!r}: expected a size such as 1048576, 512KiB or 64MiB")
    return int(m.group(1)) * _UNITS[(m.group(2) or "b").lower()]


def _webhook_auth(args: argparse.Namespace) -> WebhookAuth | None:
    token = _env("ALERTBOT_WEBHOOK_BEARER_TOKEN")
    token_file = args.webhook_bearer_token_file or _env("ALERTBOT_WEBHOOK_BEARER_TOKEN_FILE")
    if token_file:
        token = _read_secret(token_file, "webhook bearer token")
    username = args.webhook_username or _env("ALERTBOT_WEBHOOK_USERNAME")
    password = _env("ALERTBOT_WEBHOOK_PASSWORD")
    password_file = args.webhook_password_file or _env("ALERTBOT_WEBHOOK_PASSWORD_FILE")
    if password_file:
        password = _read_secret(password_file, "webhook password")
    if password is not None and username is None:
        raise UserError("a webhook password is set but no user name (--webhook-username or ALERTBOT_WEBHOOK_USERNAME)")
    if token_file is not None and not token:
        raise UserError(f"webhook bearer token file {token_file} is empty")
    auth = WebhookAuth(token or None, username, password if username is not None else None)
    return auth if auth.enabled else None


def settings_from(args: argparse.Namespace) -> Settings:
    listen = args.listen or _env("ALERTBOT_LISTEN") or DEFAULT_LISTEN
    try:
        split_listen(listen)
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    size = args.max_body_size or _env("ALERTBOT_MAX_BODY_SIZE")
    return Settings(
        config_path=get_config(args, DEFAULT_CONFIG) or DEFAULT_CONFIG,
        listen=listen,
        database_url=args.database or _env("ALERTBOT_DATABASE") or DEFAULT_DATABASE,
        external_url=args.external_url or _env("ALERTBOT_EXTERNAL_URL") or "",
        route_prefix=args.route_prefix or _env("ALERTBOT_ROUTE_PREFIX") or "",
        matchers_mode=get_matchers_mode(args),
        max_body_bytes=parse_size(size) if size else DEFAULT_MAX_BODY_BYTES,
        webhook_auth=_webhook_auth(args),
        log_level=args.log_level or _env("ALERTBOT_LOG_LEVEL") or "info",
        instance_id=args.instance_id or _env("ALERTBOT_INSTANCE_ID") or "",
        lease_seconds=_duration("--lease-duration", args.lease_duration or _env("ALERTBOT_LEASE_DURATION"),
                                DEFAULT_LEASE_SECONDS, at_least=1.0),
        ingest_workers=_ingest_workers(args.ingest_workers or _env("ALERTBOT_INGEST_WORKERS")),
        read_header_timeout=_duration("--read-header-timeout", args.read_header_timeout
                                      or _env("ALERTBOT_READ_HEADER_TIMEOUT"), DEFAULT_READ_HEADER_TIMEOUT_S),
        read_body_timeout=_duration("--read-body-timeout", args.read_body_timeout
                                    or _env("ALERTBOT_READ_BODY_TIMEOUT"), DEFAULT_READ_BODY_TIMEOUT_S),
        max_unready_seconds=_duration("--max-unready-duration", args.max_unready_duration
                                      or _env("ALERTBOT_MAX_UNREADY_DURATION"), DEFAULT_MAX_UNREADY_SECONDS,
                                      at_least=1.0),
    )


def usable_cores(cpu_max: str = "/sys/fs/cgroup/cpu.max") -> float:
    """The cores this process may use: those it may run on, bounded by a cgroup v2 CPU quota (a
    container limited to one CPU sees every core of its host)."""
    cores = float(len(os.sched_getaffinity(0)))
    try:
        with open(cpu_max, encoding="ascii") as fh:
            quota, _, period = fh.read().strip().partition(" ")
        if quota != "max" and float(period or 100_000) > 0:
            cores = min(cores, float(quota) / float(period or 100_000))
    except (OSError, ValueError):
        pass
    return cores


def _ingest_workers(text: str | None) -> int:
    if not text or text == "auto":
        # One front is where the measurements put the gain (bench/RESULTS.md): the engine's
        # process sets the pace beyond it. With one core or less the two would take turns.
        return 1 if usable_cores() > 1 else 0
    if not text.isdigit() or int(text) > 64:
        raise UserError(f"--ingest-workers {text!r}: expected auto or a number of processes from 0 to 64")
    return int(text)


def _duration(option: str, text: str | None, default: float, at_least: float = 0.0) -> float:
    if not text:
        return default
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UserError(f"{option} {text!r}: {exc}") from None
    if seconds < at_least:
        raise UserError(f"{option} {text!r}: must be at least {at_least:g}s")
    return seconds


def run(args: argparse.Namespace) -> int:
    from bot import logging as botlog

    settings = settings_from(args)
    botlog.configure(instance=settings.listen, level=settings.log_level)
    log = botlog.get_logger("alertbot.serve")
    try:
        config = load_config(settings.config_path, settings.matchers_mode or "fallback")
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"alertbot: error: {issue}", file=sys.stderr)
        print(f"alertbot: error: the configuration in {settings.config_path} is invalid; not starting",
              file=sys.stderr)
        return 1
    from bot.store.base import StoreUnavailable
    from bot.store.sql import SqlStore

    try:
        SqlStore(settings.database_url)  # checks the URL only; nothing is opened yet
    except StoreUnavailable as exc:
        print(f"alertbot: error: --database: {exc}", file=sys.stderr)
        return 1
    tune_gc()
    front_of = os.environ.get(FRONT_ENV)
    if front_of:  # the engine's process said all of the below already
        return asyncio.run(_serve_front(settings, config, front_of))
    for warning in config.warnings:
        log.warning(f"configuration warning: {warning}")
    if args.database and _safe_url(args.database) != args.database:
        log.warning("--database holds a password on the command line, where every local user can read it (the "
                    "front processes repeat it): give it as PGPASSWORD, in a PGPASSFILE, or the whole URL as "
                    "ALERTBOT_DATABASE")
    log.info("starting", config=settings.config_path, listen=settings.listen,
             database=_safe_url(settings.database_url), external_url=settings.resolved_external_url(),
             matchers_mode=config.matchers_mode, webhook_auth="on" if settings.webhook_auth else "off")
    return asyncio.run(_serve(settings, config))


# The server holds every active alert in memory (hundreds of thousands of small objects).
# With CPython's default thresholds (700, 10, 10) each full collection walks all of them, and
# under a steady ingest it ran about ten times per 100,000 alerts, 0.1-0.2 s each: a fifth of
# the server's CPU (bench/ingest_bench.py). Alerts hold no reference cycles, so rarer young
# collections lose nothing; what start-up loaded (modules, config) is frozen out of them.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# A Unix socket's path holds at most 107 bytes (sun_path); the longest here is
# "<base>/alertbot-XXXXXXXX/front-NN.metrics.sock".
SOCKET_BASE_MAX = 64


def _socket_base() -> str:
    """Where the sockets between this process and its fronts live: the temporary directory
    (TMPDIR) when its path is short enough for a socket, else /tmp."""
    base = tempfile.gettempdir()
    return base if len(os.fsencode(base)) <= SOCKET_BASE_MAX else "/tmp"


def _safe_url(url: str) -> str:
    return re.sub(r"(://[^/:@]+):[^/@]*@", r"\1:***@", url)


async def _serve(settings: Settings, config: object) -> int:
    from aiohttp import web

    from bot import logging as botlog
    from bot.server.app import create_app
    from bot.server.body import app_runner
    from bot.server.common import RUNTIME

    log = botlog.get_logger("alertbot.serve")
    host, port = settings.host_port()
    fronts: Fronts | None = None
    if settings.ingest_workers:
        # The fronts own the public port; this process answers them on a Unix socket.
        problem = port_is_free(host, port)
        if problem is not None:
            print(f"alertbot: error: cannot listen on {settings.listen}: {problem}", file=sys.stderr)
            return 1
        socket_dir = tempfile.mkdtemp(prefix="alertbot-", dir=_socket_base())
        engine_socket = os.path.join(socket_dir, "engine.sock")
    app = create_app(settings, config=config, handle_signals=True)  # type: ignore[arg-type]
    # lingering_time: after refusing a body (413) the connection is drained for at most this
    # long, so that the client reads the answer instead of a reset, then closed.
    # The route prefix is taken off where the public port is served: here in one process; by
    # the fronts otherwise (they pass requests on to this process without it).
    runner = app_runner(app, settings.read_header_timeout, settings.read_body_timeout, access_log=None,
                        route_prefix="" if settings.ingest_workers else settings.resolved_route_prefix(),
                        handle_signals=False, shutdown_timeout=10, lingering_time=2.0)
    await runner.setup()
    if settings.ingest_workers:
        site: web.BaseSite = web.UnixSite(runner, engine_socket)
    else:
        site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
        if settings.ingest_workers:
            fronts = Fronts(settings.ingest_workers, engine_socket)
            app[RUNTIME].metrics.front_sockets = fronts.metrics_sockets
            await fronts.start()
    except (OSError, RuntimeError) as exc:
        if fronts is not None:
            await fronts.stop()
        await runner.cleanup()
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"alertbot: error: cannot listen on {settings.listen}: {why}", file=sys.stderr)
        return 1
    log.info("listening", listen=settings.listen, ingest_workers=settings.ingest_workers)
    try:
        await _until_stopped()
    finally:
        log.info("shutting down")
        if fronts is not None:
            await fronts.stop()  # first: their requests in flight still reach this process
        await runner.cleanup()
        if settings.ingest_workers:
            shutil.rmtree(socket_dir, ignore_errors=True)
    return 0


async def _serve_front(settings: Settings, config: object, engine_socket: str) -> int:
    """One front process of `--ingest-workers` (started by the engine's process, never by hand)."""
    from aiohttp import web

    from bot import logging as botlog
    from bot.server.body import app_runner
    from bot.server.front import create_front_app

    die_with_parent()
    botlog.set_process(f"front-{os.getpid()}")
    app, metrics_app = create_front_app(settings, config, engine_socket)  # type: ignore[arg-type]
    runner = app_runner(app, settings.read_header_timeout, settings.read_body_timeout, access_log=None,
                        route_prefix=settings.resolved_route_prefix(),
                        handle_signals=False, shutdown_timeout=10, lingering_time=2.0)
    metrics_runner = web.AppRunner(metrics_app, access_log=None, handle_signals=False)
    await runner.setup()
    await metrics_runner.setup()
    host, port = settings.host_port()
    try:
        metrics_path = os.environ[FRONT_METRICS_ENV]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(metrics_path)  # left by the front this one replaces
        await web.UnixSite(metrics_runner, metrics_path).start()
        await web.TCPSite(runner, host, port, reuse_address=True, reuse_port=True).start()
    except OSError as exc:
        await runner.cleanup()
        await metrics_runner.cleanup()
        print(f"alertbot: error: front process cannot listen on {settings.listen}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    sys.stdout.buffer.write(READY_LINE)
    sys.stdout.flush()
    await _until_stopped()
    await runner.cleanup()
    await metrics_runner.cleanup()
    return 0


async def _until_stopped() -> None:
    """Returns at SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
