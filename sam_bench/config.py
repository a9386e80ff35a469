"""Experiment configs: load, validate before any compute, and expand into frozen cells.

A cell is one fine-tuning job: (model, init, task or mixture, subsample rate and seed,
optimizer recipe, ρ, training seed) plus the shared fine-tuning settings. Its id is a
readable slug plus a short hash of the whole cell, so a changed setting is a new cell and
never overwrites a finished one.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import yaml

from sam_bench import parallel
from sam_bench.errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"

SCHEMA: dict = yaml.safe_load(SCHEMA_PATH.read_text())


def resolve_ref(node: dict) -> dict:
    """A schema node with the definition its `$ref` names merged in (the node's own keys win)."""
    if "$ref" not in node:
        return node
    target = SCHEMA
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    target = resolve_ref(target)
    return {**target, **node, "properties": {**target.get("properties", {}), **node.get("properties", {})}}


def _member_defaults(node: dict) -> dict:
    return {name: prop["default"] for name, prop in resolve_ref(node).get("properties", {}).items() if "default" in prop}


# Defaults are written once, as `default:` in the schema. A config gets the top-level ones and, in
# each section it has, that section's. A grid gets those of its own keys; its `finetune` and `data`
# are overrides: what they leave out is the config's section, not a default.
DEFAULTS: dict[str, Any] = {**_member_defaults(SCHEMA), **{
    name: section for name, prop in SCHEMA["properties"].items()
    if resolve_ref(prop).get("type") == "object" and (section := _member_defaults(prop))}}
GRID_DEFAULTS = _member_defaults(SCHEMA["properties"]["grids"]["items"])


def _merge(defaults: dict, given: dict) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<config>"


def _schema_problems(config: dict) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(f"{_path(error.absolute_path)}: {error.message}")
    return problems


def _registry_problems(config: dict) -> list[str]:
    from sam_bench.models import MODEL_CONFIGS, model_family
    from sam_bench.optim import parse_recipe
    from sam_bench.tasks import MIXTURES, TASKS

    problems = []
    names = [grid["name"] for grid in config["grids"]]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"grids: the name {name!r} is used by grids {[i for i, n in enumerate(names) if n == name]}; "
                        f"each grid needs its own name")
    t5 = {name for name, c in MODEL_CONFIGS.items() if model_family(c) == "t5"}
    seq2seq = {name for name, c in MODEL_CONFIGS.items() if model_family(c) in ("t5", "bart")}
    if config["pretrain"]["model"] not in t5:
        problems.append(f"pretrain.model: unknown model {config['pretrain']['model']!r}; valid: {sorted(t5)}")
    tasks = sorted(TASKS) + sorted(MIXTURES)
    for g, grid in enumerate(config["grids"]):
        data = grid_data(config, grid)
        official = data["source"] != "synthetic"
        if data["source"] == "local" and not data.get("root"):
            where = f"grids[{g}].data.root" if "data" in grid else "data.root"
            problems.append(f"{where}: source 'local' needs the directory of the official release files")
        finetune = {**config["finetune"], **grid.get("finetune", {})}
        lm = _is_lm_grid(grid)
        if lm:  # a decoder LM trains on a corpus from scratch (sam_bench.train.language_model)
            from sam_bench.train.language_model import lm_grid_problems

            problems += [f"grids[{g}].{p}" for p in lm_grid_problems(grid, finetune, config["data"]["source"],
                                                                      data_root(config))]
        if grid.get("eval_tasks"):  # transfer evaluation (sam_bench.train.transfer)
            problems += _transfer_problems(g, grid, config)
        if not lm and finetune.get("model_overrides"):
            problems.append(f"grids[{g}].finetune.model_overrides: only decoder-LM grids take architecture "
                            f"overrides")
        for i, model in enumerate(grid["model"]):
            if lm:
                continue
            if model not in MODEL_CONFIGS:
                problems.append(f"grids[{g}].model[{i}]: unknown model {model!r}; valid: {sorted(MODEL_CONFIGS)}")
            elif model not in seq2seq:
                problems += [f"grids[{g}].model[{i}]: {p}" for p in _encoder_problems(model, grid, finetune)]
            elif model not in t5 and "random" in grid["init"] and not finetune.get("vocab"):
                problems.append(f"grids[{g}].model[{i}]: {model!r} with init 'random' needs finetune.vocab: a "
                                f"folder holding its BPE tokenizer (tokenizer.json or vocab.json + merges.txt)")
            elif "pretrained" in grid["init"] and model != config["pretrain"]["model"]:
                problems.append(f"grids[{g}].model[{i}]: init 'pretrained' is the workflow-pretrained model "
                                f"{config['pretrain']['model']!r}, got {model!r}; name a checkpoint instead")
        for i, init in enumerate(grid["init"]):
            for model in grid["model"] if init == "checkpoint" else [None]:
                problems += [f"grids[{g}].init[{i}]: {p}" for p in _init_problems(model or init, config)]
        for i, task in enumerate(grid["task"] if not lm else []):
            if task not in tasks:
                problems.append(f"grids[{g}].task[{i}]: unknown task or mixture {task!r}; valid: {tasks}")
            elif official and data["subsamples"] == "manifest":
                from sam_bench.tasks.preflight import pin_problems

                for rate in grid["subsample_rate"]:
                    for seed in grid["subsample_seed"]:
                        problems += [f"grids[{g}].task[{i}]: {p}" for p in pin_problems(task, rate, seed)]
            if task in tasks and official:  # every file the cells read, checked before any compute
                from sam_bench.tasks.preflight import data_problems

                problems += [f"grids[{g}].task[{i}]: {p}" for p in data_problems(task, data)]
        batch, accumulation = finetune["batch_size"], finetune["accumulation_steps"]
        for i, spec in enumerate(grid["optimizer"]):
            try:
                recipe = parse_recipe(spec)
                for rho in grid.get("rho", [None]):
                    (recipe.with_rho(rho) if rho is not None else recipe).validate(batch, accumulation)
                if config.get("mesh"):  # every device gets an equal share of the batch and the ascent set
                    problems += [f"grids[{g}].optimizer[{i}]: {p}" for p in parallel.check_batch(
                        parallel.parse_mesh(config["mesh"]), batch, recipe.ascent_size(batch), 1, accumulation)]
            except ConfigError as err:
                problems.append(f"grids[{g}].optimizer[{i}]: {err}")
    return problems


