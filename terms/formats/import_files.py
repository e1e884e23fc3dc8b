"""Which files an import reads: term files and folders, by suffix, read safely."""

import os
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from terms.documents.yaml_loader import Problem
from terms.formats import registry

__all__ = [
    "MANY_SUFFIXES",
    "TERM_SUFFIXES",
    "collect_files",
    "read_file",
    "unpack_upload",
]

#: Files that hold one term each (YAML), and files that hold many (SKOS, CSV):
#: as the format registry (``terms.formats.registry``) says.
TERM_SUFFIXES = registry.suffixes(many=False)
MANY_SUFFIXES = registry.suffixes(many=True)


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories (their top-level ``*.yml``) into one sorted list."""
    files: list[tuple[Path, Path]] = []  # (where it really is, as named)
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _folder_files(path, problems)
            if not found:
                problems.append(
                    Problem("directory holds no .yml files", file=str(path))
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in (*TERM_SUFFIXES, *MANY_SUFFIXES):
                *most, last = registry.suffixes()
                takes = f"{', '.join(most)} and {last}"
                problems.append(
                    Problem(
                        f"not a term file: import takes {takes} files",
                        file=str(path),
                    )
                )
            else:
                files.append((path.resolve(), path))
        else:
            problems.append(Problem("no such file or directory", file=str(path)))
    unique: dict[Path, Path] = {}
    for real, path in files:
        unique.setdefault(real, path)
    return list(unique.values()), problems


def _folder_files(folder: Path, problems: list[Problem]) -> list[tuple[Path, Path]]:
    """The folder's term files by name, each with where it really is. One
    directory listing (``os.scandir`` knows each entry's type): a folder of
    100,000 files is listed in a fraction of a second."""
    real_folder = folder.resolve()
    found = []
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda entry: entry.name)
    for entry in listed:
        if not (Path(entry.name).suffix in TERM_SUFFIXES and entry.is_file()):
            continue
        child = folder / entry.name
        if entry.is_symlink():
            if not _inside(child, folder):
                problems.append(
                    Problem(
                        "is a link to a file outside the folder; links out of a "
                        "folder are not followed",
                        file=str(child),
                    )
                )
                continue
            found.append((child.resolve(), child))
        else:
            found.append((real_folder / entry.name, child))
    return found


def _inside(link: Path, folder: Path) -> bool:
    """Whether a link in ``folder`` points at a file inside it."""
    return link.resolve().is_relative_to(folder.resolve())


def read_file(path: Path, problems: list[Problem]) -> bytes | None:
    """The file's bytes, or None with the reason added to ``problems``."""
    try:
        return path.read_bytes()
    except OSError as exc:
        problems.append(Problem(f"cannot read file: {exc.strerror}", file=str(path)))
        return None


def unpack_upload(
    name: str, upload, folder: Path, limit: int
) -> tuple[list[Path], list[Problem]]:
    """Put an uploaded file (``upload``: a binary file object named ``name``)
    into ``folder`` as what an import reads: the file itself, or the term
    files of a zip. Returns the paths to import and what was wrong.

    A zip's members land side by side in ``folder`` (an export's
    ``glossary/`` prefix and other folders are dropped); a member whose path
    leaves the archive (absolute, ``..``), a link, two members of the same
    name, or more than ``limit`` bytes unpacked in all is refused, and nothing
    is imported.
    """
    base = PurePosixPath(name.replace("\\", "/")).name
    suffix = PurePosixPath(base).suffix.lower()
    if suffix != ".zip":
        if suffix not in (*TERM_SUFFIXES, *MANY_SUFFIXES):
            *most, last = registry.suffixes()
            takes = f"{', '.join(most)}, {last} or a .zip of term files"
            return [], [Problem(f"not a file an import takes ({takes})", file=base)]
        target = folder / (base if base not in ("", ".", "..") else f"upload{suffix}")
        with open(target, "wb") as out:
            shutil.copyfileobj(upload, out)
        return [target], []
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        return [], [Problem("not a readable zip archive", file=base)]
    problems, seen, total = [], {}, 0
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member in members:
            path = PurePosixPath(member.filename.replace("\\", "/"))
            where = f"{base}:{member.filename}"
            mode = member.external_attr >> 16
            if path.is_absolute() or ".." in path.parts:
                problems.append(Problem("leaves the archive; refused", file=where))
            elif mode and (mode & 0o170000) == 0o120000:
                problems.append(Problem("is a link; refused", file=where))
            elif path.name in seen:
                problems.append(
                    Problem(f"has the same name as {seen[path.name]}", file=where)
                )
            seen.setdefault(path.name, member.filename)
            total += member.file_size
        if total > limit:
            problems.append(
                Problem(
                    f"unpacks to {total:,} bytes; the limit is {limit:,}", file=base
                )
            )
        if problems:
            return [], problems
        wanted = [
            m for m in members if PurePosixPath(m.filename).suffix in TERM_SUFFIXES
        ]
        if not wanted:
            return [], [Problem("the archive holds no .yml files", file=base)]
        for member in wanted:
            target = folder / PurePosixPath(member.filename).name
            with archive.open(member) as source, open(target, "wb") as out:
                # Read at most what the member declared: a lying header
                # cannot unpack more than the limit allowed.
                out.write(source.read(member.file_size + 1)[: member.file_size])
    return [folder], []
