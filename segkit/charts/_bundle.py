"""The Vega, Vega-Lite and Vega-Embed JavaScript that every segkit chart draws with, offline.

One bundle serves both places charts appear: inlined once into each HTML report
(:mod:`segkit.reports._html`) and shipped to JupyterLab inside the chart widget
(:class:`segkit.charts.VegaChart`). It comes from the installed ``vl_convert`` package, never
from a CDN.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["bundle_key", "vega_bundle"]

_bundle_cache: dict[str, str] = {}


def _vegalite_version() -> str | None:
    import altair as alt
    import vl_convert

    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vl_convert.get_vegalite_versions() else None


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "segkit"


def bundle_key() -> str:
    """Names the bundle's library versions (``vl6.4-vega6.2.0-embed7.0.2``)."""
    import vl_convert

    return (f"vl{_vegalite_version()}-vega{vl_convert.get_vega_version()}"
            f"-embed{vl_convert.get_vega_embed_version()}")


def vega_bundle() -> str:
    """The Vega + Vega-Lite + Vega-Embed JavaScript (globals ``vega``, ``vegaLite``, ``vegaEmbed``).

    Built once by ``vl_convert.javascript_bundle`` (about 2 s) and cached in memory and under
    ``$XDG_CACHE_HOME/segkit`` keyed by the library versions.
    """
    key = bundle_key()
    if key in _bundle_cache:
        return _bundle_cache[key]
    cached = _cache_dir() / f"vega-bundle-{key}.js"
    if cached.is_file():
        bundle = cached.read_text(encoding="utf-8")
    else:
        import vl_convert

        bundle = vl_convert.javascript_bundle(vl_version=_vegalite_version())
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(bundle, encoding="utf-8")
            tmp.replace(cached)
        except OSError:
            pass  # a read-only home only costs the rebuild next time
    if re.search(r"</script|<!--", bundle, re.IGNORECASE):  # pragma: no cover - defensive
        raise RuntimeError("the Vega bundle contains '</script' or '<!--' and cannot be inlined")
    _bundle_cache[key] = bundle
    return bundle
