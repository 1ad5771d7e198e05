"""The cost planner: steps in closed form, costs from a measured table, estimates marked."""
import json
import math

import pytest

from dlrepro.config import expand_runs, load_config, validate
from dlrepro.plan import FORWARD_FRACTION, PACK, Costs, pack_variants, plan
from tests.conftest import REPO


def costs_file(tmp_path, step_costs, startup=2.0, word2vec=None):
    path = tmp_path / "costs.json"
    path.write_text(json.dumps({"device_name": "test machine", "startup_seconds": startup,
                                "step_costs": step_costs, "word2vec": word2vec}))
    return Costs.load(path)


def dropout_plan(tmp_path, epochs):
    config = validate({"seeds": [0, 1], "data": {"validation_size": 1000, "test_size": 500},
                       "experiments": {"dropout": {"base": {"model": "mlp", "hidden": [512, 512],
                                                            "train_size": 2000, "epochs": epochs,
                                                            "batch_size": 64, "lr": 0.05},
                                                   "grid": {"dropout": [0.0, 0.5]}}}})
    default = {(r.experiment, r.variant): r for r in expand_runs(load_config([REPO / "config/config.yaml"]))}
    row = lambda variant, seconds: {"experiment": "dropout", "family": "mlp", "variant": variant,  # noqa: E731
                                    "settings": default[("dropout", variant)].settings,
                                    "batch": 64, "seconds_per_step": seconds}
    assert ("dropout", "dropout=0.0") in default     # the measured variants are the default's
    costs = costs_file(tmp_path, [row("dropout=0.0", 0.002), row("dropout=0.5", 0.003)])
    steps = epochs * math.ceil(2000 / 64)
    evaluation = epochs * 1000 / 64 * FORWARD_FRACTION   # the validation images, each epoch
    return plan(config, costs), steps, evaluation, config


def test_steps_and_seconds_of_a_measured_variant(tmp_path):
    result, steps, evaluation, _ = dropout_plan(tmp_path, epochs=300)   # each variant over 40 s
    expected = 2 * (steps + evaluation) * (0.002 + 0.003) + 2 * 2.0   # 2 seeds, 2 job start-ups
    assert result["total"]["steps"] == 2 * 2 * steps
    assert result["total"]["seconds"] == pytest.approx(expected)
    assert result["total"]["estimated"] == 0 and result["total"]["jobs"] == 2
    assert result["packs"] == {("dropout", "dropout=0.0"): ["dropout=0.0"],
                               ("dropout", "dropout=0.5"): ["dropout=0.5"]}
    assert result["max_job_seconds"] == pytest.approx(2.0 + 2 * (steps + evaluation) * 0.003)


def test_short_variants_share_one_job_and_its_start_up(tmp_path):
    result, steps, evaluation, config = dropout_plan(tmp_path, epochs=30)   # each under 40 s
    both = 2 * (steps + evaluation) * (0.002 + 0.003)
    assert both / 2 < config["pack_seconds"] == 40     # the schema's default
    assert result["packs"] == {("dropout", PACK): ["dropout=0.0", "dropout=0.5"]}
    assert result["total"]["jobs"] == 1
    assert result["total"]["seconds"] == pytest.approx(both + 2.0)   # one start-up
    assert result["jobs"] == {("dropout", PACK): pytest.approx(both + 2.0)}


def test_a_pack_needs_two_short_variants():
    seconds = {("e", "long"): 100.0, ("e", "short"): 5.0, ("f", "a"): 1.0, ("f", "b"): 29.9,
               ("f", "c"): 30.0}
    assert pack_variants(seconds, pack_seconds=30.0) == {("e", "long"): ["long"], ("e", "short"): ["short"],
                                      ("f", PACK): ["a", "b"], ("f", "c"): ["c"]}


def test_unmeasured_shapes_are_estimated_from_the_family_and_marked(tmp_path):
    config = validate({"seeds": [0], "experiments": {"cnn-vs-mlp": {"base": {
        "model": "cnn", "channels": [32, 64], "train_size": 640, "epochs": 1, "batch_size": 64}}}})
    costs = costs_file(tmp_path, [{"experiment": "cnn-vs-mlp", "family": "cnn", "variant": "x",
                                   "batch": 128, "seconds_per_step": 0.01},
                                  {"experiment": "cnn-vs-mlp", "family": "cnn", "variant": "y",
                                   "batch": 64, "seconds_per_step": 0.004}])
    result = plan(config, costs)
    assert result["total"]["estimated"] == 1
    assert result["total"]["seconds"] == pytest.approx(
        10 * 0.004 + 10_000 / 64 * 0.004 * FORWARD_FRACTION + 2.0)   # default: 10,000 validation images


