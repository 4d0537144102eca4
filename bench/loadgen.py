"""The load generator of bench/load.py: drives the simulated people of bench/loadusers.py
against the running gunicorn, phase by phase, and times every request.

Run by bench/load.py as `python bench/loadgen.py --config '<json>'`. Importing locust
monkey-patches the standard library for gevent, which is why this runs in its own process: the
parent, which starts the servers and owns the databases, stays unpatched. The result goes back
to the parent as the `BENCH_RESULT` line of bench.harness.
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in the other benches: take bench/ off sys.path first, or bench/queue.py would stand in for
# the standard library's `queue` (gevent and locust import it).
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import between  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench import harness  # noqa: E402
from bench.loadusers import (  # noqa: E402
    CAPACITY_ENDPOINT,
    Config,
    Consultant,
    Manager,
    QueueReader,
    Recorder,
    Shared,
)

LOGIN_TIMEOUT_S = 180  # for the users added at once to sign in (each sign-in hashes a password)


# --- The driver: phases, timed windows, CPU per process -----------------------------------------
@dataclass
class Window:
    """One timed window: the mixed phase, or one step of the capacity search."""

    users: int
    seconds: float = 0.0
    spawn_s: float = 0.0  # spawning and signing in the users added for this window
    requests: int = 0
    errors: int = 0
    rps: float = 0.0
    endpoints: dict[str, dict[str, float]] = field(default_factory=dict)
    error_examples: dict[str, str] = field(default_factory=dict)
    # Cores used on average over the window: the machine, and each part of it.
    cores: dict[str, float] = field(default_factory=dict)
    load_avg: float = 0.0


@dataclass
class DriveResult:
    mixed: dict[str, Any]
    capacity: list[dict[str, Any]]
    logins_ok: int = 0
    logins_failed: int = 0
    replies_accepted: int = 0
    task_errors: int = 0
    task_error_examples: list[str] = field(default_factory=list)


def cpu_snapshot(pgids: dict[str, int]) -> dict[str, float]:
    busy, total = harness.machine_cpu()
    snapshot = {
        "machine_busy": busy,
        "machine_total": total,
        "postgres": harness.postgres_cpu_s(),
        "loadgen": time.process_time(),
    }
    for name, pgid in pgids.items():
        snapshot[name] = harness.process_cpu_s(harness.process_group(pgid))
    return snapshot


def cores_used(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    used = {k: after[k] - before[k] for k in before}
    total = used.pop("machine_total")
    cores = os.cpu_count() or 1
    machine = used.pop("machine_busy") / total * cores if total else 0.0
    shares = {k: round(v / wall, 2) for k, v in used.items()}
    shares["other"] = round(max(machine - sum(used.values()) / wall, 0.0), 2)
    return {"machine": round(machine, 2), **shares}


def endpoint_stats(samples: list[float], errors: int, seconds: float) -> dict[str, float]:
    if len(samples) >= 2:
        p50, p95 = harness.p50_p95(samples, 1)
    else:
        p50 = p95 = round(samples[0], 1) if samples else 0.0
    return {
        "n": len(samples),
        "errors": errors,
        "p50_ms": p50,
        "p95_ms": p95,
        "max_ms": round(max(samples, default=0.0), 1),
        "rps": round(len(samples) / seconds, 2),
    }


def timed_window(recorder: Recorder, users: int, seconds: float, spawn_s: float) -> Window:
    pgids = Shared.config.pgids
    before, started = cpu_snapshot(pgids), time.monotonic()
    recorder.start()
    gevent.sleep(seconds)
    recorder.active = False
    wall = time.monotonic() - started
    window = Window(users=users, seconds=round(wall, 1), spawn_s=round(spawn_s, 1))
    window.cores = cores_used(before, cpu_snapshot(pgids), wall)
    window.load_avg = harness.load_average()
    for name in sorted(recorder.samples):
        stats = endpoint_stats(recorder.samples[name], recorder.errors[name], wall)
        window.endpoints[name] = stats
        window.requests += int(stats["n"])
        window.errors += int(stats["errors"])
    window.rps = round(window.requests / wall, 2)
    window.error_examples = dict(recorder.examples)
    return window


def spawn(runner: Any, users: int) -> float:
    """Bring the runner to `users` and wait until every new one has tried to sign in."""
    wanted = Shared.logins_ok + Shared.logins_failed + max(users - runner.user_count, 0)
    started = time.monotonic()
    runner.start(users, spawn_rate=min(users, 20))
    while Shared.logins_ok + Shared.logins_failed < wanted:
        if time.monotonic() - started > LOGIN_TIMEOUT_S:
            raise RuntimeError(f"{users} users did not sign in within {LOGIN_TIMEOUT_S} s")
        gevent.sleep(0.2)
    return time.monotonic() - started


def environment(user_classes: list[Any], recorder: Recorder, result: DriveResult) -> Environment:
    env = Environment(user_classes=user_classes, host=Shared.config.host)
    env.events.request.add_listener(recorder.on_request)

    def on_user_error(user_instance: Any, exception: Exception, tb: Any) -> None:
        # A bug in the simulated user (not an answer of the app): counted, and it fails the run.
        result.task_errors += 1
        if len(result.task_error_examples) < 5:
            result.task_error_examples.append(f"{type(exception).__name__}: {exception}")

    env.events.user_error.add_listener(on_user_error)
    return env


def describe(label: str, window: Window) -> None:
    print(
        f"   {label}: {window.users} users, {window.requests} requests in {window.seconds} s "
        f"({window.rps} /s), {window.errors} errors; cores {window.cores}; "
        f"load {window.load_avg}",
        flush=True,
    )


def queue_p95(window: Window) -> float:
    return window.endpoints.get(CAPACITY_ENDPOINT, {}).get("p95_ms", 0.0)


def drive(config: Config) -> DriveResult:
    result = DriveResult(mixed={}, capacity=[])
    recorder = Recorder()

    # Phase 1: the mix, each user pausing between its actions.
    for user_class in (Consultant, Manager):
        user_class.wait_time = between(config.wait_min_s, config.wait_max_s)
    env = environment([Consultant, Manager], recorder, result)
    runner = env.create_local_runner()
    print(f"== mixed: {config.users} users signing in", flush=True)
    spawn_s = spawn(runner, config.users)
    print(f"   signed in after {spawn_s:.1f} s; warming up {config.warmup_s:g} s", flush=True)
    gevent.sleep(config.warmup_s)
    print(f"   timing {config.seconds:g} s", flush=True)
    mixed = timed_window(recorder, config.users, config.seconds, spawn_s)
    runner.quit()
    describe("mixed", mixed)
    result.mixed = mixed.__dict__

    # Phase 2: the capacity search, consultants reloading the queue page with no pause.
    env = environment([QueueReader], recorder, result)
    runner = env.create_local_runner()
    step_warmup = min(config.warmup_s, 3.0)
    steps = list(config.steps)
    crossed = False
    while steps:
        users = steps.pop(0)
        spawn_s = spawn(runner, users)
        gevent.sleep(step_warmup)
        window = timed_window(recorder, users, config.step_s, spawn_s)
        describe(f"capacity step, queue p95 {queue_p95(window):.0f} ms", window)
        result.capacity.append(window.__dict__)
        if not crossed and queue_p95(window) > config.p95_limit_ms:
            crossed = True
            # The first measurement was at 30 users: take that step too, for comparison.
            steps = [30] if users < 30 else []
    runner.quit()
    gevent.sleep(0.5)
    result.logins_ok, result.logins_failed = Shared.logins_ok, Shared.logins_failed
    result.replies_accepted = Shared.replies_accepted
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bench/load.py's load generator")
    parser.add_argument("--config", required=True, help="the Config, as JSON")
    args = parser.parse_args(argv)
    config = Config(**json.loads(args.config))
    random.seed(config.seed)
    Shared.config = config
    Shared.consultant_names = itertools.cycle(config.consultants)
    harness.report_to_parent(drive(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
