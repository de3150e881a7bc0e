"""Serve a demo GitLab: ``python -m gitlab_fake --port 8929``."""

from __future__ import annotations

import argparse
import threading

from . import FakeGitLab
from .demo import play_teammate
from .versions import DEFAULT_VERSION


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake GitLab for Stagegate's demo and tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8929)
    parser.add_argument(
        "--hook-url",
        help="register a project webhook pointing at Stagegate, e.g. http://127.0.0.1:8000/gitlab/webhook/",
    )
    parser.add_argument("--hook-token", default="demo-webhook-secret")
    parser.add_argument(
        "--version", default=DEFAULT_VERSION, help="the GitLab release to play, e.g. 16.5 (no Idempotency-Key)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="a teammate links issues, adds designs and comments on the first demo proposal's issue",
    )
    args = parser.parse_args()

    fake = FakeGitLab(args.host, args.port, quiet=False, version=args.version).start()
    if args.hook_url:
        fake.add_hook(args.hook_url, token=args.hook_token)
    print(f"Fake GitLab {fake.version} at {fake.url}")
    print(f"  GITLAB_URL={fake.url}")
    print(f"  GITLAB_TOKEN={fake.token}")
    print(f"  GITLAB_PROJECT={fake.project.path_with_namespace}  (id {fake.project.id})")
    if args.hook_url:
        print(f"  GITLAB_WEBHOOK_SECRET={args.hook_token}  -> {args.hook_url}")
    print(f"  a second user for human edits: token {fake.human_token}")
    if args.demo:
        play_teammate(fake, hook_url=args.hook_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
