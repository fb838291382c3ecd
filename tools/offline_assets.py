"""Serve the book's JavaScript (RequireJS, the ipywidgets HTML manager, MathJax) from the site itself.

The built book must work offline: a reader who opens ``_build/html/index.html`` without a network still sees
typeset math and the sliders with their default output. So instead of the CDN URLs that myst-nb and Sphinx use by
default, the three npm packages below are downloaded once from the npm registry (plain HTTPS, no Node.js needed),
checked against the registry's sha512 integrity, unpacked into a cache under ``_build/`` (never committed) and
copied into ``_build/html/_static/kmem-offline/`` by Sphinx.

Two ways to use this module:

* as a Sphinx extension (``_config.yml`` → ``sphinx.local_extensions``): on ``config-inited`` it makes sure the
  cache is filled and adds it to ``html_static_path``, so every ``jupyter-book build`` is offline-complete;
* from the command line, ``python tools/offline_assets.py [--cache DIR]``, to prefetch (``make book`` does this).

The paths the pages load (``mathjax_path``, ``nb_ipywidgets_js``) are set in ``_config.yml``; they are stable
(no version numbers), the versions live only in :data:`ASSETS`. On ``builder-inited`` the extension checks that
every such path exists in the cache, so a typo fails the build instead of producing a page that silently falls
back to nothing.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import re
import shutil
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REGISTRY = "https://registry.npmjs.org"
STATIC_SUBDIR = "kmem-offline"
"""Everything lands under ``_static/kmem-offline/`` in the built site."""
CACHE_ENV = "KMEMBOOK_ASSET_CACHE"
"""Environment variable that overrides the cache directory (default ``<book root>/_build/offline-assets``)."""


@dataclass(frozen=True)
class NpmAsset:
    """One npm package, pinned by version and registry integrity, and the part of it the site needs."""

    name: str  # directory under _static/kmem-offline/
    package: str  # npm package name
    version: str
    integrity: str  # "sha512-<base64>", as published in the registry's dist.integrity
    strip: str  # prefix inside the tarball whose contents go to _static/kmem-offline/<name>/
    keep_suffixes: tuple[str, ...]  # only files with these suffixes (plus licence files) are kept
    keep_paths: tuple[str, ...] = ()  # if given, only files under these paths (relative to strip) are kept

    @property
    def tarball_url(self) -> str:
        base = self.package.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.package}/-/{base}-{self.version}.tgz"


MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2/")
"""The MathJax files the site serves (paths under es5/): the component Sphinx loads and the fonts it asks for."""

ASSETS: tuple[NpmAsset, ...] = (
    NpmAsset(
        name="requirejs",
        package="requirejs",
        version="2.3.8",
        integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        strip="package/",
        keep_suffixes=("require.js",),
    ),
    # ipywidgets 8.1.x declares __html_manager_version__ = "^1.0.1"; 1.0.15 is the newest 1.0.x.
    # embed-amd.js bundles @jupyter-widgets/base, controls and output, so core widgets need no further download.
    NpmAsset(
        name="html-manager",
        package="@jupyter-widgets/html-manager",
        version="1.0.15",
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        strip="package/dist/",
        # embed-amd.js only (dist/ also has libembed-amd.js, the same 3.6 MB bundle for other loaders), and the
        # FontAwesome fonts of the widget CSS as woff2 only (every browser that runs the manager reads woff2).
        keep_suffixes=("/embed-amd.js", ".LICENSE.txt", ".woff2"),
    ),
    # MathJax 3 is what Sphinx 7's mathjax extension expects. Only what the book uses: the tex-chtml component
    # (TeX input with the AMS packages, CommonHTML output, the menu) and its TeX fonts as woff2; the rest of the
    # package (SVG output, MathML input, speech rule engine, 40 languages: ~23 MB) is left out.
    NpmAsset(
        name="mathjax",
        package="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        strip="package/es5/",
        keep_suffixes=(".js", ".woff"),
        keep_paths=MATHJAX_FILES,
    ),
)


def default_cache(book_root: Path) -> Path:
    """Cache directory: ``$KMEMBOOK_ASSET_CACHE`` or ``<book_root>/_build/offline-assets``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(book_root) / "_build" / "offline-assets"


def static_root(cache: Path) -> Path:
    """Directory to add to ``html_static_path`` (it contains ``kmem-offline/``)."""
    return cache / "static"


def _check_integrity(data: bytes, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"integrity mismatch: expected {integrity}, got {algo}-{digest}")


def _download(url: str, attempts: int = 3, timeout: float = 60.0) -> bytes:
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URL
                return resp.read()
        except OSError as exc:  # URLError is an OSError
            last = exc
            time.sleep(1 + attempt)
    raise RuntimeError(
        f"could not download {url} ({last}). The book's offline JavaScript comes from the npm registry at build "
        f"time; on a machine without network, copy a filled cache and point {CACHE_ENV} at it."
    )


def _is_licence(name: str) -> bool:
    return PurePosixPath(name).name.upper().startswith(("LICENSE", "LICENCE", "COPYING"))


def _unpack(data: bytes, asset: NpmAsset, dest: Path) -> int:
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name
            if name.startswith("package/") and _is_licence(name) and name.count("/") == 1:
                rel = PurePosixPath(PurePosixPath(name).name)  # the package's own licence, kept beside its files
            elif name.startswith(asset.strip) and name.endswith(asset.keep_suffixes) and (
                    not asset.keep_paths or name[len(asset.strip):].startswith(asset.keep_paths)):
                rel = PurePosixPath(name[len(asset.strip):])
            else:
                continue
            if rel.is_absolute() or ".." in rel.parts:
                raise RuntimeError(f"unsafe path {name!r} in {asset.tarball_url}")
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            target.write_bytes(src.read())
            count += 1
    return count


