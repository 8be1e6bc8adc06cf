"""The author stage: a spec in, files a provider fills in out.

Takes a return spec; gives the blank and pre-filled templates with their Checks sheet,
the sample returns and the generated season, and the published rule catalogue."""

from __future__ import annotations
