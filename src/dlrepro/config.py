"""Configuration: validate against the JSON schema, fill defaults, expand experiments into runs.

An experiment is `base` settings times the cartesian `grid` of its ablation axes, times seeds.
The schema file (schemas/config.schema.yaml) holds the shared keys; the list of experiments
comes from dlrepro.experiments and each model family's settings from its module in
dlrepro.families, so adding either touches no shared file.
"""
from __future__ import annotations

import copy
import functools
import itertools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from dlrepro.errors import ConfigError
from dlrepro.io import stable_hash
from dlrepro.runfolder import run_dir

__all__ = ["ConfigError", "Run", "expand_runs", "load_config", "stable_hash", "validate"]


@functools.cache
def _schema() -> dict:
    from dlrepro.experiments import EXPERIMENTS
    from dlrepro.families import FAMILIES

    text = resources.files("dlrepro").joinpath("schemas/config.schema.yaml").read_text()
    schema = yaml.safe_load(text)
    schema["properties"]["experiments"]["propertyNames"] = {"enum": [e.id for e in EXPERIMENTS]}
    setting_names = sorted({key for family in FAMILIES.values() for key in family.settings})
    schema["$defs"]["setting_name"] = {"enum": ["model", *setting_names]}
    settings = schema["$defs"]["settings"]
    settings["properties"]["model"]["enum"] = list(FAMILIES)
    # Each family's own keys and defaults; unknown keys are named with the family's list.
    settings["allOf"] = [{"if": {"properties": {"model": {"const": name}}, "required": ["model"]},
                          "then": family.settings_schema()} for name, family in FAMILIES.items()]
    return schema


def load_schema() -> dict:
    """The full schema: the file's shared keys plus the experiments' ids and the families'
    settings (from their modules)."""
    return copy.deepcopy(_schema())


def _with_defaults(validator_class):
    """jsonschema validator that also fills `default` values (the recipe Snakemake's validate uses)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _with_defaults(jsonschema.Draft202012Validator)


def _family_key_error(error: jsonschema.ValidationError) -> tuple[list, str] | None:
    """(key path, message) for a key that the run's model family does not take."""
    family = (error.schema.get("properties", {}).get("model", {}).get("const")
              if isinstance(error.schema, dict) else None)
    if error.validator != "additionalProperties" or family is None:
        return None
    from dlrepro.families import FAMILIES

    allowed = sorted(k for k in error.schema["properties"] if k != "model")
    unknown = sorted(set(error.instance) - set(error.schema["properties"]))
    module = FAMILIES[family].module.replace(".", "/")
    return ([*error.absolute_path, unknown[0]],
            f"model family '{family}' takes no setting '{unknown[0]}' (its settings: "
            f"{', '.join(allowed)}; declared in src/{module}.py)")


def _describe(error: jsonschema.ValidationError, files=()) -> str:
    family_error = _family_key_error(error)
    path, message = family_error or (list(error.absolute_path), error.message)
    where = "/".join(str(p) for p in path) or "(top level)"
    hint = error.schema.get("description", "") if isinstance(error.schema, dict) and not family_error else ""
    located = locate_key(files, path)
    return (f"config key '{where}'{located}: {message}"
            + (f" ({' '.join(hint.split())})" if hint and len(hint) < 200 else ""))