def ensure_assets(cache: Path, log=print) -> Path:
    """Make sure every asset of :data:`ASSETS` is unpacked under ``cache``; return :func:`static_root`.

    Idempotent: an asset whose stamp file names the pinned version and integrity is not fetched again.
    Downloads are verified against the pinned sha512 before anything is unpacked.
    """
    root = static_root(cache) / STATIC_SUBDIR
    tarballs = cache / "tarballs"
    for asset in ASSETS:
        dest = root / asset.name
        stamp = dest / ".kmem-asset"
        want = f"{asset.package}@{asset.version} {asset.integrity} {asset.keep_suffixes} {asset.keep_paths}\n"
        if stamp.is_file() and stamp.read_text() == want:
            continue
        tgz = tarballs / f"{asset.name}-{asset.version}.tgz"
        if tgz.is_file():
            data = tgz.read_bytes()
            try:
                _check_integrity(data, asset.integrity)
            except RuntimeError:
                data = b""
        else:
            data = b""
        if not data:
            log(f"[offline-assets] downloading {asset.package}@{asset.version} from the npm registry")
            data = _download(asset.tarball_url)
            _check_integrity(data, asset.integrity)
            tarballs.mkdir(parents=True, exist_ok=True)
            tgz.write_bytes(data)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        n = _unpack(data, asset, dest)
        if n == 0:
            raise RuntimeError(f"{asset.package}@{asset.version}: nothing matched {asset.strip}*{asset.keep_suffixes}")
        stamp.write_text(want)
        log(f"[offline-assets] {asset.package}@{asset.version}: {n} files in {dest}")
    return static_root(cache)


# --------------------------------------------------------------------------------------------------- Sphinx glue


def _on_config_inited(app, config) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    cache = default_cache(Path(app.srcdir))
    static = ensure_assets(cache, log=logger.info)
    paths = list(config.html_static_path or [])
    if str(static) not in paths:
        paths.append(str(static))
    config.html_static_path = paths


def _on_builder_inited(app) -> None:
    """Fail the build if a configured JS path is not a file this site serves itself.

    Allowed: files of the asset cache (``kmem-offline/...``) and files in any ``html_static_path`` directory
    (e.g. ``book/_static/kmem-widgets-setup.js``). A URL with a scheme (a CDN) is an error.
    """
    from sphinx.errors import ConfigError

    srcdir = Path(app.srcdir)
    static_dirs = [Path(p) if Path(p).is_absolute() else srcdir / p for p in app.config.html_static_path]
    uris = [app.config.mathjax_path, *dict(app.config.nb_ipywidgets_js)]
    for uri in uris:
        if "://" in uri or uri.startswith("//"):
            raise ConfigError(f"{uri!r} is not served by the site itself - the book must work offline")
        if not any((d / uri).is_file() for d in static_dirs):
            raise ConfigError(
                f"{uri!r} is in no html_static_path directory ({', '.join(map(str, static_dirs))}); "
                "see ASSETS in tools/offline_assets.py"
            )


def _is_mathjax(js, mathjax_path: str) -> bool:
    name = str(getattr(js, "filename", js) or "")
    body = getattr(js, "attributes", {}).get("body", "") if hasattr(js, "attributes") else ""
    return (name.endswith(mathjax_path) or name.endswith(("kmem-mathjax-compat.js", "kmem-math-fit.js"))
            or (not name and body.lstrip().startswith("window.MathJax")))


def _on_html_page_context(app, pagename, templatename, context, doctree) -> None:
    """Pages without math load no MathJax (Sphinx loads it on a page whose toctree holds math, e.g. the root)."""
    from docutils import nodes

    if doctree is not None and (any(doctree.findall(nodes.math)) or any(doctree.findall(nodes.math_block))):
        return
    scripts = context.get("script_files")
    if scripts:
        # script_files is the builder's per-page list (Sphinx restores it after the page): edit it in place
        scripts[:] = [js for js in scripts if not _is_mathjax(js, app.config.mathjax_path)]


UNUSED = ("**/*.map", "locales", "vendor/fontawesome/webfonts/*.ttf")
"""Files of the themes in _static/ that no page loads: source maps, translation catalogues, TrueType copies of
the woff2 icon fonts. Removed after the build (the site's size budget, tests/test_book_build.py)."""


FONTAWESOME_JS = re.compile(r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?')
"""pydata-sphinx-theme's Font Awesome as JavaScript (1.5 MB, every page): it turns the icons into SVG, which its CSS
already draws from the woff2 icon fonts. Its <script> tag is hard-coded in the theme's templates, so it is taken
out of the built pages."""


def _on_build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new = FONTAWESOME_JS.sub("", html)
        if new != html:
            page.write_text(new, encoding="utf-8")
    static = out / "_static"
    for pattern in UNUSED + ("scripts/fontawesome.js*",):
        for path in static.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()


def setup(app):
    """Sphinx entry point (``sphinx.local_extensions: {offline_assets: tools}`` in ``_config.yml``)."""
    app.connect("config-inited", _on_config_inited, priority=100)  # before html_static_path is validated (800)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("html-page-context", _on_html_page_context, priority=600)  # after sphinx.ext.mathjax (500)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache directory (default: _build/offline-assets)")
    args = parser.parse_args(argv)
    cache = args.cache or default_cache(Path(__file__).resolve().parent.parent)
    print(ensure_assets(cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
