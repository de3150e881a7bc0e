"""Chaos: bench.load's 60 s of load while Redis, the Celery worker and GitLab go away and come back.

    .venv/bin/python -m bench.chaos [--users 50] [--seconds 60] [--keep] [--smoke]

The same stack, people and checks as bench.load (in a database of its own, ``<name>_chaos``,
so sg_bench_chaos). During the load, at fixed points of the run:

- Redis (the private redis-server this script started, never a shared one) is stopped
  and started again, empty: every queued task is gone;
- the Celery worker is killed with SIGKILL in the middle of its work, then started again;
- the fake GitLab stops answering (its process frozen with SIGSTOP, so requests hang
  until the client's timeout) and then answers again (SIGCONT). Freezing rather than
  restarting it keeps its issues, as a real GitLab keeps them through an outage.

Afterwards, as for bench.load: which requests failed, every author's last autosave in
the database and, once the worker has drained, on GitLab, and every proposal in sync.
"""

from __future__ import annotations

import json
import sys
import time

from bench.load import arguments, check_writes, finish, prepare, report, run_locust

# (seconds into the load, what happens)
SCHEDULE = [
    (10, "stop Redis"),
    (20, "start Redis"),
    (28, "kill the worker"),
    (34, "start the worker"),
    (40, "freeze GitLab"),
    (50, "thaw GitLab"),
]


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    stack, plan = prepare(args, "chaos")
    actions = {
        "stop Redis": stack.stop_redis,
        "start Redis": stack.start_redis,
        "kill the worker": stack.kill_worker,
        "start the worker": stack.start_worker,
        "freeze GitLab": stack.pause_fake,
        "thaw GitLab": stack.resume_fake,
    }
    try:
        locust, last_path, _ = run_locust(stack, plan, users=args.users, seconds=args.seconds)
        started = time.monotonic()
        for at, event in SCHEDULE:
            at = at * args.seconds / 60
            time.sleep(max(0.0, started + at - time.monotonic()))
            actions[event]()
            print(f"  {time.monotonic() - started:5.1f} s  {event}")
        locust.wait(timeout=args.seconds + 120)
        failures = report(stack, args.seconds, stack.baseline_ms)
        problems = check_writes(stack, json.loads(last_path.read_text()), drain_timeout=900)
    except BaseException:
        stack.stop_all()
        raise
    return finish(stack, problems, failures, args.keep)


if __name__ == "__main__":
    sys.exit(main())
