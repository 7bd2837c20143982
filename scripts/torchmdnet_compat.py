"""Running TorchMD-Net v2.6.2 from its source tree on Debian's torch 1.13, shared by
scripts/torchmdnet-check-export.py and bench/torchmdnet-baseline.py (oreo's own code).

Four shims, applied in this process only; with a pip-installed torchmd-net and torch >= 2 each
is a no-op:
  * a stub ``lightning_utilities.core.rank_zero`` whose ``rank_zero_warn`` is ``warnings.warn``,
    where lightning is not installed;
  * ``torch._assert_async`` accepting a message argument (1.13 takes none); a failed check
    still raises;
  * ``torch.compiler.is_compiling()`` returning False (1.13 has no ``torch.compiler``);
  * ``torch.nn.Embedding(..., _freeze=...)``, which 1.13 does not know.
"""

import inspect
import os
import sys
import types
import warnings


def install_shims(torch):
    if "lightning_utilities.core.rank_zero" not in sys.modules:
        try:
            import lightning_utilities.core.rank_zero  # noqa: F401
        except ImportError:
            names = ["lightning_utilities", "lightning_utilities.core", "lightning_utilities.core.rank_zero"]
            mods = [types.ModuleType(n) for n in names]
            mods[2].rank_zero_warn = lambda msg, *a, **k: warnings.warn(msg)
            mods[0].core, mods[1].rank_zero = mods[1], mods[2]
            for n, m in zip(names, mods):
                sys.modules.setdefault(n, m)

    original = torch._assert_async
    try:
        original(torch.tensor(True), "probe")
    except TypeError:
        def assert_async(cond, msg=None):
            return original(cond)
        torch._assert_async = assert_async

    if not hasattr(torch, "compiler"):
        torch.compiler = types.SimpleNamespace(is_compiling=lambda: False)

    if "_freeze" not in inspect.signature(torch.nn.Embedding.__init__).parameters:
        embedding_init = torch.nn.Embedding.__init__

        def init(self, *a, _freeze=False, **k):
            embedding_init(self, *a, **k)
            if _freeze:
                self.weight.requires_grad_(False)
        torch.nn.Embedding.__init__ = init


def torchmdnet_version(torchmdnet, src):
    """The package's __version__, else the VERSION file of the source tree `src` (without a
    leading "v"), else "unknown"."""
    v = getattr(torchmdnet, "__version__", None)
    if v:
        return str(v)
    try:
        with open(os.path.join(src, "VERSION")) as f:
            return f.read().strip().lstrip("v") or "unknown"
    except OSError:
        return "unknown"
