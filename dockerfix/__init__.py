"""dockerfix: an automatic Dockerfile fixer for Node.js applications.

The engine lives in :mod:`dockerfix.fixer` (source folder ``fixer/``) and the rewrite passes in
:mod:`dockerfix.transforms` (source folder ``transforms/``).
"""

__version__ = "0.1.0"
