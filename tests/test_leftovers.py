"""benchmark.records.leftovers: exactly the writers' temporaries are found and removed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmark.records.leftovers import find_leftovers, remove_leftovers

RID = "0123456789abcdef"


def _file(path: Path, text: str = "x") -> Path:
    path.write_text(text)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    (path / "maps").mkdir()
    _file(path / "maps" / "a.npy")
    return path


def _leftovers(folder: Path) -> set[Path]:
    """One of each shape a killed writer leaves, with the writers' own tempfile calls."""
    made = set()
    for name in (f"{RID}.json", f"{RID}.ckpt.code", f"{RID}.ckpt"):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        made.add(Path(tmp))
    made.add(Path(tempfile.mkdtemp(prefix=f".{RID}.saliency.", suffix=".tmp", dir=folder)))
    made.add(Path(tempfile.mkdtemp(prefix=f".{RID}.saliency.", suffix=".old", dir=folder)))
    made.add(_file(folder / f"{RID}.ckpt.tmp"))
    made.add(_file(folder / ".abc123.json.k2j3.tmp"))
    made.add(_file(folder / ".abc123.ckpt.code.x8.tmp"))
    made.add(_folder(folder / f".{RID}.saliency.q9w8e7r6.tmp"))
    old = _folder(folder / f".{RID}.saliency.a1b2c3d4.old")
    _folder(old / "previous")
    made.add(old)
    return made


def _user_files(folder: Path) -> set[Path]:
    """Look-alikes that are not ours."""
    kept = {
        _file(folder / name)
        for name in (
            "notes.tmp",
            ".hidden",
            "abc.json",
            "abc.ckpt",
            "abc.ckpt.code",
            f"{RID}.json",
            f"{RID}.ckpt",
            ".notes.tmp",
            "notes.ckpt.tmp",
            ".sweep.lock",
            f".{RID}.saliency.a1b2c3d4.old.bak",
            f".{RID}.saliency.zz99.old",
        )
    }  # a *file* named like an aside folder: not what we write
    kept |= {_folder(folder / name) for name in ("abc.saliency", f"{RID}.saliency", ".hidden_dir", f"{RID}.ckpt.tmp.d")}
    kept.add(_folder(folder / "sub"))
    _file(folder / "sub" / f".{RID}.json.k2j3.tmp")  # not a direct child
    (folder / "sub2").mkdir()
    kept.add(folder / "sub2")
    (folder / "sub2" / f"{RID}.ckpt.tmp").mkdir()  # not a direct child either
    return kept


def _children(folder: Path) -> set[Path]:
    return set(folder.iterdir())


def test_exactly_the_writers_temporaries_are_found_and_removed(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    made = _leftovers(folder)
    kept = _user_files(folder)
    assert _children(folder) == made | kept
    assert find_leftovers(folder) == sorted(made)
    assert remove_leftovers(folder) == sorted(made)
    assert _children(folder) == kept
    assert (folder / "sub" / f".{RID}.json.k2j3.tmp").exists()
    assert find_leftovers(folder) == [] and remove_leftovers(folder) == []


def test_missing_folder_is_fine(tmp_path):
    assert find_leftovers(tmp_path / "missing") == []
    assert remove_leftovers(tmp_path / "missing") == []


def test_symlinks_are_unlinked_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = _file(outside / "precious.txt", "keep me")
    precious_file = _file(tmp_path / "precious_file.json", "keep me too")
    folder = tmp_path / "runs"
    folder.mkdir()
    link_dir = folder / f".{RID}.saliency.q9w8e7r6.tmp"
    link_dir.symlink_to(outside, target_is_directory=True)
    link_old = folder / f".{RID}.saliency.q9w8e7r6.old"
    link_old.symlink_to(outside, target_is_directory=True)
    link_file = folder / f".{RID}.json.k2j3x8ab.tmp"
    link_file.symlink_to(precious_file)
    dangling = folder / f"{RID}.ckpt.tmp"
    dangling.symlink_to(tmp_path / "nowhere")
    user_link = folder / "notes.tmp"  # a user's symlink with a non-matching name
    user_link.symlink_to(outside, target_is_directory=True)
    inner = _folder(folder / f".{RID}.saliency.zzzzzzzz.tmp")  # a real leftover folder ...
    (inner / "escape").symlink_to(outside, target_is_directory=True)  # ... linking outside

    expected = sorted([link_dir, link_old, link_file, dangling, inner])
    assert find_leftovers(folder) == expected
    assert remove_leftovers(folder) == expected
    assert _children(folder) == {user_link}
    assert precious.read_text() == "keep me" and sorted(outside.iterdir()) == [precious]
    assert precious_file.read_text() == "keep me too"
