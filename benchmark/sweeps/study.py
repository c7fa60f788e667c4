"""Profiles and studies from ``params.yaml``, expanded into resolved run configs.

A profile holds the training settings and where runs execute::

    profiles:
      quick: {epochs: 10, batch_size: 64, optimizer: {name: adam, lr: 0.001}, schedule: {name: constant},
              device: auto, checkpoint: false, threads: 1}

A study is a grid (or a union of grids) over four axes; every item of ``methods``,
``archs`` and ``datasets`` is a name or ``{name, params, grid}`` (``grid`` lists values
whose cartesian product is swept), ``seeds`` is a list or a count::

    studies:
      headline:
        archs: [simple_cnn]
        seeds: 3                       # 0, 1, 2
        grids:
          - {methods: [erm, {name: sgt, grid: {fraction: [0.3, 0.5]}}], datasets: [decoy_digits]}
          - {methods: [erm], datasets: [clean_digits]}

Two further axes trade guidance off (issue 26): ``guidance: [0.1, 0.3, 1, 3]`` trains every method item
whose class declares ``guidance`` (``benchmark.guidance``) once per scale of its default guidance strength
(the item's own values, when it sets them, are the scale-1 point), and a method without guidance (ERM, the
weight-zero point) once; ``annotations: [{}, {budget: 0.2}, {degradation: box}]`` trains every method that
reads human maps (``needs_annotations``) once per view of the train split's maps (``RunConfig.annotations``,
``benchmark.data.annotation_views``; {} the dataset's own), and the others once, with the dataset's own.

A method item ``{name: sgt, tuned: SEARCH}`` trains the draw that search SEARCH selected on its
validation split (``benchmark.sweeps.search``; published in ``results/search/SEARCH.json``),
labelled ``sgt[tuned]`` in reports while its run identity holds the selected values.

A study may hold ``at_profile: {PROFILE: {study keys}}``: at that profile those keys replace the
study's (and its grids'), e.g. the papers' data, architectures and seeds at ``paper``
(``benchmark.sweeps.at_profile``). A dataset name is a ``datasets:`` or a ``paper_datasets:``
variant (``benchmark.data.paper_variants``) or a family.

Run settings (``epochs``, ``batch_size``, ``eval_batch_size``, ``optimizer``, ``schedule``,
``evaluation``, ``precision``, ``split``, ``val_curve``, ``steps_per_epoch``, ``deterministic``) given in a study or a grid win over the
profile's. The file's keys and
values are its schema's (``benchmark.params_schema``, checked whole when params.yaml is loaded, or here
for a document given as ``params``); what the schema cannot say is checked here, before anything runs:
the names of methods, architectures and datasets, the axes of every merged grid, the optimizer and
schedule built once, every run config resolved (``expand(..., problems=[])`` collects every run's
problem instead, for ``sweep --dry-run``). Whether this machine has a profile's (valid) device is the
caller's question (``device_problem``), since a cluster's nodes may have what this machine lacks.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import check_params, load_params, params_path
from ..contracts import ContractError, RunConfig
from ..data.paper_variants import resolve_variant
from ..numerics import mode as numerics_mode
from ..params_schema import AXES, RUN_SETTINGS, Grid
from ..records.identity import run_id
from ..records.selections import Tuned, apply_settings, tuned_draw
from ..registry import METHODS, did_you_mean
from ..runs.run import resolve_config
from ..runs.training import DeviceUnavailable, check_device, check_training
from .at_profile import apply_block

DEFAULT_PROFILE = "quick"
TRAINING_SETTINGS = ("epochs", "batch_size", "optimizer", "schedule")  # required: RunConfig has no defaults for them
GRID_KEYS = frozenset(Grid.model_fields)  # the axes and the run settings
HAS_EVALUATION = "evaluation" in {f.name for f in dataclasses.fields(RunConfig)}


@dataclass(frozen=True)
class Profile:
    """Training settings plus execution: device, checkpoints (``checkpoint_every_epochs``, default 1, and
    ``checkpoint_every_minutes``, default None: ``runs.training.Cadence``), CPU threads per run,
    SLURM and Ray resources. ``threads: null`` splits the cores between parallel jobs (faster,
    but CPU float reductions then depend on the job count: records stop being bitwise equal)."""

    name: str
    settings: dict[str, Any]
    device: str = "auto"
    checkpoint: bool = False
    checkpoint_every_epochs: int | None = 1
    checkpoint_every_minutes: float | None = None
    threads: int | None = 1
    runs_per_gpu: int = 1  # local ``--jobs auto``: workers per visible GPU
    data_placement: str = "auto"  # images resident on the device or streamed (``runs.placement``); not in run ids
    slurm: dict[str, Any] = field(default_factory=dict)
    ray: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: its resolved config, run id and a readable label."""

    config: RunConfig
    run_id: str
    method: str  # tags: name[k=v,...] with the parameters the study set; name[tuned] for a tuned item
    arch: str
    dataset: str
    tuned: str | None = None  # the search whose published selection this run trains

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def label(self) -> str:
        return f"{self.method}/{self.arch}/{self.dataset}/seed={self.seed}"


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    profile: Profile
    runs: tuple[RunSpec, ...]  # one per run id: what a sweep runs
    aliases: tuple[RunSpec, ...] = ()  # a tuned item's run that another item also names (same values)
    reuse_from: tuple[str, ...] = ()  # studies whose current records of the same runs a sweep copies (records.reuse)

    def method_labels(self) -> dict[str, tuple[str | None, ...]]:
        """Run id -> the method labels reports show the run under (None: its identity's label), for
        the runs of tuned items: ``sgt[tuned]`` stays when the selection changes, while the run's
        identity holds the selected values. A selection equal to another item's values (e.g. draw 0,
        the defaults) is one run shown under both labels (``records.table.load_records(method_labels=)``)."""
        out: dict[str, tuple[str | None, ...]] = {}
        for spec in (*self.runs, *self.aliases):
            out[spec.run_id] = (*out.get(spec.run_id, ()), spec.method if spec.tuned else None)
        return {rid: labels for rid, labels in out.items() if any(labels)}