def _transfer_problems(g: int, grid: dict, config: dict) -> list[str]:
    from sam_bench.models import MODEL_CONFIGS, model_family
    from sam_bench.train.transfer import eval_task_problems

    problems = [f"grids[{g}].eval_tasks: transfer evaluation fits new heads on an encoder's features; "
                f"{m!r} is not a BERT-family encoder" for m in grid["model"]
                if m in MODEL_CONFIGS and model_family(MODEL_CONFIGS[m]) != "bert"]
    for task in grid["task"]:
        problems += [f"grids[{g}].{p}" for p in eval_task_problems(task, grid["eval_tasks"])]
    if config["data"]["source"] != "synthetic":
        from sam_bench.tasks.preflight import data_problems

        for i, task in enumerate(grid["eval_tasks"]):
            problems += [f"grids[{g}].eval_tasks[{i}]: {p}" for p in data_problems(task, config["data"])]
    return problems


def _is_lm_grid(grid: dict) -> bool:
    from sam_bench.models.decoder_lm import DECODER_LM_CONFIGS

    return any(model in DECODER_LM_CONFIGS for model in grid["model"])


def _encoder_problems(model: str, grid: dict, finetune: dict) -> list[str]:
    """An encoder (BERT family) fine-tunes one task through that task's own head."""
    from sam_bench.tasks import MIXTURES, TASKS, get_task

    problems = []
    trainable = sorted(n for n in TASKS if get_task(n).encoder is not None and get_task(n).trains)
    for task in grid["task"]:
        if task in MIXTURES:
            problems.append(f"{model!r} is an encoder: it trains one task's head, not the mixture {task!r}; "
                            f"list its tasks instead: {list(MIXTURES[task])}")
        elif task in TASKS and get_task(task).encoder is None:
            problems.append(f"{model!r} is an encoder and {task!r} is a generation task; encoder tasks: {trainable}")
        elif task in TASKS and not get_task(task).trains:
            problems.append(f"{task!r} is evaluation-only (no training split); an encoder cell trains the task it "
                            f"evaluates")
    if "pretrained" in grid["init"]:
        problems.append(f"{model!r}: init 'pretrained' is the workflow-pretrained T5; start an encoder from "
                        f"'checkpoint' (its named checkpoint), a checkpoint path, or 'random'")
    if "random" in grid["init"] and not finetune.get("vocab"):
        problems.append(f"{model!r} with init 'random' needs finetune.vocab: a folder holding the tokenizer "
                        f"(tokenizer.json or vocab.txt)")
    return problems


