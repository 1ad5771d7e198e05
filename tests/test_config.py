import pytest

from dlrepro.config import ConfigError, expand_runs, load_config, validate
from tests.conftest import REPO, snakemake


def minimal(**experiment):
    return {"experiments": {"dropout": {"base": {"model": "mlp"}, **experiment}}}


def test_grid_expands_to_cartesian_product_times_seeds():
    config = validate({"seeds": [0, 1],
                       "experiments": {"optimizers": {
                           "base": {"model": "mlp"},
                           "grid": {"optimizer": ["sgd", "adam"], "lr": [0.1, 0.01, 0.001]}}}})
    runs = expand_runs(config)
    assert len(runs) == 2 * 3 * 2
    assert {r.variant for r in runs} == {f"optimizer={o}__lr={lr}" for o in ("sgd", "adam")
                                         for lr in (0.1, 0.01, 0.001)}
    adam = next(r for r in runs if r.variant == "optimizer=adam__lr=0.01")
    assert adam.settings["optimizer"] == "adam" and adam.settings["lr"] == 0.01
    assert adam.settings["epochs"] == 5  # filled from the schema's defaults


@pytest.mark.parametrize("config, named", [
    ({"experiments": {"dropuot": {"base": {"model": "mlp"}}}}, "dropuot"),
    (minimal(base={"model": "mlp", "lrr": 0.1}), "lrr"),
    (minimal(grid={"dropotu": [0.1]}), "dropotu"),
    (minimal(grid={"dropout": [0.1, 1.5]}), "dropout"),
    ({"experiments": {"dropout": {"base": {"model": "mlp", "optimizer": "adamw"}}}}, "adamw"),
    ({**minimal(), "colour": "blue"}, "colour"),
])
def test_bad_key_or_value_is_rejected_by_name(config, named):
    with pytest.raises(ConfigError, match=named):
        expand_runs(config)


def test_default_config_expands_to_its_grids_times_seeds():
    """Each experiment's count worked out from the YAML itself (grid sizes multiplied, excluded
    combinations taken off, times its seeds), not by the code under test and not typed here."""
    import itertools

    import yaml

    raw = yaml.safe_load((REPO / "config/config.yaml").read_text())
    expected = {}
    for experiment, block in raw["experiments"].items():
        grid = block.get("grid", {})
        combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
        kept = [c for c in combos if not any(all(c.get(k) == v for k, v in rule.items())
                                             for rule in block.get("exclude", []))]
        expected[experiment] = len(kept) * len(block.get("seeds", raw["seeds"]))
    runs = expand_runs(load_config([REPO / "config/config.yaml"]))
    by_experiment = {}
    for run in runs:
        by_experiment[run.experiment] = by_experiment.get(run.experiment, 0) + 1
    assert by_experiment == expected
    # an empty list is a value too: one linear layer is `hidden=none`, and it is its own variant
    assert {r.variant for r in runs if r.experiment == "activations" and r.settings["hidden"] == []} == {
        "hidden=none__activation=identity__init=xavier__lr=0.05",
        "hidden=none__activation=identity__init=xavier__lr=0.01"}
    full = expand_runs(load_config([REPO / "config/config.yaml", REPO / "config/full.yaml"]))
    assert len({(r.experiment, r.variant) for r in full}) >= len({(r.experiment, r.variant) for r in runs})


def test_malformed_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config([bad])


def test_snakemake_rejects_unknown_key_before_running(workflow_copy):
    (workflow_copy / "bad.yaml").write_text(
        "experiments:\n  dropout:\n    base: {model: mlp, learning_rate: 0.1}\n")
    result = snakemake("-n", "--configfile", "bad.yaml", cwd=workflow_copy, check=False)
    assert result.returncode != 0
    assert "learning_rate" in result.stdout + result.stderr
    assert not (workflow_copy / "results").exists()


def test_validate_config_merges_an_overlay_over_the_default(tmp_path):
    """An overlay alone is what users pass (as to `snakemake --configfile`): it is merged over
    config/config.yaml and its runs counted; `--alone` checks the file by itself and names the
    key the default would have given."""
    import subprocess
    import sys

    from tests.conftest import tool_env

    def validate_config(*args):
        return subprocess.run([sys.executable, "-m", "dlrepro.cli", "validate-config", *args],
                              cwd=REPO, capture_output=True, text=True, env=tool_env())

    merged = validate_config("config/smoke.yaml")
    expected = len(expand_runs(load_config([REPO / "config/config.yaml", REPO / "config/smoke.yaml"])))
    assert merged.returncode == 0, merged.stderr
    assert "config: config/config.yaml + config/smoke.yaml" in merged.stdout
    assert f"OK: {expected} runs" in merged.stdout
    assert validate_config("config/config.yaml", "config/smoke.yaml").stdout == merged.stdout
    alone = validate_config("config/smoke.yaml", "--alone")
    assert alone.returncode != 0 and "metrics/classifier" in alone.stderr
    assert "Traceback" not in alone.stderr
