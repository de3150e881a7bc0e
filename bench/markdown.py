"""Render and parse speed of proposals.markdown, and parse time as issue bodies grow to GitLab's 1 MB limit.

    .venv/bin/python -m bench.markdown [--runs 7] [--smoke]

Pure Python, no database: the proposals are the hand-written fixtures of tests/markdown/fixtures (all five
template versions), read once, then rendered and parsed again and again. Each figure is the median of
several runs. The size table parses bodies of 10 KB, 100 KB and 1 MB: a realistic proposal whose answers
and added sections grow, and a body made of the lines that trip template parsers up; the time per KB
stays flat when the parser is linear (the last column: the ratio to the 10 KB body's, measured in the same
run). ``--smoke`` takes one run of a 50th of the time and the 10 KB and 100 KB bodies only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from proposals import markdown
from proposals.markdown import KeptBlock, ProposalContent

ROOT = Path(__file__).resolve().parent.parent

FIXTURES = sorted((ROOT / "tests" / "markdown" / "fixtures").glob("*.md"))

PARAGRAPH = """Reviewers of large merge requests lose track of what was discussed. In a survey of 212 users,
64% said they reread threads they had already resolved. 🤖

```ruby
# spec/models/user_spec.rb
RSpec.describe User do
end
```

| Metric | Today | Target |
| --- | --- | --- |
| Time to first review | 3.1 days | 2 days |

- See the open threads first
- [ ] Ask the model for a summary
<!-- a note the author left -->
"""


def median_rate(action, items, runs: int, budget: float = 0.2) -> tuple[float, float]:
    """Items handled per second of this process's CPU time and per second of wall-clock time, medians over
    runs (each run handles every item until `budget` seconds of CPU have passed). CPU time is what the code
    costs; wall-clock time also counts whatever else the machine was doing."""
    cpu_rates, wall_rates = [], []
    for _ in range(runs):
        done, cpu, wall = 0, time.process_time(), time.perf_counter()
        while time.process_time() - cpu < budget:
            for item in items:
                action(item)
            done += len(items)
        cpu_rates.append(done / (time.process_time() - cpu))
        wall_rates.append(done / (time.perf_counter() - wall))
    return statistics.median(cpu_rates), statistics.median(wall_rates)


def median_seconds(action, runs: int) -> tuple[float, float]:
    """CPU and wall-clock seconds of one call, medians over runs."""
    cpu_times, wall_times = [], []
    for _ in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        action()
        cpu_times.append(time.process_time() - cpu)
        wall_times.append(time.perf_counter() - wall)
    return statistics.median(cpu_times), statistics.median(wall_times)


def realistic_body(size: int) -> str:
    """A filled-in proposal grown to about `size` characters: long answers and sections added by hand."""
    unit = len(PARAGRAPH)
    per_field = max(1, size // unit // 3)
    content = ProposalContent(
        fields={
            "user_problem": PARAGRAPH * per_field,
            "proposal": PARAGRAPH * per_field,
            "success": "Half the time to first review.",
        },
        lists={"requirements": tuple(f"Requirement {n}" for n in range(20))},
        kept_blocks=(KeptBlock("success", "## Rollout plan\n" + PARAGRAPH * per_field),),
    )
    return markdown.render(content)


def hostile_body(size: int) -> str:
    """Template headings, prompts, task items, open fences and comments, table pipes, over and over."""
    from tests.markdown.strategies import NASTY

    unit = "\n".join(NASTY) + "\n"
    return unit * max(1, size // len(unit))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="one short run, small bodies: does the script work?")
    args = parser.parse_args()
    budget, sizes, repeats = 0.2, (10_000, 100_000, 1_000_000), max(3, args.runs // 2)
    if args.smoke:
        args.runs, budget, sizes, repeats = 1, 0.004, (10_000, 100_000), 1

    gitlab_bodies = [path.read_text(encoding="utf-8") for path in FIXTURES]
    contents = [markdown.parse(body).content for body in gitlab_bodies]
    rendered = [markdown.render(content) for content in contents]

    rates = {
        "render": median_rate(markdown.render, contents, args.runs, budget),
        "parse (Stagegate's body)": median_rate(markdown.parse, rendered, args.runs, budget),
        "parse (GitLab's raw body)": median_rate(markdown.parse, gitlab_bodies, args.runs, budget),
        "parse, version known": median_rate(
            lambda body: markdown.parse(body, version="2023-06"), rendered, args.runs, budget
        ),
        "render + parse": median_rate(
            lambda content: markdown.parse(markdown.render(content)), contents, args.runs, budget
        ),
    }
    lines = statistics.mean(body.count("\n") for body in rendered)
    size = statistics.mean(len(body) for body in rendered) / 1000
    print(f"proposals.markdown on {len(contents)} proposals (all five template versions), median of {args.runs} runs")
    print(f"  average rendered body: {size:.1f} KB, {lines:.0f} lines")
    print(f"  {'':<28}{'per CPU second':>16}{'each':>10}{'per wall second':>18}")
    for name, (cpu, wall) in rates.items():
        print(f"  {name:<28}{cpu:>16,.0f}{1000 / cpu:>8.2f} ms{wall:>18,.0f}")
    print()
    print("parse time by body size (median CPU time; µs per KB flat = linear, ratio to the smallest body's)")
    print(f"  {'body':<12}{'size':>10}{'parse':>12}{'µs / KB':>10}{'ratio':>8}{'wall':>12}")
    for name, build in (("realistic", realistic_body), ("hostile", hostile_body)):
        smallest = None
        for target in sizes:
            body = build(target)
            cpu, wall = median_seconds(lambda body=body: markdown.parse(body), repeats)
            kb = len(body) / 1000
            per_kb = cpu * 1e6 / kb
            smallest = smallest or per_kb
            print(
                f"  {name:<12}{kb:>7.0f} KB{cpu * 1000:>9.1f} ms{per_kb:>10.1f}{per_kb / smallest:>7.1f}x"
                f"{wall * 1000:>9.1f} ms"
            )


if __name__ == "__main__":
    main()
