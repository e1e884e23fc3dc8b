"""Which files an import reads: term files and folders, by suffix, read safely."""

from collections.abc import Iterable
from pathlib import Path

from .yaml_loader import Problem

__all__ = ["MANY_SUFFIXES", "TERM_SUFFIXES", "collect_files", "read_file"]

TERM_SUFFIXES = (".yml", ".yaml")
#: Files that hold many terms: SKOS (``terms.skos_import``) and CSV (``terms.csvfile``).
MANY_SUFFIXES = (".ttl", ".rdf", ".jsonld", ".csv")


def collect_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories (their top-level ``*.yml``) into one sorted list."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []
            for child in sorted(path.iterdir()):
                if not (child.is_file() and child.suffix in TERM_SUFFIXES):
                    continue
                if child.is_symlink() and not _inside(child, path):
                    problems.append(
                        Problem(
                            "is a link to a file outside the folder; links out of a "
                            "folder are not followed",
                            file=str(child),
                        )
                    )
                    continue
                found.append(child)
            if not found:
                problems.append(
                    Problem("directory holds no .yml files", file=str(path))
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in (*TERM_SUFFIXES, *MANY_SUFFIXES):
                problems.append(
                    Problem(
                        "not a term file: import takes .yml, .ttl, .rdf, .jsonld "
                        "and .csv files",
                        file=str(path),
                    )
                )
            else:
                files.append(path)
        else:
            problems.append(Problem("no such file or directory", file=str(path)))
    unique: dict[Path, Path] = {}
    for path in files:
        unique.setdefault(path.resolve(), path)
    return list(unique.values()), problems


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
