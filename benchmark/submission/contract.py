"""Check 1, the contract: the method loads (from ``methods/FILE.py`` or an installed package's entry point in
the group ``saliency_benchmark.methods``) and declares what the suite reads (``benchmark.contracts.Method``):

- ``name``, the name it is registered and asked for under;
- ``citation`` (non-empty) and ``url``, its paper as an http(s) address or a DOI (``contracts.paper_link``);
- ``cost``, a ``Cost`` of at least one forward and one backward pass (a double backward counts as one);
- ``needs_annotations``, a bool;
- ``guidance``, None (no guidance term, as ERM) or a ``Guidance`` naming the hyperparameter(s) that weigh the
  guidance term, each declared with a default strength to scale (``benchmark.guidance``; the guidance axis of
  a study, ``guidance: [...]``, scales them);
- ``hparams``, a dict of ``HParam``: each with a help text, each number (int or float, not bool) with a
  range (``low``/``high``) or ``choices``, each default valid by its own declaration;
- ``loss``, overridden; and the method constructs with its defaults (``Method()``);
- the paper's equation in the class's or its module's docstring: a displayed formula (an indented line
  with ``=``, e.g. ``    L = CE(f(x), y) + lam * R``, or a line starting ``L = ``) or a numbered reference
  (``Eq. (3)``), so a reviewer
  can hold the loss against its paper (CONTRIBUTING.md, "What a maintainer checks").

Nothing is trained here: a method that fails its contract gets no compute.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..code_closure import PLUGIN_NAMESPACE
from ..contracts import ContractError, Cost, Guidance, HParam, Method, paper_link
from ..paths import project_root
from ..registry import ENTRY_POINT_PREFIX, METHODS, PluginLoadError, UnknownName
from .failures import CheckFailure

CHECK = "contract"
GROUP = ENTRY_POINT_PREFIX + "methods"
FOLDER = "methods"


def _entry_point_route(module: str | None = None, name: str | None = None) -> str | None:
    """``entry point 'X' (module:attr)`` of the group's entry point named ``name`` or whose module is
    ``module`` (or a package holding it), else None."""
    for ep in entry_points(group=GROUP):
        if ep.name == name or (module is not None and (module == ep.module or module.startswith(ep.module + "."))):
            return f"entry point '{ep.name}' ({ep.value})"
    return None


def source_of(cls: type) -> str:
    """Where the registry loaded ``cls`` from: ``methods/FILE.py`` or ``entry point 'X' (module:attr)``."""
    module = cls.__module__
    if module.startswith(f"{PLUGIN_NAMESPACE}.{FOLDER}."):
        return f"{FOLDER}/{Path(getattr(sys.modules[module], '__file__', '') or module).name}"
    return _entry_point_route(module=module) or f"module {module}"


def declared_source(name: str) -> str:
    """Where a method called ``name`` would come from, without importing it: ``methods/NAME.py`` when that
    file exists, else the entry point named ``name``, else ``""``."""
    if (project_root() / FOLDER / f"{name}.py").is_file():
        return f"{FOLDER}/{name}.py"
    return _entry_point_route(name=name) or ""


def _failure(problem: str, fix: str) -> CheckFailure:
    return CheckFailure(CHECK, problem, fix)


def name_failures(cls: type, name: str) -> list[CheckFailure]:
    """``name`` is the name the method is asked for under."""
    if getattr(cls, "name", None) == name:
        return []
    return [
        _failure(
            f"`name` is {getattr(cls, 'name', None)!r}, but the method is registered as '{name}'",
            f'set `name = "{name}"` and do not change it after the class is registered',
        )
    ]


def citation_failures(cls: type, name: str) -> list[CheckFailure]:
    """A non-empty ``citation``."""
    citation = getattr(cls, "citation", "")
    if isinstance(citation, str) and citation.strip():
        return []
    return [
        _failure(
            "`citation` is missing: the leaderboard credits each method's paper",
            'add `citation = "Authors. Title. Venue Year"` to the class',
        )
    ]


def url_failures(cls: type, name: str) -> list[CheckFailure]:
    """``url``: an http(s) address or a DOI (``paper_link``)."""
    url = getattr(cls, "url", "")
    if isinstance(url, str) and paper_link(url) is not None:
        return []
    problem = (
        "`url` is missing: the leaderboard links each method to its paper"
        if not url
        else f"`url` {url!r} is neither an http(s) address nor a DOI"
    )
    return [
        _failure(
            problem,
            'add `url = "https://arxiv.org/abs/..."` beside `citation` (or the paper\'s DOI, '
            'e.g. `url = "10.1109/WACV56688.2023.00123"`)',
        )
    ]


def cost_failures(cls: type, name: str) -> list[CheckFailure]:
    """``cost``: a ``Cost`` with at least one forward pass and one pass that back-propagates to the
    parameters (a ``backward``, or a ``double_backward``, which includes one: RRR's 1F+1DB)."""
    cost = getattr(cls, "cost", None)
    fix = (
        "declare `cost = Cost(forward=F, backward=B, ...)`: the passes of one training step, F >= 1 and B >= 1 "
        "(ERM is Cost(forward=1, backward=1); see benchmark.contracts.Cost for the other units)"
    )
    if not isinstance(cost, Cost):
        return [_failure(f"`cost` is {cost!r}, not a benchmark.contracts.Cost", fix)]
    counts = [getattr(cost, unit) for unit in ("forward", "backward", "double_backward")]
    if any(isinstance(c, bool) or not isinstance(c, (int, float)) for c in counts):
        return [_failure(f"`cost` {cost!r} counts passes with something other than numbers", fix)]
    if cost.forward < 1 or cost.backward + cost.double_backward < 1:
        return [
            _failure(
                f"`cost` is {cost.describe()}: a training step makes at least one forward and one backward pass", fix
            )
        ]
    return []


def annotation_flag_failures(cls: type, name: str) -> list[CheckFailure]:
    """``needs_annotations``: a bool."""
    flag = getattr(cls, "needs_annotations", None)
    if isinstance(flag, bool):
        return []
    return [
        _failure(
            f"`needs_annotations` is {flag!r}, not a bool",
            "set `needs_annotations = True` when the loss reads batch.saliency, else False",
        )
    ]


def guidance_failures(cls: type, name: str) -> list[CheckFailure]:
    """``guidance``: None or a ``Guidance`` whose hyperparameters are declared with a strength to scale."""
    declared = getattr(cls, "guidance", None)
    fix = (
        'declare `guidance = Guidance(("lam",))` naming the hyperparameter(s) that weigh the guidance term '
        '(loss = CE + lam * G; `Guidance(("alpha",), "ce_share")` for alpha * CE + (1 - alpha) * G), '
        "or `guidance = None` when the method has no such term"
    )
    if declared is None:
        return []
    if not isinstance(declared, Guidance):
        return [_failure(f"`guidance` is {declared!r}, not a benchmark.contracts.Guidance or None", fix)]
    hparams = getattr(cls, "hparams", None)
    defaults = {k: getattr(v, "default", None) for k, v in hparams.items()} if isinstance(hparams, dict) else {}
    try:
        declared.check_defaults(defaults, f"method '{name}'")
    except ContractError as exc:
        return [_failure(str(exc), fix)]
    return []


def _hparam_failures(key: str, hp: Any, owner: str) -> list[CheckFailure]:
    """One declared hyperparameter: an ``HParam``, a help text, a range or choices for a number, a valid default."""
    if not isinstance(hp, HParam):
        return [
            _failure(
                f"hyperparameter `{key}` is {hp!r}, not an HParam",
                f'declare `"{key}": HParam(default, "what it does", low=..., high=...)`',
            )
        ]
    out = []
    if not isinstance(hp.help, str) or not hp.help.strip():
        out.append(
            _failure(
                f"hyperparameter `{key}` has no help text",
                f'give `{key}` a one-line meaning: `HParam({hp.default!r}, "what it does, the paper\'s value")`',
            )
        )
    numeric = type(hp.default) in (int, float)
    if numeric and hp.low is None and hp.high is None and hp.choices is None:
        out.append(
            _failure(
                f"hyperparameter `{key}` ({type(hp.default).__name__}) declares no range",
                f'give `{key}` its valid range, e.g. `HParam({hp.default!r}, "...", low=0, high=1)` '
                f"(either bound may be left out), or `choices=(...)`",
            )
        )
    try:
        hp.validate(key, hp.default, owner)
    except ContractError as exc:
        out.append(
            _failure(
                f"the default of `{key}` is invalid by its own declaration ({exc})",
                f"make the default of `{key}` one of its choices and inside its range",
            )
        )
    return out


def hparams_failures(cls: type, name: str) -> list[CheckFailure]:
    """``hparams``: a dict of ``HParam`` (see ``_hparam_failures``)."""
    hparams = getattr(cls, "hparams", None)
    if not isinstance(hparams, dict):
        return [
            _failure(
                f"`hparams` is {hparams!r}, not a dict",
                'declare `hparams = {"name": HParam(default, "help", low=..., high=...)}` (or `{}`)',
            )
        ]
    return [f for key, hp in hparams.items() for f in _hparam_failures(key, hp, f"method '{name}'")]


def loss_failures(cls: type, name: str) -> list[CheckFailure]:
    """``loss`` is the method's own (``Method.loss`` only raises)."""
    if getattr(cls, "loss", Method.loss) is not Method.loss:
        return []
    return [
        _failure(
            "`loss` is not defined",
            "define `def loss(self, net, batch, state)` returning (loss tensor, dict of logged scalars)",
        )
    ]


def construct_failures(cls: type, name: str) -> list[CheckFailure]:
    """``cls()`` builds the method with its defaults."""
    try:
        cls()
    except Exception as exc:  # noqa: BLE001 - any failure to construct is the submitter's to fix
        return [
            _failure(
                f"`{cls.__name__}()` raised {type(exc).__name__}: {' '.join(str(exc).split())}",
                "make the class construct with its declared defaults (extend __init__(**overrides) "
                "and call super().__init__(**overrides) first)",
            )
        ]
    return []


# a displayed formula: an indented line with '=', or a line that starts with a symbol and ' = ' (L = ...)
DISPLAYED = re.compile(r"^(?: {4,}\S[^\n]*=|[A-Za-z][\w()\[\]^'{},]{0,20} = )", re.M)
NUMBERED = re.compile(r"\b(?:eqs?\.|equations?)\s*\(?\d", re.I)  # Eq. (3), equation 2, Eqs. 4-5


def _dedented(doc: str) -> str:
    """A docstring without its source indentation: the closing quotes' indentation when they stand on their
    own line (a class's docstring whose only further line is a formula keeps that line indented), else the
    smallest indentation after the first line."""
    first, _, rest = doc.partition("\n")
    last = rest.rsplit("\n", 1)[-1]
    lines = [line for line in rest.splitlines() if line.strip()]
    margin = len(last) if rest and not last.strip() else min((len(x) - len(x.lstrip(" ")) for x in lines), default=0)
    return "\n".join([first, *(line[margin:] for line in rest.splitlines())])


def docstring_failures(cls: type, name: str) -> list[CheckFailure]:
    """The paper's equation in the class's or the module's docstring (displayed, or by its number)."""
    module = sys.modules.get(cls.__module__)
    docs = [_dedented(o.__doc__) for o in (cls, module) if o is not None and isinstance(o.__doc__, str)]
    if any(DISPLAYED.search(d) or NUMBERED.search(d) for d in docs):
        return []
    return [
        _failure(
            "the docstring shows no equation: the method cannot be held against its paper",
            "write the paper's loss as an indented line of the class or module docstring (e.g. "
            "`    L = CE(f(x), y) + lam * R(x)`) or cite its number (`Eq. (3)`), and say what you changed",
        )
    ]


DECLARATIONS: tuple[Callable[[type, str], list[CheckFailure]], ...] = (
    name_failures,
    citation_failures,
    url_failures,
    cost_failures,
    annotation_flag_failures,
    hparams_failures,
    guidance_failures,
    loss_failures,
    docstring_failures,
)


def contract_failures(name: str) -> tuple[type | None, str, list[CheckFailure]]:
    """(the class, where it came from, the contract failures) of the method ``name``. A method that does
    not load (unknown name, failing import) gives (None, where it would come from, one failure)."""
    try:
        cls = METHODS.get(name)
    except PluginLoadError as exc:
        return (
            None,
            declared_source(name),
            [_failure(str(exc), "make the file import: the error above is raised when it is imported")],
        )
    except UnknownName as exc:
        return (
            None,
            "",
            [
                _failure(
                    str(exc),
                    f'put the class in {FOLDER}/{name}.py with `name = "{name}"` and '
                    f"@register_method, or install a package declaring it in the entry-point "
                    f"group {GROUP}",
                )
            ],
        )
    failures = [f for check in DECLARATIONS for f in check(cls, name)]
    if not failures:
        failures = construct_failures(cls, name)
    return cls, source_of(cls), failures
