"""The catalogue of MovieLens releases: where each lives, how big it is, how to verify it, how it is laid out.

Hashes are pinned where a trustworthy published value exists (SHA-256 from TensorFlow Datasets' checksum
files; the MD5 sidecar GroupLens publishes for ml-10m). ``ml-latest`` changes over time, so it is verified
against the ``.md5`` sidecar fetched next to it at download time.
"""

from __future__ import annotations

from dataclasses import dataclass

from movielens_lessons.errors import UnknownReleaseError

BASE_URL = "https://files.grouplens.org/datasets/movielens"

#: Names of the on-disk formats; one reader per format in :mod:`movielens_lessons.data.readers`.
FORMAT_100K = "ml-100k"  # u.data (TAB), u.item (pipe, latin-1, 19 genre flags), u.user
FORMAT_DAT = "dat"  # ratings.dat / movies.dat / users.dat / tags.dat, '::'-separated
FORMAT_CSV = "csv"  # ratings.csv / movies.csv / tags.csv / links.csv with headers


@dataclass(frozen=True)
class Release:
    """One MovieLens release.

    ``size`` is the zip's size in bytes where pinned; ``sha256``/``md5`` the pinned hash of the zip, or
    ``None`` when it must be read from the ``.md5`` sidecar published next to the zip.
    ``folder`` is the top-level folder inside the zip; ``required`` the files its reader needs and
    ``optional`` the other files we extract (the README that carries the usage terms, tag genome, ...).
    """

    name: str
    folder: str
    format: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    encoding: str = "utf-8"
    rating_scale: tuple[float, float] = (0.5, 5.0)
    description: str = ""

    @property
    def url(self) -> str:
        return f"{BASE_URL}/{self.name}.zip"

    @property
    def md5_url(self) -> str:
        return f"{self.url}.md5"

    @property
    def known_hash(self) -> str | None:
        """The hash in pooch's ``algorithm:hex`` notation, or ``None`` when only the sidecar has it."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        if self.md5:
            return f"md5:{self.md5}"
        return None

    @property
    def members(self) -> tuple[str, ...]:
        """Every file extracted from the zip, relative to ``folder``."""
        return self.required + self.optional


_CSV_CORE = ("ratings.csv", "movies.csv", "tags.csv", "links.csv")

RELEASES: dict[str, Release] = {
    r.name: r
    for r in (
        Release(
            name="ml-100k",
            folder="ml-100k",
            format=FORMAT_100K,
            required=("u.data", "u.item", "u.user"),
            optional=("u.genre", "u.occupation", "README"),
            size=4_924_029,
            sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
            encoding="latin-1",
            rating_scale=(1.0, 5.0),
            description="100,000 ratings (1-5 stars) from 943 users on 1,682 movies, with demographics (1998)",
        ),
        Release(
            name="ml-1m",
            folder="ml-1m",
            format=FORMAT_DAT,
            required=("ratings.dat", "movies.dat", "users.dat"),
            optional=("README",),
            size=5_917_549,
            sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
            encoding="latin-1",
            rating_scale=(1.0, 5.0),
            description="1 million ratings (1-5 stars) from 6,040 users on 3,900 movies, with demographics",
        ),
        Release(
            name="ml-10m",
            folder="ml-10M100K",
            format=FORMAT_DAT,
            required=("ratings.dat", "movies.dat", "tags.dat"),
            optional=("README.html",),
            md5="ce571fd55effeba0271552578f2648bd",
            description="10 million ratings (half stars) and 100,000 tags from 71,567 users on 10,681 movies",
        ),
        Release(
            name="ml-20m",
            folder="ml-20m",
            format=FORMAT_CSV,
            required=_CSV_CORE,
            optional=("genome-scores.csv", "genome-tags.csv", "README.txt"),
            size=198_702_078,
            sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
            description="20 million ratings and 465,000 tags from 138,493 users on 27,278 movies",
        ),
        Release(
            name="ml-25m",
            folder="ml-25m",
            format=FORMAT_CSV,
            required=_CSV_CORE,
            optional=("genome-scores.csv", "genome-tags.csv", "README.txt"),
            size=261_978_986,
            sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
            description="25 million ratings and 1 million tags from 162,541 users on 62,423 movies",
        ),
        Release(
            name="ml-32m",
            folder="ml-32m",
            format=FORMAT_CSV,
            required=_CSV_CORE,
            optional=("checksums.txt", "README.txt"),
            size=238_950_008,
            sha256="e4a68655d7386b8f95f2f2424b2ff975dfdd15ffd59e0d864a14dca43e99d6ee",
            description="32 million ratings and 2 million tags from 200,948 users on 87,585 movies",
        ),
        Release(
            name="ml-latest-small",
            folder="ml-latest-small",
            format=FORMAT_CSV,
            required=_CSV_CORE,
            optional=("README.txt",),
            size=978_202,
            sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
            description="100,836 ratings and 3,683 tags from 610 users on 9,742 movies (education)",
        ),
        Release(
            name="ml-latest",
            folder="ml-latest",
            format=FORMAT_CSV,
            required=_CSV_CORE,
            optional=("genome-scores.csv", "genome-tags.csv", "README.txt"),
            description="the full latest release; changes over time, verified against its .md5 sidecar",
        ),
    )
}


def get_release(name: str) -> Release:
    """Look a release up by name (``ml-latest-small``, ``ml-1m``, ...)."""
    try:
        return RELEASES[name]
    except KeyError:
        raise UnknownReleaseError(name, list(RELEASES)) from None
