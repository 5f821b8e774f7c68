"""Shared test set-up: the Powertools settings the template gives the function.

Powertools reads them when the handler module is imported, so they are set here, before any
test module imports it, from template.yaml itself.
"""

from __future__ import annotations

import os

from infra.template.load import Context, function_environment, load_template

_TEMPLATE_ENV = function_environment(
    Context.for_template(load_template(), physical_ids={"ArchiveBucket": "bucket", "ArchiverSecret": "secret"})
)
for _name, _value in _TEMPLATE_ENV.items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)
