"""mono: routed Mixtures of Neural Operators, their explicit bounds and constructions.

Subpackages
-----------
mono.bounds
    The theorems' explicit rates (sympy), exact counts for any accuracy, tables.
mono.construct
    The single-NO baseline and the routed MoNO built weight by weight, and their
    verification against :mod:`mono.bounds`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mono-toolkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from mono.errors import InputError

__all__ = ["InputError", "__version__"]
