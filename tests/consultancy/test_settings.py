"""Settings read the environment and refuse a malformed value at start-up.

Settings are read once per process, so each case runs the settings module afresh, in its own
namespace, with the environment it tries; one case starts a whole interpreter and the app with
the embedded defaults, as `make run` does. Cases start in development mode, as `make run` does,
unless they say otherwise (production mode: test_settings_production.py).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path
from unittest import mock

import pytest
from django.db.utils import load_backend

PROJECT = Path(__file__).resolve().parents[2]
# Variables a developer's or CI's shell may carry that would change what a case is testing.
OURS = (
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DJANGO_DEVELOPMENT",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_TESTING",
    "DJANGO_CONN_MAX_AGE",
    "DJANGO_TIME_ZONE",
    "CELERY_TASK_ALWAYS_EAGER",
    "PRACTICE_HOURLY_RATE",
    "PRACTICE_PAID_PRIORITY_SURCHARGE",
    "TRUSTED_PROXY_COUNT",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_SECURE_PROXY_SSL_HEADER",
    "DJANGO_SECURE_HSTS_SECONDS",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "DJANGO_SECURE_HSTS_PRELOAD",
    "DJANGO_SESSION_IDLE_MINUTES",
    "DJANGO_STATIC_ROOT",
    "DJANGO_VAR_DIR",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
)
SHOW = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.DEBUG, s.HOURLY_RATE, s.CELERY_BROKER_URL)"
)


def _environment(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    clean["DJANGO_SETTINGS_MODULE"] = "consultancy.settings"
    clean["DJANGO_DEVELOPMENT"] = "true"
    clean.update(env)
    return clean


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    """Read the settings module afresh under `env`; answer as a process starting with them
    would: exit code, the settings SHOW prints, or the exception's last line."""
    with mock.patch.dict(os.environ, _environment(**env), clear=True):
        try:
            s = runpy.run_path(str(PROJECT / "consultancy" / "settings.py"))
            # Start-up goes on to load the database backend the settings name.
            load_backend(s["DATABASES"]["default"]["ENGINE"])
        except Exception as exc:  # reported as a failed start, as a process would report it
            error = traceback.format_exception_only(exc)[-1]
            return subprocess.CompletedProcess([], returncode=1, stdout="", stderr=error)
    shown = [s["DATABASES"]["default"]["ENGINE"], s["DEBUG"], s["HOURLY_RATE"]]
    return subprocess.CompletedProcess(
        [], returncode=0, stdout=" ".join(map(str, [*shown, s["CELERY_BROKER_URL"]])), stderr=""
    )


def _start_the_app(**env: str) -> subprocess.CompletedProcess[str]:
    """Start a fresh interpreter and the app (django.setup) with `env`."""
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        cwd=PROJECT,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_refused(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode != 0, f"started anyway: {result.stdout}"
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured"), result.stderr
    assert variable in last_line, last_line


def test_the_embedded_defaults_start():
    result = _start_the_app()

    assert result.returncode == 0, result.stderr
    engine, debug, rate, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert debug == "True"
    assert rate == "125.00"
    assert broker == "filesystem://"


def test_without_database_url_the_database_is_sqlite_in_the_project():
    result = _start()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.sqlite3"


def test_database_url_selects_postgresql():
    result = _start(DATABASE_URL="postgres://postgres@127.0.0.1:5432/consultancy")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.postgresql"


def test_redis_url_becomes_the_celery_broker():
    result = _start(REDIS_URL="redis://127.0.0.1:6379/0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[3] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("value", ["maybe", "ture", "2", "debug"])
def test_a_debug_flag_that_is_neither_true_nor_false_is_refused(value):
    # environ's own bool() would read a typo as False and silently flip the mode.
    _assert_refused(_start(DJANGO_DEBUG=value), "DJANGO_DEBUG")


@pytest.mark.parametrize(("value", "debug"), [("off", "False"), ("No", "False"), ("1", "True")])
def test_the_debug_flag_reads_the_usual_spellings(value, debug):
    result = _start(DJANGO_DEBUG=value)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == debug


def test_production_mode_without_a_secret_key_is_refused():
    _assert_refused(_start(DJANGO_DEVELOPMENT="false"), "DJANGO_SECRET_KEY")


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:6379/0", "127.0.0.1:6379", "amqp://guest@localhost//"]
)
def test_a_broker_url_that_is_not_redis_is_refused(value):
    _assert_refused(_start(REDIS_URL=value), "REDIS_URL")


@pytest.mark.parametrize("value", ["abc", "12,50", "-5", "NaN", "Infinity", ""])
def test_an_hourly_rate_that_is_not_a_non_negative_amount_is_refused(value):
    _assert_refused(_start(PRACTICE_HOURLY_RATE=value), "PRACTICE_HOURLY_RATE")


def test_an_absurdly_large_hourly_rate_is_refused_as_misconfiguration():
    # 1e400 is a valid Decimal but cannot be quantized to cents: the refusal must still be an
    # ImproperlyConfigured naming the variable, not a bare decimal.InvalidOperation.
    _assert_refused(_start(PRACTICE_HOURLY_RATE="1e400"), "PRACTICE_HOURLY_RATE")


def test_a_paid_priority_surcharge_that_is_not_an_amount_is_refused():
    _assert_refused(
        _start(PRACTICE_PAID_PRIORITY_SURCHARGE="lots"), "PRACTICE_PAID_PRIORITY_SURCHARGE"
    )


def test_the_hourly_rate_is_kept_to_the_cent():
    result = _start(PRACTICE_HOURLY_RATE="99.5")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[2] == "99.50"


def _setting(name: str, **env: str) -> object:
    """One setting as the settings module reads it under `env`."""
    with mock.patch.dict(os.environ, _environment(**env), clear=True):
        return runpy.run_path(str(PROJECT / "consultancy" / "settings.py"))[name]


def test_no_proxy_is_trusted_unless_the_deployment_says_how_many():
    assert _setting("TRUSTED_PROXY_COUNT") == 0
    assert _setting("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT="") == 0
    assert _setting("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT=" 2 ") == 2


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "²", "21"])
def test_a_proxy_count_that_is_not_a_small_whole_number_is_refused(value):
    # A typo must not quietly trust, or stop trusting, the X-Forwarded-For header.
    _assert_refused(_start(TRUSTED_PROXY_COUNT=value), "TRUSTED_PROXY_COUNT")


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "nonsense://x"},
        {"DATABASE_URL": "postgres//missing-colon"},
        {"DATABASE_URL": "postgres://u@h/db", "DJANGO_CONN_MAX_AGE": "forever"},
        {"EMAIL_URL": "pigeon://coop"},
        {"DJANGO_TIME_ZONE": "Mars/Olympus"},
        {"CELERY_TASK_ALWAYS_EAGER": "perhaps"},
    ],
    ids=lambda env: ",".join(f"{k}={v}" for k, v in env.items()),
)
@pytest.mark.filterwarnings("ignore:Engine not recognized:UserWarning")  # environ, on its way
def test_other_malformed_values_stop_start_up(env):
    result = _start(**env)

    assert result.returncode != 0, f"started anyway: {result.stdout}"