def locate_key(files, key_path: list) -> str:
    """' (config/smoke.yaml, line 12)': the last file that sets the deepest part of key_path."""
    best = (0, "")
    for path in files:
        try:
            node = yaml.compose(Path(path).read_text())
        except (OSError, yaml.YAMLError):
            continue
        depth, line = 0, None
        for key in key_path:
            if not isinstance(node, yaml.MappingNode):
                break
            match = next(((k, v) for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            depth, line, node = depth + 1, match[0].start_mark.line + 1, match[1]
        if line is not None and depth >= best[0]:
            best = (depth, f" ({path}, line {line})")
    return best[1]


def validate(config: dict, schema: dict | None = None, files=()) -> dict:
    """Validate in place (filling defaults) and return config; raise ConfigError naming the key
    (and, given the config files, the file and line that set it)."""
    schema = schema or load_schema()
    # An experiment's base is checked here but its defaults are filled per variant (expand_runs)
    # by the family the variant names: a grid over `model` must give each family its own
    # defaults, not those of the family the base names.
    experiments = config.get("experiments")
    bases = ({name: copy.deepcopy(block["base"]) for name, block in experiments.items()
              if isinstance(block, dict) and isinstance(block.get("base"), dict)}
             if isinstance(experiments, dict) else {})
    validator = _DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        # The deepest error is the most specific one (oneOf/anyOf wrap their children).
        best = jsonschema.exceptions.best_match(errors)
        lines = [_describe(best, files)]
        lines.append("Fix the configuration file (see config/README.md and "
                     "workflow/schemas/config.schema.yaml).")
        raise ConfigError("\n".join(lines))
    for name, base in bases.items():
        config["experiments"][name]["base"] = base
    return config


def read_yaml(path: str | Path) -> dict:
    """One config file as a mapping; a syntax error names the file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file '{path}' does not exist")
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {where}: not valid YAML ({problem}). Fix that line "
                          "(indent with spaces, not tabs; quote values holding ': ').") from err
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping at top level")
    return loaded


def deep_merge(base: dict, override: dict) -> dict:
    """Snakemake's rule for several config files: mappings merge key by key, the rest replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(paths: list[str | Path]) -> dict:
    """Read and deep-merge YAML files in order (as `snakemake --configfile` does), validate."""
    config: dict = {}
    for path in paths:
        config = deep_merge(config, read_yaml(path))
    return validate(config, files=paths)


def format_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):   # [] is a setting too (hidden: [] = no hidden layer)
        return "_".join(format_value(v) for v in value) if value else "none"
    return str(value)


def variant_name(axes: dict) -> str:
    """'optimizer=adam__lr=0.001'; 'base' when the experiment has no grid."""
    if not axes:
        return "base"
    return "__".join(f"{k}={format_value(v)}" for k, v in axes.items())


# Keys that say where checksummed inputs are found, not what they are: left out of the config's
# hash (the report's provenance), so moving the data re-runs nothing.
LOCATION_KEYS = (("data", "fashion_mnist_dir"), ("data", "download"))


def config_hash(config: dict) -> str:
    content = copy.deepcopy(config)
    for section, key in LOCATION_KEYS:
        content.get(section, {}).pop(key, None)
    return stable_hash(content)


@dataclass(frozen=True)
class Run:
    experiment: str
    variant: str
    seed: int
    axes: dict = field(hash=False)
    settings: dict = field(hash=False)
    keeps_weights: bool = field(default=False, hash=False)   # its checkpoint outlives training

    @property
    def path(self) -> str:
        return run_dir(self.experiment, self.variant, self.seed)

    @property
    def family(self):
        """The run's model family (dlrepro.families.Family)."""
        from dlrepro.families import get
        return get(self.settings["model"])

    def spec(self, config: dict) -> dict:
        """What the training job depends on, and nothing else: its hash decides whether a
        checkpoint is reusable, and Snakemake retrains when it changes. Where Fashion-MNIST lives
        is not part of it (the data are checksummed), and only image runs see the scoring size."""
        spec = {"experiment": self.experiment, "variant": self.variant, "seed": self.seed,
                "axes": self.axes, "settings": self.settings,
                "device": config["device"], "threads": config["threads_per_run"]}
        if self.family.reads_fashion_mnist:
            spec["data"] = {k: config["data"][k] for k in ("validation_size", "test_size")}
        if self.family.trains_seeds_together:
            spec["seeds_together"] = config["seeds_together"]
        if self.family.scored:
            spec["score_images"] = config["metrics"]["images"]
        if self.keeps_weights:
            spec["keep_weights"] = True
        return spec


def _settings_validator():
    return _DefaultFillingValidator(load_schema()["$defs"]["settings"])


def classifier_run(config: dict) -> Run:
    """The feature classifier of the scoring stage, as a run (its settings with defaults filled)."""
    settings = copy.deepcopy(config["metrics"]["classifier"])
    _settings_validator().validate(settings)
    return Run("feature-classifier", "base", 0, {}, settings, keeps_weights=True)


def expand_runs(config: dict, files=()) -> list[Run]:
    """All runs of all experiments; each variant's resolved settings are validated too (a bad
    value is named with the file and line that set it, given the config files)."""
    validate(config, files=files)
    settings_validator = _settings_validator()
    runs = []
    for experiment, spec in config["experiments"].items():
        grid = spec.get("grid", {})
        seeds = spec.get("seeds", config["seeds"])
        excluded = spec.get("exclude", [])
        for values in itertools.product(*grid.values()):
            axes = dict(zip(grid.keys(), values))
            if any(all(axes.get(k) == v for k, v in rule.items()) for rule in excluded):
                continue
            settings = {**copy.deepcopy(spec["base"]), **copy.deepcopy(axes)}
            errors = list(settings_validator.iter_errors(settings))
            if errors:
                err = jsonschema.exceptions.best_match(errors)
                path, message = _family_key_error(err) or (list(err.absolute_path), err.message)
                # the grid's axis when a grid value is at fault, else the base's key
                block = "grid" if path and path[0] in axes else "base"
                located = locate_key(files, ["experiments", experiment, block, *path[:1]])
                raise ConfigError(
                    f"config key 'experiments/{experiment}/{block}/{'/'.join(map(str, path))}'{located} "
                    f"gives variant '{variant_name(axes)}' an invalid setting: {message}. Fix the "
                    f"{block}.")
            for seed in seeds:
                runs.append(Run(experiment, variant_name(axes), seed, axes, settings))
    return runs