def test_a_family_never_measured_is_estimated_from_its_kind(tmp_path):
    """A new family (here aae, with only GAN steps measured) is planned, marked estimated."""
    config = validate({"seeds": [0], "data": {"validation_size": 1000, "test_size": 500},
                       "experiments": {"aae": {"base": {"model": "aae", "train_size": 1280,
                                                        "epochs": 1, "batch_size": 128}}}})
    costs = costs_file(tmp_path, [{"experiment": "gan", "family": "gan", "variant": "x",
                                   "batch": 128, "seconds_per_step": 0.02},
                                  {"experiment": "gan", "family": "mlp", "variant": "y",
                                   "batch": 128, "seconds_per_step": 9.0}])   # another kind
    result = plan(config, costs)
    assert result["total"]["estimated"] == 1
    assert result["total"]["seconds"] == pytest.approx(10 * 0.02 + 500 / 128 * 0.02 * FORWARD_FRACTION + 2.0)


def test_missing_family_is_a_named_error(tmp_path):
    from dlrepro.config import ConfigError

    config = validate({"seeds": [0], "experiments": {"vae": {"base": {"model": "vae"}}}})
    with pytest.raises(ConfigError, match="'vae'"):
        plan(config, costs_file(tmp_path, []))


def test_the_committed_gpu_check_plans_both_profiles():
    from dlrepro.plan import load_costs

    costs = load_costs(load_config([REPO / "config/config.yaml"]), "cuda")

    default_config = load_config([REPO / "config/config.yaml"])
    full_config = load_config([REPO / "config/config.yaml", REPO / "config/full.yaml"])
    default, full = plan(default_config, costs), plan(full_config, costs)
    assert default["total"]["runs"] == len(expand_runs(default_config))
    assert full["total"]["runs"] == len(expand_runs(full_config))
    assert full["total"]["steps"] > default["total"]["steps"] and full["total"]["seconds"] > 0


def test_long_jobs_start_first_and_slurm_runtimes_come_from_the_plan(workflow_copy):
    """The DAG's training jobs are the planner's: each variant alone or an experiment's pack of
    short variants (rule train_<experiment>_short); the experiment with the longest job has the
    highest priority, and each job's runtime is 3x its planned minutes (>= 10)."""
    import re

    from dlrepro.plan import training_jobs
    from tests.conftest import snakemake

    planned = training_jobs(load_config([REPO / "config/config.yaml"]))
    dry = snakemake("-n", cwd=workflow_copy).stdout
    jobs = re.findall(r"rule (train_\w+):\n(.*?)\n    priority: (\d+).*?runtime=(\d+)", dry, flags=re.S)
    assert len(jobs) == len(planned)
    assert sum(rule.endswith("_short") for rule, *_ in jobs) == sum(job == PACK for _, job in planned) > 0
    assert any(not rule.endswith("_short") for rule, *_ in jobs)      # and variants alone
    experiment = {f"train_{e.replace('-', '_')}": e for e, _ in planned}
    top = max(int(p) for *_, p, _ in jobs)
    longest = max(planned, key=lambda key: planned[key]["seconds"])[0]
    for rule, body, priority, runtime in jobs:
        short = rule.endswith("_short")
        e = experiment[rule.removesuffix("_short")]
        job = PACK if short else re.search(r"wildcards: variant=(\S+)", body).group(1)
        seconds = planned[(e, job)]["seconds"]
        assert int(runtime) == max(10, math.ceil(3 * seconds / 60)), (rule, job)
        assert (int(priority) == top) == (e == longest), rule
        # a pack's outputs are exactly its variants' runs
        variants = {m for m in re.findall(rf"results/runs/{e}/([^/]+)/seed\d+/metrics.json",
                                          body.split("\n    log:")[0])}
        assert variants == set(planned[(e, job)]["variants"]), (rule, job)


def test_the_report_puts_the_plan_beside_the_measured_training_time():
    import pandas as pd

    from dlrepro.report.render import fmt, plan_vs_measured

    plan_json = {"experiments": {"dropout": {"runs": 2, "train_seconds": 120.0, "estimated": 0},
                                 "gan": {"runs": 1, "train_seconds": 0.0, "estimated": 1}}}
    runs = pd.DataFrame({"experiment": ["dropout", "dropout", "gan"],
                         "train_seconds": [90.0, 150.0, 5.0]})
    dropout, gan = plan_vs_measured(plan_json, runs)
    assert dropout == {"experiment": "dropout", "runs": 2, "planned": fmt(2.0, 3),
                       "measured": fmt(4.0, 3), "ratio": fmt(2.0, 3), "estimated": 0}
    assert gan["ratio"] == "–"     # nothing planned: no ratio


def test_plan_json_for_a_dags_config_and_without_costs(tmp_path, monkeypatch):
    from dlrepro.cli import main

    config = load_config([REPO / "config/config.yaml", REPO / "config/smoke.yaml"])
    out = tmp_path / "plan.json"
    assert main(["plan", "--config-json", json.dumps(config), "--device", "cpu",
                 "--json", str(out)]) in (0, None)
    written = json.loads(out.read_text())
    assert set(written["experiments"]) == set(config["experiments"])
    dropout = written["experiments"]["dropout"]
    assert 0 < dropout["train_seconds"] < dropout["seconds"]   # evaluation is not training
    config["plan_costs"]["cpu"] = str(tmp_path / "no-costs-here.json")
    main(["plan", "--config-json", json.dumps(config), "--device", "cpu", "--json", str(out)])
    assert "no-costs-here.json" in json.loads(out.read_text())["missing"]