def test_a_request_warning_is_logged_once_by_the_root_handler_not_twice(settings):
    import logging

    # Every handler a django.request warning reaches, up the logger tree (pytest's own capture
    # handlers aside): with DEBUG on, Django's "console" handler used to print it as well.
    settings.DEBUG = True
    handlers = []
    logger: logging.Logger | None = logging.getLogger("django.request")
    while logger is not None:
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    printing = [h for h in handlers if isinstance(h, logging.StreamHandler)]

    assert len(printing) == 1


def _queue_and_broadcast(cwd: Path, queue: str, **env: str) -> tuple[Path, Path]:
    """In a fresh app started in `cwd`: queue a task on `queue` and broadcast a control command
    (what a worker's `celery inspect` does); return the broker's and the exchange tables' folders.
    """
    script = (
        "import django; django.setup(); "
        "from consultancy.celery import app; "
        f"app.send_task('no.such.task', queue={queue!r}); "
        "app.control.broadcast('ping', reply=False); "
        "from django.conf import settings; "
        "print(settings.CELERY_FILESYSTEM_DIR); "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get('control_folder', ''))"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", script],
        cwd=cwd,
        env={**_environment(**env), "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    broker, control = result.stdout.split()
    return Path(broker), Path(control)


def test_the_embedded_broker_writes_only_under_var(tmp_path):
    # `make run` starts its processes in the project root; kombu's filesystem transport used
    # to put its exchange tables in `control/` there. A task queued and a control command
    # broadcast from another working directory must leave that directory empty.
    queue = f"settings-test-{os.getpid()}"

    broker, control = _queue_and_broadcast(tmp_path, queue)

    assert list(tmp_path.iterdir()) == []
    assert (broker.parent, control.parent) == (PROJECT / "var", PROJECT / "var")
    assert list(control.glob("*.exchange")), "the broadcast wrote no exchange table"
    messages = list(broker.glob(f"*.{queue}.msg"))
    assert len(messages) == 1
    messages[0].unlink()


def test_the_var_dir_setting_moves_everything_the_app_writes_beside_its_database(tmp_path):
    # Processes sharing an embedded broker share this folder: a fault test and the worker it
    # starts, or a deployment that keeps its data outside the code.
    var, cwd = tmp_path / "data" / "var", tmp_path / "cwd"
    cwd.mkdir()
    queue = f"settings-test-{os.getpid()}"

    broker, control = _queue_and_broadcast(cwd, queue, DJANGO_VAR_DIR=str(var))

    assert list(cwd.iterdir()) == []
    assert (broker, control) == (var / "celery-broker", var / "celery-control")
    assert len(list(broker.glob(f"*.{queue}.msg"))) == 1
    assert list(control.glob("*.exchange")), "the broadcast wrote no exchange table"
    assert _setting("STATIC_ROOT", DJANGO_VAR_DIR=str(var)) == var / "staticfiles"
    assert _setting("STATIC_ROOT") == PROJECT / "var" / "staticfiles"


@pytest.mark.parametrize("value", ["var", "./data/var", "~/var"])
def test_a_var_dir_that_is_not_an_absolute_path_is_refused(value):
    # Each process would find a relative folder from where it was started: a web process and a
    # worker started in different places would queue to folders the other never reads.
    _assert_refused(_start(DJANGO_VAR_DIR=value), "DJANGO_VAR_DIR")
