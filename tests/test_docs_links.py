"""The documentation can be followed from a fresh clone.

- Every relative Markdown link and image of README.md, CONTRIBUTING.md and docs/**/*.md resolves to a
  file or folder inside the repository that git tracks (so a clone has it); a ``#fragment`` after a
  Markdown file (or alone, for the same page) must name one of its headings (GitHub's anchors).
  http(s), mailto and other scheme links are not followed; links inside code spans and fenced
  blocks are not links.
- No tracked source, test, documentation or configuration file cites the design notes that lived
  outside the repository (the old ``STATISTICS.md``, ``METHODS.md``, ``DESIGN.md``, ``ANCHORS.md``
  beside the checkout); they cite ``docs/`` instead.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
SELF = Path(__file__).resolve()

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n)[\s\S])*?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# The design notes that used to live beside the checkout (not in a clone). Spelled in pieces so that
# this file does not cite them itself.
EXTERNAL_NOTES = ("STATISTICS", "METHODS", "DESIGN", "ANCHORS")
EXTERNAL = re.compile(r"\b(?:" + "|".join(EXTERNAL_NOTES) + r")\.md\b|shared/(?:specs|seeds)\b")
CHECKED_SUFFIXES = (".py", ".md", ".yaml", ".yml", ".toml", ".cfg", ".txt", ".lock")
CHECKED_NAMES = ("Makefile",)


def documents(root: Path = ROOT) -> list[Path]:
    """README.md, CONTRIBUTING.md and every Markdown file under docs/."""
    found = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").rglob("*.md"))]
    return [p for p in found if p.is_file()]


def tracked(root: Path = ROOT) -> set[str] | None:
    """Paths git tracks (relative, '/'-separated), or None without a git checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=False)
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return {p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def unfenced(text: str) -> str:
    """``text`` with its fenced code blocks blanked (line numbers stay)."""
    lines, fence = [], None
    for line in text.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            lines.append("")
        elif fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans (blanked, so line numbers stay)."""
    return CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), unfenced(text))


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every inline link or image, reference definition and HTML link."""
    body = prose(text)
    found = []
    for pattern in (INLINE_LINK, REFERENCE_DEF, HTML_LINK):
        for match in pattern.finditer(body):
            target = match.group(1).strip()
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1].strip()
            found.append((body.count("\n", 0, match.start()) + 1, target))
    return sorted(found)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text lowercased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a Markdown file offers: its headings' slugs (with GitHub's -1, -2 for repeats)
    and explicit ``<a name=...>`` / ``id=...`` anchors."""
    text = path.read_text(encoding="utf-8")
    out: set[str] = set()
    seen: dict[str, int] = {}
    for line in unfenced(text).splitlines():
        match = HEADING.match(line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            out.add(base if count == 0 else f"{base}-{count}")
    out.update(m.group(1) for m in HTML_ANCHOR.finditer(text))
    return out


def broken_links(files: Iterable[Path], root: Path = ROOT, known: set[str] | None = None) -> list[str]:
    """One line per relative link that does not resolve to a tracked file or folder inside ``root``
    (``known``: the tracked paths; None checks existence only)."""
    root = root.resolve()
    problems = []
    for doc in files:
        where = doc.relative_to(root) if doc.resolve().is_relative_to(root) else doc
        for line, target in links(doc.read_text(encoding="utf-8")):
            if SCHEME.match(target) or target.startswith("//"):
                continue  # http(s), mailto, ...: not followed
            path_part, _, fragment = target.partition("#")
            path_part = unquote(path_part.partition("?")[0])
            if path_part.startswith("/"):
                problems.append(f"{where}:{line}: {target}: an absolute path, not a link inside the repository")
                continue
            resolved = (doc.parent / path_part).resolve() if path_part else doc.resolve()
            if not resolved.is_relative_to(root):
                problems.append(f"{where}:{line}: {target}: leads outside the repository ({resolved})")
                continue
            if not resolved.exists():
                problems.append(f"{where}:{line}: {target}: no such file or folder")
                continue
            relative = resolved.relative_to(root).as_posix()
            if known is not None and relative != "." and relative not in known:
                if not (resolved.is_dir() and any(p.startswith(relative + "/") for p in known)):
                    problems.append(f"{where}:{line}: {target}: not tracked by git, so a clone lacks it")
                    continue
            if fragment and resolved.is_file() and resolved.suffix == ".md":
                if unquote(fragment) not in anchors(resolved):
                    problems.append(f"{where}:{line}: {target}: {resolved.name} has no heading with anchor #{fragment}")
    return problems


def citing_files(paths: Iterable[str], root: Path = ROOT) -> list[str]:
    """One line per line of ``paths`` (relative to ``root``) that cites the old external notes."""
    out = []
    for relative in sorted(paths):
        path = root / relative
        if path.resolve() == SELF or not path.is_file():
            continue
        if not (path.suffix in CHECKED_SUFFIXES or path.name in CHECKED_NAMES):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if EXTERNAL.search(line):
                out.append(f"{relative}:{number}: {line.strip()}")
    return out


def source_files(root: Path = ROOT) -> set[str]:
    """The tracked files (or, without git, every file outside .venv, .git, data and results/runs)."""
    known = tracked(root)
    if known is not None:
        return known
    skip = (".venv", ".git", "data", ".dvc")
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in skip
    }


def test_every_relative_link_in_the_docs_resolves_inside_the_repository():
    files = documents()
    assert ROOT / "docs" / "README.md" in files, "docs/README.md, the index of the documentation, is missing"
    problems = broken_links(files, ROOT, tracked())
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_link_checker_catches_what_it_must(tmp_path):
    """The checks above can fail: a missing file, a path out of the repository, an absolute path, an
    unknown anchor and an untracked file are each reported; code, external links and good links are not."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## A section: with `code`\n")
    (tmp_path / "untracked.md").write_text("# Untracked\n")
    (tmp_path / "README.md").write_text(
        "# Top\n\n"
        "[fine](docs/other.md) [anchor](docs/other.md#a-section-with-code) [self](#top) [folder](docs/)\n"
        "[web](https://example.org/x.md) [mail](mailto:someone@example.org) `[code](missing.md)`\n"
        "```\n[fenced](missing.md)\n```\n"
        "[missing](docs/nothing.md)\n"
        "![image out of the repository](../outside.png)\n"
        "[absolute](/etc/passwd)\n"
        "[bad anchor](docs/other.md#no-such-heading)\n"
        "[untracked](untracked.md)\n"
    )
    known = {"README.md", "docs/other.md"}
    problems = broken_links([tmp_path / "README.md"], tmp_path, known)
    assert [p.split(": ")[0] for p in problems] == [f"README.md:{n}" for n in (8, 9, 10, 11, 12)], problems
    assert "no such file" in problems[0] and "outside the repository" in problems[1]
    assert "absolute path" in problems[2] and "#no-such-heading" in problems[3] and "not tracked" in problems[4]
    assert citing_files(["a.py"], tmp_path) == []
    (tmp_path / "a.py").write_text('"""See ' + EXTERNAL_NOTES[0] + '.md 1.13."""\n')
    assert citing_files(["a.py"], tmp_path) == [f'a.py:1: """See {EXTERNAL_NOTES[0]}.md 1.13."""']


def test_no_file_cites_the_notes_that_lived_outside_the_repository():
    """Source, tests, docs and configuration cite docs/ (e.g. "docs/statistics.md §2.2"), never the notes
    that were beside the checkout, which a clone does not have."""
    found = citing_files(source_files())
    assert not found, "cite docs/ instead:\n" + "\n".join(found)
