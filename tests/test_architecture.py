"""One place per concept: families and experiments are discovered, and nothing else names them."""
import importlib
import re
import sys
from pathlib import Path

import pytest

from dlrepro.config import ConfigError, expand_runs, load_config, load_schema, validate
from dlrepro.experiments import EXPERIMENTS
from dlrepro.families import FAMILIES
from tests.conftest import REPO

SRC = REPO / "src/dlrepro"

# Shared code: it asks the registry, it never spells a family, nor a setting
# that only one family has (a branch for that family: its figure options belong in its
# experiment's Plot declaration).
SHARED = [*(REPO / "src/dlrepro").glob("*.py"),
          *(p for folder in ("analysis", "train", "report", "metrics", "data")
            for p in (REPO / "src/dlrepro" / folder).glob("*.py")),
          *(REPO / "workflow/rules").glob("*.smk"), REPO / "Snakefile"]
GENERIC_WORDS = {"context", "loss"}   # settings of one family that are also everyday words


def test_every_family_and_experiment_is_discovered_from_its_own_file():
    modules = {p.stem: importlib.import_module(f"dlrepro.families.{p.stem}")
               for p in (REPO / "src/dlrepro/families").glob("*.py") if p.stem != "__init__"}
    declaring = {name for name, module in modules.items() if hasattr(module, "FAMILY")}
    assert {f.module.rsplit(".", 1)[1] for f in FAMILIES.values()} == declaring
    # the other modules are building blocks that families share (layers, settings, a task's
    # networks): each is used by some family's module
    sources = [(REPO / f"src/dlrepro/families/{name}.py").read_text() for name in declaring]
    for helper in set(modules) - declaring:
        assert any(f"dlrepro.families.{helper} import" in text for text in sources), helper
    files = {p.stem for p in (REPO / "src/dlrepro/experiments").glob("*.py")} - {"__init__"}
    assert {e.id.replace("-", "_") for e in EXPERIMENTS} == files


def test_the_schema_lists_what_was_discovered():
    schema = load_schema()
    assert schema["properties"]["experiments"]["propertyNames"]["enum"] == [e.id for e in EXPERIMENTS]
    assert schema["$defs"]["settings"]["properties"]["model"]["enum"] == list(FAMILIES)


def test_the_readme_table_lists_every_experiment_once():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Experiments (claims from the notes)")[1].split("\n## ")[0]
    assert re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE) == [e.id for e in EXPERIMENTS]


@pytest.mark.parametrize("path", SHARED, ids=lambda p: str(p.relative_to(REPO)))
def test_shared_code_names_no_family(path):
    from collections import Counter

    names = "|".join(map(re.escape, FAMILIES))
    found = re.findall(rf"""["']({names})["']""", path.read_text())
    assert not found, f"{path.name} names model families {found}: ask dlrepro.families instead"
    declared = Counter(key for family in FAMILIES.values() for key in family.settings)
    own = "|".join(re.escape(k) for k, n in declared.items() if n == 1 and k not in GENERIC_WORDS)
    found = re.findall(rf"""["']({own})=""", path.read_text())      # a variant's axis, 'setting=value'
    assert not found, f"{path.name} branches on variants of settings only one family has: {found}"


def test_a_setting_the_family_does_not_take_is_named_with_the_family(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("experiments:\n  dropout:\n    base: {model: mlp, latent: 3}\n")
    with pytest.raises(ConfigError) as err:
        load_config([REPO / "config/config.yaml", overlay])
    message = str(err.value)
    assert "experiments/dropout/base/latent" in message and "model family 'mlp'" in message
    assert f"{overlay}, line 3" in message and "families/mlp.py" in message


def test_each_family_fills_only_its_own_defaults():
    config = validate({"experiments": {"backprop": {"base": {"model": "backprop"}},
                                       "gan": {"base": {"model": "gan"}}}})
    runs = {run.experiment: run.settings for run in expand_runs(config)}
    assert runs["backprop"] == {"model": "backprop", "lr": 0.5}
    assert set(runs["gan"]) == {"model", *FAMILIES["gan"].settings}
    assert "weight_decay" not in runs["gan"] and "hidden" not in runs["gan"]


def test_see_also_names_known_experiments():
    ids = {e.id for e in EXPERIMENTS}
    for experiment in EXPERIMENTS:
        assert set(experiment.see_also) <= ids - {experiment.id}, experiment.id


def test_a_bad_family_declaration_is_refused_even_under_python_O():
    code = ("from dlrepro.families import Family\n"
            "try:\n    Family(name='x', kind='bogus', data=None, settings={})\n"
            "except ValueError as err:\n    print('refused:', err)\n")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True)
    assert "refused: family x: kind must be one of" in out.stdout, out.stdout + out.stderr


def _loops_with_backward(path: Path) -> list[int]:
    """Lines of the for/while loops in a module whose body calls .backward(): a training loop."""
    import ast

    tree = ast.parse(path.read_text())
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, (ast.For, ast.While))
                  and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                          and n.func.attr == "backward" for n in ast.walk(node)))


def test_no_family_trains_outside_the_engine_unless_it_says_why():
    """Training loops live in the engine's steps (train/); a family module with a loop of its own
    is a custom family that declares why (outside_engine), and only custom families do."""
    from dlrepro.families import FAMILIES

    by_module = {Path(sys.modules[f.module].__file__).name: f for f in FAMILIES.values()}
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.parent.name != "train" and _loops_with_backward(path):
            found[path.relative_to(SRC).as_posix()] = by_module.get(path.name) if path.parent.name == "families" else None
    assert found, "the search finds the declared loops (gan-toy's, the surfaces')"
    for where, family in found.items():
        assert family is not None and family.kind == "custom" and family.outside_engine, where
    for family in FAMILIES.values():
        assert bool(family.outside_engine) == (family.kind == "custom"), family.name
        assert family.kind != "custom" or len(family.outside_engine) > 20, family.name


def test_custom_families_resolve_the_device_as_the_engine_does():
    """`device: cuda` where no CUDA is visible is the engine's config error for every family
    that runs on the device; a CPU-only family runs on the CPU and run.json says why."""
    import torch

    from dlrepro.errors import ConfigError
    from dlrepro.families import FAMILIES

    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    for family in FAMILIES.values():
        device, described = family.device_for({"device": "auto"})
        assert device.type == "cpu" and described.startswith("cpu: ")
        if family.cpu_only:
            assert family.device_for({"device": "cuda"})[1].endswith(f"(CPU only: {family.cpu_only})")
        else:
            with pytest.raises(ConfigError, match="'device' is 'cuda'"):
                family.device_for({"device": "cuda"})
    cpu_only = {f.name for f in FAMILIES.values() if f.cpu_only}
    assert cpu_only and all(FAMILIES[name].kind == "custom" for name in cpu_only)