def _init_problems(init: str, config: dict) -> list[str]:
    """A checkpoint named by `init` must exist before any job starts."""
    from sam_bench.models.checkpoints import NAMED_CHECKPOINTS, resolve_named_checkpoint

    if init in ("pretrained", "random"):
        return []
    path = init.split(":", 1)[1] if init.split(":", 1)[0] in ("hf", "t5x", "sam-bench") else init
    if path in NAMED_CHECKPOINTS:
        try:
            folder = resolve_named_checkpoint(path, config.get("checkpoint_root"))
        except ConfigError as err:
            return [str(err)]
        return _weight_file_problems(folder)
    if not Path(path).expanduser().exists():
        return [f"{init!r} is not 'pretrained', 'random', a named checkpoint or an existing path; "
                f"named checkpoints: {sorted(NAMED_CHECKPOINTS)}"]
    return _weight_file_problems(Path(path).expanduser())


def _weight_file_problems(path: Path) -> list[str]:
    """A truncated or damaged safetensors file, found by reading its header only (cheap)."""
    from sam_bench.models.checkpoints import SafetensorsFile

    files = sorted(path.glob("*.safetensors")) if path.is_dir() else [path] if path.suffix == ".safetensors" else []
    problems = []
    for f in files:
        try:
            SafetensorsFile(f).close()
        except ConfigError as err:
            problems.append(str(err))
    return problems


def check_config(config: dict) -> tuple[dict, list[str], list[str]]:
    """(config with defaults, structural problems, problems of names and files). With no
    structural problem the cells can be expanded even when files are missing (`plan`)."""
    if not isinstance(config, dict):
        raise ConfigError(f"a config must be a mapping, got {type(config).__name__}")
    problems = _schema_problems(config)
    if problems:
        return config, problems, []
    config = _merge({k: v for k, v in DEFAULTS.items() if not isinstance(v, dict) or k in config}, config)
    config["grids"] = [{**GRID_DEFAULTS, **grid} for grid in config["grids"]]
    problems = _schema_problems(config)
    return config, problems, ([] if problems else _registry_problems(config))


def validate_config(config: dict) -> dict:
    """Return the config with defaults filled in, or raise ConfigError listing every problem."""
    config, structure, registry = check_config(config)
    if structure or registry:
        raise ConfigError("invalid config:\n  " + "\n  ".join(structure + registry))
    return config


def load_config(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    try:
        return validate_config(config)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def short_hash(obj: Any, length: int = 8) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:length]


def synthetic_root(config: dict) -> str:
    """Where the synthetic suite goes; its corpus also feeds pretraining for every source."""
    return f"{config['results_dir']}/data/synthetic-seed{config['data']['synthetic_seed']}"


