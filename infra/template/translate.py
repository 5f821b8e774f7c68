"""Expand the template's SAM resources into plain CloudFormation with aws-sam-translator."""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.template.parse import REPO_ROOT, TEMPLATE_PATH, load_template

#: ARNs of the AWS managed policies SAM may attach; translation needs them offline.
MANAGED_POLICY_ARNS: dict[str, str] = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaVPCAccessExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
}

_TRANSLATE_SCRIPT = """
import json, sys
from samtranslator.translator.transform import transform

class Loader:
    def load(self):
        return json.loads(sys.argv[1])

template = json.load(sys.stdin)
json.dump(transform(template, {}, Loader()), sys.stdout)
"""


def _translator_python() -> Path | None:
    """A Python with aws-sam-translator: SAM_BIN's virtualenv, else the repository's .venv-sam."""
    candidates: list[Path] = []
    sam_bin = os.environ.get("SAM_BIN")
    if sam_bin:
        candidates += [Path(sam_bin).parent / "python", Path(sam_bin).resolve().parent / "python"]
    candidates.append(REPO_ROOT / ".venv-sam" / "bin" / "python")
    return next((path for path in candidates if path.exists()), None)


def translate(template: Mapping[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The template as the SAM transform expands it (plain CloudFormation)."""
    # Runs aws-sam-translator in this interpreter when it is installed; otherwise in the Python
    # of the SAM CLI virtualenv (SAM_BIN, or .venv-sam that infra/template/check.sh creates).
    source = json.loads(json.dumps(template))
    for definition in source.get("Resources", {}).values():
        # The transform wants deployable artifacts; `sam build`/`package` replace local paths.
        properties = definition.get("Properties", {})
        if definition.get("Type") == "AWS::Serverless::Function":
            code_uri = properties.get("CodeUri")
            if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
                properties["CodeUri"] = f"s3://translation-placeholder/{code_uri.strip('/')}.zip"
    try:
        transform_module: Any = importlib.import_module("samtranslator.translator.transform")
    except ImportError:
        return _translate_in_subprocess(source, region)

    class _PolicyLoader:
        def load(self) -> dict[str, str]:
            return dict(MANAGED_POLICY_ARNS)

    saved = {name: os.environ.get(name) for name in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    os.environ.update({"AWS_DEFAULT_REGION": region, "AWS_REGION": region})
    try:
        result: dict[str, Any] = transform_module.transform(copy.deepcopy(source), {}, _PolicyLoader())
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
    return result


def _translate_in_subprocess(source: dict[str, Any], region: str) -> dict[str, Any]:
    python = _translator_python()
    if python is None:
        raise RuntimeError(
            "SAM translation needs the aws-sam-translator package here, or SAM_BIN naming the sam "
            "of a virtualenv that has it (infra/template/check.sh creates .venv-sam)"
        )
    completed = subprocess.run(  # noqa: S603 - a fixed script, no shell
        [str(python), "-c", _TRANSLATE_SCRIPT, json.dumps(MANAGED_POLICY_ARNS)],
        input=json.dumps(source),
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": region, "AWS_REGION": region},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"SAM translation failed: {completed.stderr.strip()}")
    translated: dict[str, Any] = json.loads(completed.stdout)
    return translated


def main(argv: list[str]) -> int:
    """`python -m infra.template.load translate [TEMPLATE]` (or `-m infra.template.translate`): print it translated."""
    if len(argv) not in (2, 3) or argv[1] != "translate":
        print("usage: python -m infra.template.load translate [TEMPLATE]", file=sys.stderr)
        return 2
    path = Path(argv[2]) if len(argv) == 3 else TEMPLATE_PATH
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    json.dump(translate(load_template(path), region), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
