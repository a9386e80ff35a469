"""Data sources: where a task's example records come from. All three yield identical records.

``load(task, split)`` takes a task's ``SourceSpec`` (``sam_bench.data.spec``), or a task, which
offers its source's ``name``, ``tfds`` and ``load``.

* ``LocalSource(root)``: a directory laid out like the official releases (what an air-gapped
  user has, and the layout of ../shared/data); read by the tasks' own readers.
* ``TfdsSource(data_dir, archives=None)``: tensorflow-datasets. The records come from the
  dataset's tfds builder itself: its download URLs and registered checksums, its
  ``_split_generators`` and its ``_generate_examples``, read in generation order (= file order;
  tfds's prepared TFRecords are shuffled by key hash, so they are not read). With
  ``archives=DIR`` nothing is downloaded: each URL the builder asks for is served from the
  release file of the same name in DIR (the names tfds registers, e.g. ``CB.zip``,
  ``tydiqa-goldp-v1.1-train.json``), which is how an offline machine or a test uses the tfds path.
* ``SyntheticSource(root, seed)``: the generated suite (``sam_bench.data.synthetic``), written
  in the official formats and read like a local directory.

tensorflow-datasets without TensorFlow (the default install here), what works and why:

* tfds does not import its legacy builder modules (``tensorflow_datasets.text``,
  ``question_answering``, ``summarization``) without TensorFlow; each task names its builder
  module and it is imported explicitly. ``importlib_resources`` must be installed (tfds reads
  its checksum files through it).
* Archive extraction in tfds goes through ``tf.io.gfile``; archives are extracted here with
  Python's ``zipfile``/``tarfile`` instead.
* ``super_glue``'s builder cannot be constructed without TensorFlow (its ``_info`` uses
  ``tf.int32``); its split and example generators are plain Python, so the builder object is
  made without running ``__init__`` (only ``builder_config`` is set) and those generators run.
* ``trivia_qa`` and ``xsum`` call ``tf.io.gfile`` inside their generators: they need
  TensorFlow (``pip install tensorflow-cpu``); without it ``TensorflowRequired`` says so.
  Their local files work without TensorFlow.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sam_bench.data.spec import SourceSpec
from sam_bench.data.synthetic import write_synthetic_suite

log = logging.getLogger(__name__)

__all__ = [
    "LocalSource",
    "TfdsSource",
    "SyntheticSource",
    "TensorflowRequired",
    "make_source",
    "resolve_source",
    "source_for_root",
    "tensorflow_available",
    "SOURCE_KINDS",
]

SOURCE_KINDS = ("local", "tfds", "synthetic")


class TensorflowRequired(RuntimeError):
    """The tfds builder of this dataset needs TensorFlow."""


def tensorflow_available() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


# ------------------------------------------------------------------------ local
class LocalSource:
    """A directory of official release files (see each task's ``layout``)."""

    kind = "local"

    def __init__(self, root: str | Path, subsamples: str = "manifest"):
        if subsamples not in ("manifest", "generate"):
            raise ValueError(f"subsamples must be 'manifest' or 'generate', got {subsamples!r}")
        self.root = Path(root)
        self.subsamples = subsamples

    def load(self, task: SourceSpec, split: str) -> list[dict]:
        return task.load(self.root, split)

    def describe(self) -> str:
        return f"{self.kind}:{self.root}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, subsamples={self.subsamples!r})"


class SyntheticSource(LocalSource):
    """The synthetic suite under ``root`` (written on first use for ``seed``).

    Its subsamples are generated (``subsample_indices``), not pinned: the data are a
    function of the seed and carry no manifest.
    """

    kind = "synthetic"

    def __init__(self, root: str | Path, seed: int = 0, write: bool = True):
        super().__init__(root, subsamples="generate")
        self.seed = seed
        if write and not (self.root / "synthetic_world.json").exists():
            write_synthetic_suite(self.root, seed=seed)


def source_for_root(root: str | Path) -> LocalSource:
    """The source a bare data root means: the synthetic suite if it is one, else local files."""
    root = Path(root)
    if (root / "synthetic_world.json").exists():
        return SyntheticSource(root, write=False)
    return LocalSource(root)


def make_source(kind: str, root: str | Path | None = None, **kwargs):
    """``kind`` is "local" (root: the data directory), "tfds" (root: the tfds data_dir, or
    None for tfds's default; ``archives=DIR`` serves downloads from release files) or
    "synthetic" (root: where the suite is written; ``seed``)."""
    if kind == "local":
        if root is None:
            raise ValueError("source 'local' needs the directory of the official release files")
        return LocalSource(root, **kwargs)
    if kind == "tfds":
        return TfdsSource(root, **kwargs)
    if kind == "synthetic":
        if root is None:
            raise ValueError("source 'synthetic' needs the directory the suite is written to")
        return SyntheticSource(root, **kwargs)
    raise ValueError(f"unknown data source {kind!r}; valid: {list(SOURCE_KINDS)}")


def resolve_source(root, source=None, **options):
    """The one place a data source is resolved. ``source`` may be a source object (returned as
    is), a kind ("local" | "tfds" | "synthetic": ``make_source(source, root, **options)``) or None
    (``root`` itself if it is a source, else the source of the directory ``root``)."""
    if source is not None and not isinstance(source, str):
        return source
    if source is not None:
        return make_source(source, root, **options)
    if hasattr(root, "load") and hasattr(root, "subsamples"):
        return root
    return source_for_root(Path(root))


# ------------------------------------------------------------------ extraction
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2")


def _is_archive(path: Path) -> bool:
    return path.name.endswith(_ARCHIVE_SUFFIXES)


def _safe_members(names, dest: Path):
    for name in names:
        target = (dest / name).resolve()
        if not str(target).startswith(str(dest.resolve())):
            raise ValueError(f"archive member {name!r} would be written outside {dest}")


def extract_archive(archive: Path, dest_root: Path) -> Path:
    """Extract ``archive`` (zip/tar[.gz|.bz2]/tgz) once into ``dest_root/<name>.extracted``; the
    directory is returned (a path that is not an archive is returned unchanged)."""
    archive = Path(archive)
    if not _is_archive(archive):
        return archive
    dest = Path(dest_root) / (archive.name + ".extracted")
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                _safe_members(zf.namelist(), tmp)
                zf.extractall(tmp)
        else:
            with tarfile.open(archive) as tf_:
                _safe_members(tf_.getnames(), tmp)
                tf_.extractall(tmp, filter="data")
        try:
            os.replace(tmp, dest)
        except OSError:
            # another process (a parallel cell) extracted the same archive first: use its copy
            if not dest.is_dir():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


# ------------------------------------------------------------------------- tfds
def _map_tree(fn, tree):
    if isinstance(tree, dict):
        return {k: _map_tree(fn, v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map_tree(fn, v) for v in tree)
    return fn(tree)


class _Downloads:
    """The download-manager interface tfds builders call (download, extract,
    download_and_extract, manual_dir), served from release files or through tfds's own
    DownloadManager, with extraction done in Python."""

    def __init__(self, builder_cls, download_dir: Path, archives: Path | None, manual_dir: Path | None,
                 dataset: str = "", dry: bool = False):
        self.dry = dry  # only map urls to paths: nothing is downloaded or extracted
        self.download_dir = Path(download_dir)
        self.dataset = dataset  # the builder name: archives/<dataset>/<file> wins over archives/<file>
        self.archives = None if archives is None else Path(archives)
        self._manual_dir = manual_dir
        self.url_infos = getattr(builder_cls, "url_infos", None) or {}
        self.origin: dict[str, str] = {}  # local path -> the url (or archive) it stands for
        self._tfds_manager = None

    # -- tfds's DownloadManager for the online case (checksums verified by tfds)
    def _manager(self):
        if self._tfds_manager is None:
            import tensorflow_datasets as tfds

            self._tfds_manager = tfds.download.DownloadManager(
                download_dir=self.download_dir, url_infos=self.url_infos, manual_dir=self._manual_dir,
            )
        return self._tfds_manager

    def file_name(self, url: str) -> str:
        info = self.url_infos.get(url)
        if info is not None and getattr(info, "filename", None):
            return info.filename
        return url.rstrip("/").split("/")[-1].split("?")[0]

    def archive_path(self, url: str) -> Path:
        """Where the release file for ``url`` is looked for: ``archives/<builder>/<name>`` (GLUE and
        SuperGLUE both publish an ``RTE.zip``), else ``archives/<name>``."""
        name = self.file_name(url)
        nested = self.archives / self.dataset / name
        return nested if nested.exists() else self.archives / name

    def _download_one(self, url: str) -> Path:
        if self.archives is not None:
            path = self.archive_path(url)
        else:
            path = Path(self._manager().download(url))
        self.origin[str(path)] = url
        return path

    def download(self, url_or_urls):
        return _map_tree(self._download_one, url_or_urls)

    def _extract_one(self, path) -> Path:
        path = Path(path)
        if not _is_archive(path):
            return path
        extracted = self.download_dir / "extracted" / self.dataset
        dest = extracted / (path.name + ".extracted")
        if self.dry or not path.exists():  # reported when (and only if) a needed split reads from it
            self.origin[str(dest)] = self.origin.get(str(path), str(path))
            return dest
        out = extract_archive(path, extracted)
        self.origin[str(out)] = self.origin.get(str(path), str(path))
        return out

    def extract(self, path_or_paths):
        return _map_tree(self._extract_one, path_or_paths)

    def download_and_extract(self, url_or_urls):
        return self.extract(self.download(url_or_urls))

    @property
    def manual_dir(self) -> Path:
        if self._manual_dir is not None:
            return Path(self._manual_dir)
        if self.archives is not None:
            return self.archives
        return self.download_dir / "manual"

    def _origin_of(self, path: Path) -> str | None:
        """The url (or archive) a local path comes from, if any."""
        for local, url in self.origin.items():
            if str(path).startswith(local):
                return url
        return None

    @staticmethod
    def _paths(gen_kwargs: dict) -> list[Path]:
        out = []

        def collect(value):
            if isinstance(value, (str, os.PathLike)) and not isinstance(value, bool) and Path(value).is_absolute():
                out.append(Path(value))
            return value

        _map_tree(collect, gen_kwargs)
        return out

    def missing(self, gen_kwargs: dict) -> list[str]:
        """Human-readable descriptions of the files ``gen_kwargs`` points to that do not exist."""
        out = []
        for p in self._paths(gen_kwargs):
            if not p.exists():
                src = self._origin_of(p)
                out.append(f"{p}" + (f" (from {src})" if src else ""))
        return out

    def missing_release_files(self, gen_kwargs: dict) -> list[str]:
        """In dry mode with ``archives``: the release files ``gen_kwargs`` would be read from that
        are not in ``archives`` (name, and the url tfds would download it from)."""
        out = []
        for p in self._paths(gen_kwargs):
            url = self._origin_of(p)
            if url is None:  # not a download (e.g. a manual_dir path)
                continue
            release = self.archive_path(url)
            line = f"{release.name} (tfds downloads it from {url})"
            if not release.exists() and line not in out:
                out.append(line)
        return out


def _builder_class(spec):
    import tensorflow_datasets as tfds

    importlib.import_module(spec.module)
    name = spec.name.split("/")[0]
    cls = tfds.builder_cls(name)
    return cls


def _make_builder(spec, data_dir: Path | None):
    """The tfds builder of ``spec``; without TensorFlow, for builders whose constructor needs
    it (super_glue), an instance made without ``__init__`` (generators only)."""
    import tensorflow_datasets as tfds

    cls = _builder_class(spec)
    config = spec.name.split("/", 1)[1] if "/" in spec.name else None
    try:
        builder = tfds.builder(spec.name, data_dir=str(data_dir) if data_dir else None)
        version = str(builder.version)
    except ModuleNotFoundError as e:
        if "tensorflow" not in str(e):
            raise
        builder = cls.__new__(cls)
        cfg = cls.builder_configs[config] if config else None
        builder._builder_config = cfg
        version = str((cfg.version if cfg is not None and cfg.version else None) or cls.VERSION)
    return builder, version


class TfdsSource:
    """Records from the tensorflow-datasets builders (see the module docstring).

    data_dir: tfds's data directory (downloads go to ``data_dir/downloads``; default
      ``~/tensorflow_datasets``). archives: serve every download from the release file of the
      same name in this directory instead of the network. manual_dir: for builders that need
      manually downloaded files (xsum); default ``archives`` or ``data_dir/downloads/manual``.
    check_version: refuse a builder whose version differs from the one the task was checked
      against (the records could differ).
    """

    kind = "tfds"

    def __init__(self, data_dir: str | Path | None = None, *, archives: str | Path | None = None,
                 manual_dir: str | Path | None = None, subsamples: str = "manifest", check_version: bool = True):
        if subsamples not in ("manifest", "generate"):
            raise ValueError(f"subsamples must be 'manifest' or 'generate', got {subsamples!r}")
        self.data_dir = Path(data_dir) if data_dir is not None else Path.home() / "tensorflow_datasets"
        self.archives = None if archives is None else Path(archives)
        self.manual_dir = None if manual_dir is None else Path(manual_dir)
        self.subsamples = subsamples
        self.check_version = check_version
        self._cache: dict[tuple[str, str], list[tuple[Any, dict]]] = {}

    def describe(self) -> str:
        return f"tfds:{self.data_dir}" + (f" (archives {self.archives})" if self.archives else "")

    def __repr__(self) -> str:
        return f"TfdsSource({str(self.data_dir)!r}, archives={self.archives!r})"

    def _generated(self, spec, tfds_split: str) -> list[tuple[Any, dict]]:
        """(key, example) pairs of one builder split, in generation order (cached)."""
        cache_key = (spec.name, tfds_split)
        if cache_key in self._cache:
            return self._cache[cache_key]
        if importlib.util.find_spec("tensorflow_datasets") is None:
            raise RuntimeError("the tfds source needs tensorflow-datasets: pip install tensorflow-datasets")
        if spec.needs_tensorflow and not tensorflow_available():
            raise TensorflowRequired(
                f"tfds builder {spec.name}: its split/example generators call tf.io.gfile, so the tfds path needs "
                "TensorFlow: pip install tensorflow-cpu. Without TensorFlow use the local source "
                "(the official release files; see docs/data.md)."
            )
        builder, downloads, gen_kwargs = self._split_kwargs(spec, tfds_split)
        missing = downloads.missing(gen_kwargs)
        if missing:
            where = (f"the release files in {self.archives} or {self.archives}/{spec.name.split('/')[0]} "
                     "(named as tfds registers them)" if self.archives
                     else f"the tfds downloads in {self.data_dir / 'downloads'}")
            raise FileNotFoundError(f"tfds {spec.name} split {tfds_split!r}: missing {', '.join(missing)}; "
                                    f"expected in {where}. See data_manifests/ for the file names and URLs.")
        out = list(builder._generate_examples(**gen_kwargs))
        self._cache[cache_key] = out
        return out

    def _split_kwargs(self, spec, tfds_split: str, dry: bool = False):
        """(builder, downloads, gen_kwargs of ``tfds_split``) from the builder's ``_split_generators``."""
        builder, version = _make_builder(spec, self.data_dir)
        if self.check_version and version != spec.version:
            raise RuntimeError(
                f"tfds builder {spec.name} is version {version}, but sam-bench's records were checked against "
                f"{spec.version} (data_manifests). Install a tensorflow-datasets with {spec.name}:{spec.version}, "
                "or pass check_version=False after checking the records."
            )
        downloads = _Downloads(type(builder), self.data_dir / "downloads", self.archives, self.manual_dir,
                               dataset=spec.name.split("/")[0], dry=dry)
        try:
            generators = builder._split_generators(downloads)
        except ModuleNotFoundError as e:  # pragma: no cover - depends on the builder and TF
            if "tensorflow" in str(e):
                raise TensorflowRequired(f"tfds builder {spec.name} needs TensorFlow: pip install tensorflow-cpu") from e
            raise
        by_name = {str(g.name): g for g in generators}
        if tfds_split not in by_name:
            raise ValueError(f"tfds builder {spec.name} has no split {tfds_split!r}; it has {sorted(by_name)}")
        return builder, downloads, by_name[tfds_split].gen_kwargs

    def missing_release_files(self, task: SourceSpec, split: str) -> list[str]:
        """With ``archives``: the release files ``load(task, split)`` would read that are not there,
        found by running the builder's ``_split_generators`` without downloading or extracting
        anything (for checks before compute). Empty without ``archives``: tfds downloads then."""
        if self.archives is None or task.tfds is None:
            return []
        with contextlib.redirect_stdout(io.StringIO()):  # tfds prints a banner when TensorFlow is absent
            _, downloads, gen_kwargs = self._split_kwargs(task.tfds, task.tfds.split(split), dry=True)
        return downloads.missing_release_files(gen_kwargs)

    def load(self, task: SourceSpec, split: str) -> list[dict]:
        if task.tfds is None:
            raise ValueError(f"task {task.name!r} has no tensorflow-datasets builder; use the local source")
        spec = task.tfds
        records = []
        for key, example in self._generated(spec, spec.split(split)):
            rec = spec.convert(key, example)
            if rec is not None:
                records.append(rec)
        if not records:
            raise ValueError(f"task {task.name!r}, split {split!r}: tfds {spec.name} yielded no examples")
        return records