def _section(params: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``profiles:`` or ``studies:`` of params.yaml (checked by its schema): a mapping of names to entries."""
    return params.get(key) or {}


def _unknown(kind: str, section: str, name: str, known: Mapping[str, Any]) -> ContractError:
    names = sorted(map(str, known))
    return ContractError(
        f"unknown {kind} '{name}'{did_you_mean(name, names)}; {section} in {params_path().name}: {names}"
    )


def device_problem(device: str) -> str | None:
    """Why this machine cannot run ``device`` (a valid name: the schema's ``Device``), or None."""
    try:
        check_device(device)
    except DeviceUnavailable as exc:
        return str(exc)
    return None


def load_profile(name: str, params: Mapping[str, Any]) -> Profile:
    """Profile ``name`` from the ``profiles:`` section (checked by the schema: its device is a valid
    name; whether this machine has it is ``device_problem``), its optimizer and schedule built once.
    The ``quick`` profile is the one home of the run defaults: a training setting another profile
    leaves out is quick's."""
    profiles = _section(params, "profiles")
    if name not in profiles:
        raise _unknown("profile", "profiles", name, profiles)
    where = f"{params_path().name}: profiles.{name}"
    entry = profiles[name]
    settings = {k: entry[k] for k in RUN_SETTINGS if k in entry}
    _settings(where, settings)
    if name != DEFAULT_PROFILE and DEFAULT_PROFILE in profiles:
        settings = {**load_profile(DEFAULT_PROFILE, params).settings, **settings}
    every_epochs, every_minutes = entry.get("checkpoint_every_epochs", 1), entry.get("checkpoint_every_minutes")
    if every_epochs is None and every_minutes is None:
        raise ContractError(
            f"{where}: checkpoint_every_epochs and checkpoint_every_minutes are both null: a checkpoint would "
            f"never be saved; give one of them a value"
        )
    return Profile(
        name=name,
        settings=settings,
        device=entry.get("device", "auto"),
        checkpoint=entry.get("checkpoint", False),
        checkpoint_every_epochs=every_epochs,
        checkpoint_every_minutes=every_minutes,
        threads=entry.get("threads", 1),
        runs_per_gpu=entry.get("runs_per_gpu", 1),
        data_placement=entry.get("data_placement", "auto"),
        slurm=dict(entry.get("slurm") or {}),
        ray=dict(entry.get("ray") or {}),
    )


def _items(items: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """``['erm', {name: sgt, params: {...}, grid: {k: [...]}}]`` -> [(name, params), ...] with grids expanded."""
    return [pair for item in items for pair in _item(item)]


def _item(item: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(item, str):
        return [(item, {})]
    fixed = dict(item.get("params") or {})
    grid = item.get("grid") or {}
    keys = sorted(grid)
    return [
        (item["name"], {**fixed, **dict(zip(keys, combo))}) for combo in itertools.product(*(grid[k] for k in keys))
    ]


def _method_items(where: str, items: Any, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], Tuned | None]]:
    """The methods axis: ``_items``, and ``{name: M, tuned: SEARCH}``: method M's draw selected on validation
    by search SEARCH, as published in results/search/SEARCH.json (``records.selections.tuned_draw``: a
    missing or stale file is refused); its searched run settings (e.g. the lr) apply to this item only."""
    out: list[tuple[str, dict[str, Any], Tuned | None]] = []
    for i, item in enumerate(items):
        if not (isinstance(item, Mapping) and "tuned" in item):
            out.extend((*pair, None) for pair in _item(item))
            continue
        try:
            chosen = tuned_draw(item["tuned"], item["name"], params)
        except ContractError as exc:
            raise ContractError(f"{where}[{i}]: {exc}") from exc
        out.append((chosen.method, chosen.params, chosen))
    return out


def _guided(
    where: str, methods: list[tuple[str, dict[str, Any], Tuned | None]], scales: list[float] | None
) -> list[tuple[str, dict[str, Any], Tuned | None]]:
    """The methods axis at each guidance scale: a guided method's item once per scale (its guidance
    hyperparameters ``Guidance.scaled`` from the item's values over the declared defaults), a method without
    guidance once. A tuned item is refused: its selection fixed the weight."""
    if scales is None:
        return methods
    out: list[tuple[str, dict[str, Any], Tuned | None]] = []
    for method, params, tuned in methods:
        cls = METHODS.get(method)
        if cls.guidance is None:
            out.append((method, params, tuned))
            continue
        if tuned is not None:
            raise ContractError(f"{where}: '{method}' tuned by '{tuned.search}' cannot take the guidance axis")
        base = {**{k: hp.default for k, hp in cls.hparams.items()}, **params}
        try:
            cls.guidance.check_defaults(base, f"method '{method}'")
        except ContractError as exc:
            raise ContractError(f"{where}: {exc}") from exc
        out.extend((method, {**params, **cls.guidance.scaled(base, scale)}, None) for scale in scales)
    return out


def _views(method: str, annotations: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The annotation views a method trains with: each of the axis for a method that reads maps, else the own."""
    if annotations is None or not METHODS.get(method).needs_annotations:
        return [{}]
    return [dict(view) for view in annotations]


def _seeds(seeds: int | list[int]) -> list[int]:
    """A count N (0..N-1) or a list of seeds (repeats dropped), as the schema's ``Seeds`` allows."""
    return list(range(seeds)) if isinstance(seeds, int) else list(dict.fromkeys(seeds))


def _tag(name: str, params: Mapping[str, Any]) -> str:
    return name if not params else f"{name}[{','.join(f'{k}={v}' for k, v in sorted(params.items()))}]"


def _settings(where: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Run settings as RunConfig fields; the optimizer and the schedule are built on a dummy parameter
    (their keys and ranges are the schema's; this is what torch itself refuses)."""
    out = {k: v for k, v in settings.items() if k != "evaluation"}
    evaluation = settings.get("evaluation")
    if evaluation and HAS_EVALUATION:
        out["evaluation"] = dict(evaluation)
    try:
        check_training(
            out.get("optimizer", {"name": "adam"}), out.get("schedule", {"name": "constant"}), out.get("epochs", 1)
        )
    except ContractError as exc:
        raise ContractError(f"{where}: {exc}") from exc
    return out


def _merge_settings(profile: Profile, cell: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**profile.settings, **{k: cell[k] for k in RUN_SETTINGS if k in cell}}
    if "evaluation" in cell and "evaluation" in profile.settings:  # study keys refine the profile's
        merged["evaluation"] = {**(profile.settings["evaluation"] or {}), **(cell["evaluation"] or {})}
    return merged


def _resolve(gwhere: str, config: RunConfig) -> RunConfig:
    """The resolved config; the method is also built once (its own checks, e.g. SMOOT's bounds)."""
    try:
        config = resolve_config(config)
        METHODS.get(config.method)(**config.method_params)
    except ContractError as exc:
        raise ContractError(f"{gwhere}: {exc}") from exc
    return config


OPTIONAL_STUDIES = "optional_studies"  # studies outside the default `dvc repro` (optional/dvc.yaml runs them by name)


def study_section(params: Mapping[str, Any], name: str) -> tuple[str, Mapping[str, Any]]:
    """The section holding study ``name``: ``studies`` (the default pipeline's) or ``optional_studies``."""
    studies = _section(params, "studies")
    optional = _section(params, OPTIONAL_STUDIES)
    for section, entries in (("studies", studies), (OPTIONAL_STUDIES, optional)):
        if name in entries:
            return section, entries
    raise _unknown("study", f"studies (+ {OPTIONAL_STUDIES})" if optional else "studies", name, {**studies, **optional})


EXTENDS = "extends"  # an optional study's base under `studies:` (its settings, profile blocks; own grids)


def extended_entry(params: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """An ``extends: BASE`` study's entry: everything of BASE but its grids and description (its axes, run
    settings, ``profile`` and ``at_profile`` blocks, those blocks without their ``grids``), then its own keys."""
    base = _section(params, "studies")[entry[EXTENDS]]
    merged = {k: v for k, v in base.items() if k not in ("grids", "description", "at_profile")}
    blocks = {
        profile: {k: v for k, v in block.items() if k not in ("grids", "description")}
        for profile, block in (base.get("at_profile") or {}).items()
    }
    for profile, block in (entry.get("at_profile") or {}).items():
        blocks[profile] = {**blocks.get(profile, {}), **block}
    merged.update({k: v for k, v in entry.items() if k not in (EXTENDS, "at_profile")})
    if blocks:
        merged["at_profile"] = blocks
    return merged


def declared_metrics(params: Mapping[str, Any], study: str, block: str, field: str) -> tuple[str, ...]:
    """A report block's metric keys of a study: ``fronts: {x, y}`` or ``curves: {metrics}`` in params.yaml (a key
    or a list of keys; an ``extends`` study inherits its base's); () when not declared."""
    _, entries = study_section(params, study)
    entry = extended_entry(params, entries[study]) if EXTENDS in entries[study] else entries[study]
    value = (entry.get(block) or {}).get(field)
    return (value,) if isinstance(value, str) else tuple(value or ())


def extensions(base: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """The optional studies that extend study ``base`` (``extends: base``), in params.yaml's order."""
    params = load_params() if params is None else params
    return [name for name, entry in _section(params, OPTIONAL_STUDIES).items() if entry.get(EXTENDS) == base]


def expand(
    name: str, profile: str | None = None, params: Mapping[str, Any] | None = None, problems: list[str] | None = None
) -> Study:
    """Study ``name`` of ``params`` (default: params.yaml; a document given here is checked whole against
    the schema first) at ``profile`` (default: the study's, else quick).

    A run whose config is invalid raises naming its place; with ``problems`` (a list), its message
    is appended there instead (once) and the run left out, so every problem is found in one pass."""
    params = load_params() if params is None else check_params(params)
    section, studies = study_section(params, name)
    where = f"{params_path().name}: {section}.{name}"
    entry = extended_entry(params, studies[name]) if EXTENDS in studies[name] else studies[name]
    chosen = load_profile(profile or entry.get("profile") or DEFAULT_PROFILE, params)
    entry, where, grids_where = apply_block(where, entry, chosen.name)
    base = {k: v for k, v in entry.items() if k in GRID_KEYS}
    grids = entry.get("grids", [{}])
    specs: dict[str, RunSpec] = {}
    aliases: list[RunSpec] = []
    for i, grid in enumerate(grids):
        gwhere = f"{grids_where}[{i}]" if "grids" in entry else where
        cell = {**base, **grid}
        missing = [axis for axis in AXES if axis not in cell]
        if missing:
            raise ContractError(f"{gwhere}: missing {missing} (set them in the study or in each grid)")
        settings = _settings(gwhere, _merge_settings(chosen, cell))
        lacking = [key for key in TRAINING_SETTINGS if key not in settings]
        if lacking:
            raise ContractError(
                f"{gwhere}: no {lacking} in the study or in profile '{chosen.name}' "
                f"(a profile holds the training settings: {list(TRAINING_SETTINGS)})"
            )
        datasets = [(variant, *resolve_variant(variant, params), extra) for variant, extra in _items(cell["datasets"])]
        archs = _items(cell["archs"])
        methods = _method_items(f"{gwhere}.methods", cell["methods"], params)
        methods = _guided(f"{gwhere}.guidance", methods, cell.get("guidance"))
        for seed in _seeds(cell["seeds"]):
            for (variant, family, variant_params, extra), (arch, arch_params), (
                method,
                method_params,
                tuned,
            ) in itertools.product(datasets, archs, methods):
                for view in _views(method, cell.get("annotations")):
                    config = RunConfig(
                        method=method,
                        dataset=family,
                        arch=arch,
                        seed=seed,
                        method_params=method_params,
                        dataset_params={**variant_params, **extra},
                        arch_params=arch_params,
                        numerics=numerics_mode(),
                        annotations=view,
                        **(settings if tuned is None else apply_settings(settings, tuned.settings)),
                    )
                    try:
                        config = _resolve(gwhere, config)
                    except ContractError as exc:
                        if problems is None:
                            raise
                        if str(exc) not in problems:
                            problems.append(str(exc))
                        continue
                    spec = RunSpec(
                        config=config,
                        run_id=run_id(config),
                        arch=_tag(arch, arch_params),
                        dataset=_tag(variant, {**extra, **view}),
                        method=f"{method}[tuned]" if tuned else _tag(method, method_params),
                        tuned=tuned.search if tuned else None,
                    )
                    kept = specs.setdefault(spec.run_id, spec)
                    if kept is not spec and (spec.tuned or kept.tuned) and spec.method != kept.method:
                        aliases.append(spec)
    return Study(
        name=name,
        description=str(entry.get("description", "")),
        profile=chosen,
        runs=tuple(specs.values()),
        aliases=tuple(aliases),
        reuse_from=tuple(entry.get("reuse_from") or ()),
    )