def uses_pretraining(cell: dict, config: dict) -> bool:
    """Whether a cell needs the workflow's pretraining output (its weights, or its vocabulary
    for the same model from random)."""
    return cell["init"] == "pretrained" or (cell["init"] == "random" and cell["model"] == config["pretrain"]["model"])


def grid_data(config: dict, grid: dict) -> dict:
    """The data section a grid reads: the config's, with the grid's own `data` on top (so one
    config can hold synthetic-suite grids and grids on official files)."""
    return {**config["data"], **grid.get("data", {})}


def data_root(config: dict, data: dict | None = None) -> str | None:
    data = data or config["data"]
    return synthetic_root(config) if data["source"] == "synthetic" else data["root"]


def pretrain_id(config: dict) -> str:
    spec = {"pretrain": config["pretrain"], "synthetic_seed": config["data"]["synthetic_seed"]}
    return f"{config['pretrain']['model']}-{short_hash(spec)}"


def init_path(init: str, config: dict) -> Path | None:
    """The file or folder an `init` reads (None for 'pretrained' and 'random')."""
    from sam_bench.models.checkpoints import NAMED_CHECKPOINTS, resolve_named_checkpoint

    if init in ("pretrained", "random"):
        return None
    path = init.split(":", 1)[1] if init.split(":", 1)[0] in ("hf", "t5x", "sam-bench") else init
    if path in NAMED_CHECKPOINTS:
        return resolve_named_checkpoint(path, config.get("checkpoint_root"))
    return Path(path).expanduser()


def _init_print(init: str, config: dict, fingerprints) -> dict:
    """{"init_fingerprint": ...} of the weights an `init` reads; {} where there are none yet (a
    checkpoint not downloaded: `validate` reports it, and planning still works without it)."""
    from sam_bench.models.checkpoints import CheckpointError

    try:
        path = init_path(init, config)
    except CheckpointError:
        return {}
    return {} if path is None or not path.exists() else {"init_fingerprint": fingerprints.of(path)}


def _data_files(task_name: str, data: dict) -> dict[str, Path]:
    """The official files a local-source cell of `task_name` reads (`data`: the grid's data
    section), by task and split."""
    from sam_bench.tasks.preflight import cell_splits
    from sam_bench.tasks import get_task, task_names

    from sam_bench.tasks import MIXTURES, TASKS

    if data["source"] != "local" or (task_name not in TASKS and task_name not in MIXTURES):
        return {}  # synthetic: named by its seed; tfds: by its versioned name; LM corpora: by their name
    root, files = Path(data["root"]), {}
    for name in task_names(task_name):
        task = get_task(name)
        for split in cell_splits(task):
            if not task.missing_files(root, split):
                files[f"{name}/{split}"] = task.path(root, split)
    return files


