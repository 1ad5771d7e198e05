import pytest

from dlrepro.families.surface import descend, minimum_value, surface_fn


def settings(optimizer, lr=0.02, steps=400):
    return {"optimizer": optimizer, "lr": lr, "momentum": 0.9, "weight_decay": 0.0, "steps": steps}


def test_gd_stalls_on_the_plateau_and_adam_crosses_it():
    f, f_star = surface_fn("plateau"), minimum_value("plateau")
    gd, gd_reached = descend(f, [5.0, 3.0], settings("sgd"), 1e-3, f_star)
    adam, adam_reached = descend(f, [5.0, 3.0], settings("adam"), 1e-3, f_star)
    assert gd_reached is None
    assert abs(gd[-1][1] - 5.0) < 1e-3  # GD barely moved
    assert adam_reached is not None


def test_ravine_minimum_is_zero_and_gd_converges():
    assert minimum_value("ravine") == pytest.approx(0.0, abs=1e-12)
    _, reached = descend(surface_fn("ravine"), [-4.0, 1.0], settings("sgd"), 1e-3, 0.0)
    assert reached is not None
