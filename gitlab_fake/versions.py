"""What differs between the GitLab versions Stagegate supports (16.x to 18.x), as the fake plays them.

``FakeGitLab(version="16.5")`` or ``python -m gitlab_fake --version 16.5``. Sources: the docs and merge
requests cited in /work/shared/gitlab/WEBHOOKS.md and REAL_GITLAB.md.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_VERSION = "18.0"


def _parse(version: str) -> tuple[int, int]:
    major, _, rest = version.partition(".")
    minor = rest.split(".", 1)[0].split("-", 1)[0]
    return int(major), int(minor or 0)


@dataclass(frozen=True)
class VersionProfile:
    version: str = DEFAULT_VERSION

    @property
    def number(self) -> tuple[int, int]:
        return _parse(self.version)

    @property
    def idempotency_key(self) -> bool:
        """``Idempotency-Key`` on webhook deliveries, stable across retries: 17.4 (gitlab#388692)."""
        return self.number >= (17, 4)

    @property
    def note_edit_hooks(self) -> bool:
        """A Note Hook when a comment is edited (``action: update``): 16.11 (MR !127169, !147856)."""
        return self.number >= (16, 11)

    @property
    def work_item_payloads(self) -> bool:
        """Issues edited through the work-item UI came as ``object_kind: work_item`` (header still
        ``Issue Hook``) until MR !180959 forced ``issue`` (17.10). The release the new UI reached issues
        is not pinned down; the fake plays it from 17.6."""
        return (17, 6) <= self.number < (17, 10)

    @property
    def failures_disable_alike(self) -> bool:
        """MR !166329: 4xx and 5xx count alike, 4 failures in a row disable a hook for a while and 40
        for good. Before it: a 4xx among the 4 disabled the hook for good at once. The release is not
        confirmed; the fake plays it from 17.6."""
        return self.number >= (17, 6)

    @property
    def user_agent(self) -> str:
        return f"GitLab/{self.version}"
