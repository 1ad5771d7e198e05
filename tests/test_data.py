"""Missing or corrupt data files give an error that names the file and the fix."""
import gzip
import shutil
import subprocess
import sys

import pytest

from dlrepro.data.fashion_mnist import FILES, DataError, load_arrays
from tests.conftest import DEBIAN_DIR, tool_env


def copy_dataset(target):
    target.mkdir()
    for stem, _ in FILES.values():
        shutil.copy(DEBIAN_DIR / f"{stem}.gz", target / f"{stem}.gz")
    return target


def test_missing_file_names_it_and_the_install_command(tmp_path):
    folder = copy_dataset(tmp_path / "fm")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as err:
        load_arrays(folder)
    assert "t10k-labels-idx1-ubyte" in str(err.value)
    assert "apt-get install -y dataset-fashion-mnist" in str(err.value)


def test_corrupt_content_fails_the_checksum(tmp_path):
    folder = copy_dataset(tmp_path / "fm")
    path = folder / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz' is corrupt: sha256"):
        load_arrays(folder)


def test_truncated_gzip_is_reported_as_corrupt(tmp_path):
    folder = copy_dataset(tmp_path / "fm")
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match="corrupt"):
        load_arrays(folder)


def test_decompressed_files_load_too(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    for stem, _ in FILES.values():
        (folder / stem).write_bytes(gzip.decompress((DEBIAN_DIR / f"{stem}.gz").read_bytes()))
    arrays = load_arrays(folder)
    assert arrays["train_images"].shape == (60000, 28, 28)
    assert arrays["test_labels"].shape == (10000,)


def test_cli_reports_missing_data_without_a_traceback_and_writes_nothing(tmp_path):
    out = tmp_path / "cache.pt"
    result = subprocess.run([sys.executable, "-m", "dlrepro.cli", "prepare-data", "--dir",
                             str(tmp_path / "nowhere"), "--out", str(out)],
                            capture_output=True, text=True, env=tool_env())
    assert result.returncode == 2
    assert f"'{tmp_path / 'nowhere'}' does not exist" in result.stderr
    assert "data/fashion_mnist_dir" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
