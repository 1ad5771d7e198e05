"""The docs a newcomer reads: short, linked, generated where they quote measurements, and about
the product only."""
import re
import subprocess
import sys

import pytest

from dlrepro.experiments import EXPERIMENTS
from tests.conftest import REPO

DOCS = [REPO / "README.md", REPO / "config/README.md", *sorted((REPO / "docs").glob("*.md"))]
README_SECTIONS = ["Quick start", "Everyday use", "On a SLURM cluster or a GPU box",
                   "Experiments (claims from the notes)", "How a verdict is made",
                   "Add a family, add an experiment", "Data and offline assets", "Layout", "Read more"]


def test_readme_is_short_and_has_every_section():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 350
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    for section in README_SECTIONS:
        assert any(h.startswith(section) for h in headings), f"README lacks the section '{section}'"
    picture = re.search(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert picture and (REPO / picture.group(1)).stat().st_size < 400_000


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: link to {target} does not resolve"
        if anchor and resolved.suffix == ".md":
            anchors = {_slug(h) for h in re.findall(r"^#+ (.+)$", resolved.read_text(), re.MULTILINE)}
            assert anchor in anchors, f"{page.name}: {target}: no heading '{anchor}' in {resolved.name}"


# The product speaks of itself, not of how it was made: no development diary in tracked files.
# (pytest's scope="session" and subprocess's start_new_session are API names, not diary.)
SITTING, LOANED = "sess" + "ion", "le" + "nt"     # in pieces so that this file passes its own grep
JOURNAL = re.compile(rf"\b{SITTING}s?\b|\b{LOANED}\b|\btried and (?:reverted|not kept)\b", re.IGNORECASE)
API_NAMES = re.compile(rf"""scope=["']{SITTING}["']|start_new_{SITTING}""")


def test_no_tracked_file_keeps_a_development_diary():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    found = []
    for name in files:
        path = REPO / name
        if not path.is_file() or path.suffix in {".png", ".gz", ".npz", ".pt", ".whl"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if JOURNAL.search(API_NAMES.sub("", line)):
                found.append(f"{name}:{number}: {line.strip()[:100]}")
    assert not found, "diary words in tracked files:\n" + "\n".join(found)


def test_a_planted_diary_line_is_found():
    assert JOURNAL.search(f"measured in {SITTING} 12")
    assert JOURNAL.search(f"the GPU was {LOANED} for eight minutes")
    assert not JOURNAL.search(API_NAMES.sub("", f'@pytest.fixture(scope="{SITTING}")'))


def test_generated_blocks_are_up_to_date():
    result = subprocess.run([sys.executable, "benchmarks/history.py", "--check"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout


def test_readme_verdicts_are_the_newest_recorded_ones():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from history import experiment_verdicts

    recorded = experiment_verdicts(REPO / "benchmarks/results")
    section = (REPO / "README.md").read_text().split("## Experiments (claims from the notes)")[1].split("\n## ")[0]
    shown = dict(re.findall(r"^\| `([a-z0-9-]+)` \|.*\| ([a-z ]+) \|$", section, re.MULTILINE))
    assert set(shown) == {e.id for e in EXPERIMENTS}
    # an experiment added since the last recorded make reads "not yet measured"
    assert shown == {e.id: recorded.get(e.id, "not yet measured") for e in EXPERIMENTS}


def test_records_carry_what_a_reader_needs():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import records

    found = records.load()
    assert found, "no measurement records"
    for r in found:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", r["date"]), r["file"]
        assert r["commit"] and r["command"] and isinstance(r["figures"], dict), r["file"]


def test_the_cluster_page_says_where_a_jobs_rule_shows():
    """sacct's Comment column is empty unless the cluster stores comments: the page says so and
    gives the squeue form that works everywhere (the SLURM tests use it on the local cluster)."""
    text = " ".join((REPO / "docs/cluster.md").read_text().split())
    assert "AccountingStoreFlags=job_comment" in text
    assert 'squeue -o "%i %j %k %T"' in text