def test_the_cost_table_is_a_named_input_not_a_path_in_the_package(tmp_path, monkeypatch):
    """A measurement whose rows carry their settings plans from any folder, without the
    repository's config or benchmarks (as after `pip install .`); the config names the table."""
    measured = json.loads((REPO / load_config([REPO / "config/config.yaml"])["plan_costs"]["cpu"]).read_text())
    assert all("settings" in row for row in measured["step_costs"])
    table = tmp_path / "elsewhere/costs.json"
    table.parent.mkdir()
    table.write_text(json.dumps(measured))
    monkeypatch.chdir(tmp_path)                        # no config/ or benchmarks/ here
    config = load_config([REPO / "config/config.yaml"])
    config["plan_costs"]["cpu"] = str(table)
    from dlrepro.plan import training_jobs
    with_table = training_jobs(config)
    monkeypatch.chdir(REPO)
    assert with_table == training_jobs(load_config([REPO / "config/config.yaml"]))
    source = "\n".join(p.read_text() for p in (REPO / "src/dlrepro").rglob("*.py"))
    assert "Path(__file__).resolve().parents[2]" not in source      # nothing outside the package


@pytest.mark.parametrize("experiment", ["transformer-heads", "transformer-lm", "density-likelihood",
                                        "density-anomaly", "pix2pix", "cyclegan"])
def test_families_priced_in_steps_take_their_seconds_from_the_measured_step(tmp_path, experiment):
    """No family times itself: a run's seconds are its counted work (Family.plan_work) times the
    step cost measured for its shape, so a measured step twice as slow plans twice the time."""
    default = load_config([REPO / "config/config.yaml"])
    config = {**default, "experiments": {experiment: default["experiments"][experiment]}}
    runs = expand_runs(config)
    assert all(r.family.plan_work for r in runs)

    def planned(seconds_per_step):
        rows = [{"experiment": experiment, "family": r.settings["model"], "variant": r.variant,
                 "settings": r.settings, "seconds_per_step": seconds_per_step,
                 "batch": r.family.plan_work(r.settings, config["data"]).batch} for r in runs]
        return plan(config, costs_file(tmp_path, rows, startup=0.0))["total"]

    once, twice = planned(0.01), planned(0.02)
    assert once["estimated"] == 0                     # every variant's own shape was measured
    assert twice["seconds"] == pytest.approx(2 * once["seconds"])
    work = [r.family.plan_work(r.settings, config["data"]) for r in runs]
    assert once["steps"] == sum(w.steps for w in work)
    assert once["seconds"] == pytest.approx(sum(
        0.01 * (w.steps + w.evaluated / max(w.batch, 64) * FORWARD_FRACTION) for w in work))


def test_a_gpu_table_charges_families_it_never_measured_the_cpus_cost(tmp_path):
    """A GPU check that measured only classifiers still plans the density models: at the CPU
    table's cost for their shape, marked estimated (an upper bound), never an error."""
    from dlrepro.plan import load_costs

    config = validate({"seeds": [0], "experiments": {"density-likelihood": {"base": {
        "model": "nade", "train_size": 1000, "epochs": 2, "batch_size": 100}}}})
    cpu_rows = [{"experiment": "density-likelihood", "family": "nade", "variant": "x",
                 "batch": 100, "seconds_per_step": 0.05}]
    gpu_rows = [{"experiment": "dropout", "family": "mlp", "variant": "y", "batch": 100,
                 "seconds_per_step": 0.001}]
    for name, rows in (("cpu", cpu_rows), ("gpu", gpu_rows)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"step_costs": rows}))
    config["plan_costs"] = {"cpu": str(tmp_path / "cpu.json"), "cuda": str(tmp_path / "gpu.json")}
    on_cpu, on_gpu = plan(config, load_costs(config, "cpu")), plan(config, load_costs(config, "cuda"))
    assert on_gpu["total"]["train_seconds"] == pytest.approx(on_cpu["total"]["train_seconds"])
    assert on_gpu["total"]["train_seconds"] == pytest.approx(2 * 10 * 0.05)
    assert on_gpu["total"]["estimated"] == 1 and on_cpu["total"]["estimated"] == 1  # shape unmeasured
    assert on_gpu["from_other_device"] == ["nade"] and on_cpu["from_other_device"] == []
    # on N GPUs of k slots: N·k jobs at a time, GPU-hours the jobs' seconds over k, the
    # families priced from the CPU named
    from dlrepro.plan import format_plan

    text = format_plan(on_gpu, cores=2, gpus=2, slots_per_gpu=4)
    seconds = on_gpu["total"]["seconds"]
    assert f"on 2 GPU(s), 4 job(s) per GPU: {max(seconds / 8, on_gpu['max_job_seconds']) / 60:,.1f} minutes" in text
    assert f"GPU-hours: {seconds / 4 / 3600:,.2f}" in text
    assert "planned at the costs of" in text and text.rstrip().endswith(": nade.")
