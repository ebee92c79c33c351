"""The optional C accelerator of the evaluator's RLE counting (pure-Python fallback when it cannot be built).

Everything else is in pyproject.toml; the extension is declared here because setuptools still calls its
pyproject table for extension modules experimental.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("evaluators._rlecount", ["evaluators/_rlecount.c"], optional=True)])