def expand_cells(config: dict) -> list[dict]:
    """Every cell of every grid, in a stable order; ρ applies to sharpness-aware recipes only.

    A cell that reads a checkpoint or local data files carries their content fingerprints
    (`init_fingerprint`, `data_fingerprint`), so replacing the files makes a new cell."""
    from sam_bench.fingerprint import Fingerprints
    from sam_bench.optim import parse_recipe

    cells, seen = [], {}
    fingerprints = Fingerprints()
    inits, data_prints = {}, {}
    for grid in config["grids"]:
        axes = itertools.product(grid["model"], grid["init"], grid["task"], grid["subsample_rate"],
                                 grid["subsample_seed"], grid["optimizer"], grid["seed"])
        data = grid_data(config, grid)
        recipes = {spec: parse_recipe(spec) for spec in grid["optimizer"]}
        for model, init, task, rate, sub_seed, spec, seed in axes:
            recipe = recipes[spec]
            rhos = grid.get("rho", [None]) if recipe.variant else [None]  # no ρ axis: the recipe's own ρ
            init = model if init == "checkpoint" else init  # each model's own named checkpoint
            if init not in inits:
                inits[init] = _init_print(init, config, fingerprints)
            files_key = (task, data["source"], data.get("root"))
            if files_key not in data_prints:
                files = _data_files(task, data)
                data_prints[files_key] = {
                    "data_fingerprint": short_hash({k: fingerprints.of(p) for k, p in files.items()}, 16)
                } if files else {}
            for rho in rhos:
                r = recipe.with_rho(rho) if rho is not None else recipe
                cell = {
                    "experiment": config["experiment"], "model": model, "init": init,
                    # the vocabulary always comes from the pretraining step; the weights only for init=pretrained
                    "pretrain_id": pretrain_id(config),
                    "task": task, "source": data["source"], "data_root": data_root(config, data),
                    **({} if data["source"] == "synthetic" else
                       {"data_archives": data["archives"], "subsamples": data["subsamples"]}),
                    "subsample_rate": float(rate), "subsample_seed": sub_seed,
                    "optimizer": r.canonical(), "method": r.method, "base_optimizer": r.base, "rho": r.rho,
                    "seed": seed, "finetune": {**config["finetune"], **grid.get("finetune", {})},
                    "results_dir": config["results_dir"],
                    **({"grid": grid["name"]} if _is_lm_grid(grid) else {}),
                    **({"eval_tasks": list(grid["eval_tasks"])} if grid.get("eval_tasks") else {}),
                    **({"checkpoint_root": config["checkpoint_root"]} if init not in ("pretrained", "random") else {}),
                    **inits[init], **data_prints[files_key],
                }
                cell["identity"] = cell_identity(grid, r, task, cell["finetune"]["batch_size"])
                cell["cell_id"] = cell_id(cell)
                if cell["cell_id"] in seen:  # the same cell named by two grids runs once, listing both
                    first = seen[cell["cell_id"]]["identity"]
                    if grid["name"] not in first["grid"].split(","):
                        first["grid"] += "," + grid["name"]
                    continue
                seen[cell["cell_id"]] = cell
                cells.append(cell)
    fingerprints.save()
    return cells


#: the identity fields a grid may name as its ablation axis (`hparam:`), and the papers' name for each
HPARAM_NAMES = {"rho": "rho", "a": "ascent_micro_batch_a", "m": "sharpness_m", "s": "sparse_ratio_s",
                "fi": "mask_update_interval_Fi", "beta1": "beta1"}


def cell_identity(grid: dict, recipe, task: str, batch_size: int) -> dict:
    """What a report selects a cell by, read from the grid and the parsed recipe (never from the
    method string): grid name(s), mixture or single task, base optimizer, a, m, s, fi, beta1, and
    the grid's ablation axis (hparam_name/hparam_value) when it declares one."""
    from sam_bench.tasks import MIXTURES

    ident = {"grid": grid["name"], "training": "mixture" if task in MIXTURES else "single",
             **recipe.identity(batch_size), "rho": recipe.rho, "hparam_name": None, "hparam_value": None}
    if grid.get("hparam"):
        ident["hparam_name"] = HPARAM_NAMES[grid["hparam"]]
        ident["hparam_value"] = ident[grid["hparam"]]
    return ident


def cell_id(cell: dict) -> str:
    # where results live does not change what the cell computes; identity is derived from the rest
    body = {k: v for k, v in cell.items() if k not in ("cell_id", "results_dir", "identity")}
    rho = "" if cell["rho"] is None else f"{cell['rho']:g}"
    init = cell["init"][:3] if cell["init"] in ("pretrained", "random") else "ckpt"
    slug = (f"{cell['model']}-{cell['task']}-{init}-r{cell['subsample_rate']:g}"
            f"-{cell['method']}{rho}-s{cell['seed']}")
    return f"{slug}-{short_hash(body)}"
