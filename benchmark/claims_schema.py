"""The schema of a claims file (``claims/PAPER.yaml``): pydantic models of its keys, and its loader.

A claims file states a paper's claims as data (``reports.claims.spec`` turns it into claim rows)::

    paper: SGT                      # short name shown as the section title
    order: 1                        # the section's place in results/README.md (optional, default 1000)
    title: ...                      # the paper's title
    citation: ...                   # authors, venue, year
    url: https://...                # the paper (arXiv / DOI)
    studies: [sgt]                  # studies whose leaderboards the section links (optional)
    notes: [...]                    # findings stated beside the table (optional)
    claims:
      - id: SGT-1
        claim: SGT keeps the test accuracy of ERM
        published: "MNIST 99.3% both (Table 1)"       # optional
        study: sgt
        metric: test/accuracy       # SPLIT/RECORD_KEY, or consistency/SPLIT/ATTRIBUTION
        test: equivalence           # superiority | equivalence | difference
        rope: 0.01                  # optional (> 0): default the metric's declared ROPE
        method: sgt                 # a run label, or {method:, dataset:, arch:}
        reference: erm
        dataset: clean_digits       # default of both sides
        arch: [simple_cnn, gap_cnn] # metric/method/reference/dataset/arch: one value or a non-empty list
    figures:                        # optional per-epoch curves of the records
      - {study: sgt, curve: mask_fraction, methods: [smoot], dataset: clean_digits, arch: simple_cnn,
         title: ..., ylabel: ...}

``load_claims_file`` reads and checks one file: a problem is one ``ContractError`` line naming the
file, the key (a claim by its index and id) and the value, e.g. ``claims/sgt.yaml: claims[0] (SGT-1).test:
unknown test 'bigger'; known: ['superiority', 'equivalence', 'difference']``. What the file's shape
cannot say stays with the reports that read it: a metric has a declared direction
(``saliency.metrics``), the claim ids are distinct once a claim's lists are expanded into rows.
This module sits beside ``params_schema``, below every layer (``TESTS`` mirrors
``statistics.verdicts.TESTS``; tests/test_claims_schema.py keeps them in step).
"""

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Field, Tag, ValidationError, WrapValidator

from .config import parse_yaml
from .contracts import ContractError
from .params_schema import TAG, Block, choice, describe, fail, number, shown

TESTS = ("superiority", "equivalence", "difference")  # statistics.verdicts.TESTS
DEFAULT_ORDER = 1000


def _text(value: Any, handler: Callable[[Any], Any]) -> Any:
    """A non-empty text; a number is its text (``published: 99.3``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a non-empty text, got {shown(value)}")
    return handler(value)


Text = Annotated[str, WrapValidator(_text)]


def _one_or_many_tag(value: Any) -> str:
    return TAG + ("many" if isinstance(value, list) else "one")


def _non_empty(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, list) and not value:
        raise fail("an empty list")
    return handler(value)


def one_or_many(item: Any) -> Any:
    """One ``item`` or a non-empty list of them (a claim is one row per combination of its lists)."""
    return Annotated[
        Annotated[item, Tag(TAG + "one")] | Annotated[list[item], Tag(TAG + "many")],
        Discriminator(_one_or_many_tag),
        WrapValidator(_non_empty),
    ]


class Side(Block):
    """One side of a comparison in another cell than the claim's: ``{method:, dataset:, arch:}``."""

    shape: ClassVar[str] = "a run label or a mapping {method: LABEL, dataset: ..., arch: ...} (method required)"
    method: Text = Field()
    dataset: Text = None
    arch: Text = None


def _side_tag(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return TAG + "side"
    return TAG + "label"


SideRef = Annotated[
    Annotated[Text, Tag(TAG + "label")] | Annotated[Side, Tag(TAG + "side")],
    Discriminator(_side_tag),
]


class ClaimEntry(Block):
    """One claim: ``method`` against ``reference`` on ``metric`` with ``test`` in one study."""

    shape: ClassVar[str] = (
        "a mapping of claim keys (id, claim, study, metric, test, method, reference, dataset, arch, ...)"
    )
    id: Text = Field()
    claim: Text = Field()
    published: Text | None = None
    study: Text = Field()
    metric: one_or_many(Text) = Field()  # type: ignore[valid-type]
    test: choice(TESTS, "test") = Field()  # type: ignore[valid-type]
    rope: number(gt=0, description="the region of practical equivalence") = None  # type: ignore[valid-type]
    method: one_or_many(SideRef) = Field()  # type: ignore[valid-type]
    reference: one_or_many(SideRef) = Field()  # type: ignore[valid-type]
    dataset: one_or_many(Text) = Field()  # type: ignore[valid-type]
    arch: one_or_many(Text) = Field()  # type: ignore[valid-type]


class FigureEntry(Block):
    """A per-epoch curve of the records (e.g. SMOOT's masked fraction)."""

    shape: ClassVar[str] = (
        "a mapping {study, curve, methods, dataset, arch, title, ylabel} (study, curve, methods required)"
    )
    study: Text = Field()
    curve: Text = Field()
    methods: one_or_many(Text) = Field()  # type: ignore[valid-type]
    dataset: Text = Field()
    arch: Text = Field()
    title: Text | None = None
    ylabel: Text | None = None


def _claims_list(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, list) or not value:
        raise fail(f"expected a non-empty list of claims, got {shown(value)}")
    return handler(value)


class ClaimsFile(Block):
    """A paper's claims file (``claims/PAPER.yaml``)."""

    shape: ClassVar[str] = (
        "a mapping with keys paper, title, citation, url, claims (and studies, notes, figures, order)"
    )
    paper: Text = Field()
    order: number(integer=True) = DEFAULT_ORDER  # type: ignore[valid-type]
    title: Text = Field()
    citation: Text = Field()
    url: Text = Field()
    studies: one_or_many(Text) | None = None  # type: ignore[valid-type]
    notes: one_or_many(Text) | None = None  # type: ignore[valid-type]
    claims: Annotated[list[ClaimEntry], WrapValidator(_claims_list)] = Field()
    figures: one_or_many(FigureEntry) | None = None  # type: ignore[valid-type]


CLAIM_AT = re.compile(r"^claims\[(\d+)\]")


def _named(path: str, data: Any) -> str:
    """``claims[0].test`` -> ``claims[0] (SGT-1).test`` (the claim's id, when it has one)."""
    found = CLAIM_AT.match(path)
    claims = data.get("claims") if isinstance(data, Mapping) else None
    if not found or not isinstance(claims, list):
        return path
    entry = claims[int(found.group(1))]
    if not isinstance(entry, Mapping) or entry.get("id") is None:
        return path
    return f"{found.group(0)} ({entry['id']}){path[found.end() :]}"


def check_claims_file(data: Any, source: str) -> ClaimsFile:
    """A claims document checked against ``ClaimsFile`` (``source``: the file, for the message)."""
    try:
        return ClaimsFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        path, text = describe(errors[0])
        line = f"{source}: {_named(path, data) or 'top level'}: {text}"
        if len(errors) > 1:
            line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ContractError(line) from None


def load_claims_file(path: Path) -> ClaimsFile:
    """Read (UTF-8 YAML, no key twice: ``config.parse_yaml``) and check one claims file."""
    return check_claims_file(parse_yaml(Path(path)), str(path))
