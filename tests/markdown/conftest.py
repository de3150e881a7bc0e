from pathlib import Path

import pytest

SPEC = Path(__file__).parent / "spec"


@pytest.fixture
def spec_text():
    def read(name: str = "ai-project-proposal.md") -> str:
        return (SPEC / name).read_text(encoding="utf-8")

    return read
