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


def test_default_and_full_configs_are_valid():
    assert len(expand_runs(load_config([REPO / "config/config.yaml"]))) > 100
    assert len(expand_runs(load_config([REPO / "config/config.yaml", REPO / "config/full.yaml"]))) > 400


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
