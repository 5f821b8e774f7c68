"""Load template.yaml and resolve its values for a given set of parameter values.

Used by the template tests and by the local stack, which provisions the bucket, secret,
Glue database and table (in moto) from the template's own definitions instead of a copy.

Only the intrinsic functions the template uses are resolved: Ref, Fn::Sub, Fn::If,
Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Join, Fn::Select, Fn::GetAtt (through the
``attributes`` mapping) and Condition. Resources have no physical names until deployed, so
the caller names them in ``physical_ids`` (logical id -> the value ``Ref`` returns); a Glue
database or table defaults to the name in its own input.

Example::

    template = load_template()
    ctx = Context.for_template(template, {"ArchivePrefix": ""},
                               physical_ids={"ArchiveBucket": "local-archive"})
    table_input = ctx.resolve(resource(template, "SalesTable")["Properties"]["TableInput"])
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# PyYAML (typed as Any here: its stubs are not a dependency of the project).
yaml: Any = importlib.import_module("yaml")

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

#: Values used for the pseudo parameters unless the caller overrides them.
DEFAULT_PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "appstore-sales-archive",
    "AWS::StackId": ("arn:aws:cloudformation:us-east-1:123456789012:stack/appstore-sales-archive/00000000-0000-0000-0000-000000000000"),
    "AWS::URLSuffix": "amazonaws.com",
}

_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
    "Fn::Transform",
    "Fn::And",
    "Fn::Equals",
    "Fn::If",
    "Fn::Not",
    "Fn::Or",
)

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _make_constructor(name: str) -> Any:
    def construct(loader: Any, node: Any) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


def _construct_getatt(loader: Any, node: Any) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        logical_id, _, attribute = str(loader.construct_scalar(node)).partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": loader.construct_sequence(node, deep=True)}


# A safe YAML loader that turns CloudFormation short-form tags into long-form dicts.
_TemplateLoader: Any = type("_TemplateLoader", (yaml.SafeLoader,), {})
for _name in _SHORT_TAGS:
    _tag = "!" + (_name[4:] if _name.startswith("Fn::") else _name)
    _TemplateLoader.add_constructor(_tag, _make_constructor(_name))
_TemplateLoader.add_constructor("!GetAtt", _construct_getatt)


def parse_template(text: str) -> dict[str, Any]:
    """Parse CloudFormation/SAM YAML (or JSON) into plain dicts with long-form intrinsics."""
    document = yaml.load(text, Loader=_TemplateLoader)
    if not isinstance(document, dict):
        raise ValueError("a template must be a YAML mapping")
    return document


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The parsed template (untranslated: SAM resources stay as they are written)."""
    return parse_template(Path(path).read_text(encoding="utf-8"))


def resource(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource definition by logical id."""
    try:
        found: dict[str, Any] = template["Resources"][logical_id]
    except KeyError:
        raise KeyError(f"template has no resource {logical_id!r}") from None
    return found


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Every resource of one type, by logical id."""
    return {
        logical_id: definition
        for logical_id, definition in template.get("Resources", {}).items()
        if definition.get("Type") == resource_type
    }


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, str]:
    """Each parameter's default, as the string CloudFormation would pass on."""
    defaults: dict[str, str] = {}
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec:
            defaults[name] = _as_string(spec["Default"])
    return defaults


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Where the name that ``Ref`` returns is written, for resources whose Ref is their name.
_REF_NAME_PROPERTY: dict[str, tuple[str, ...]] = {
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::Table": ("TableInput", "Name"),
    "AWS::Athena::WorkGroup": ("Name",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::CloudWatch::Alarm": ("AlarmName",),
    "AWS::CloudWatch::Dashboard": ("DashboardName",),
}


class ResolveError(ValueError):
    """A value cannot be resolved with the parameters and physical ids given."""


_NO_VALUE = object()


@dataclass
class Context:
    """Parameter values, conditions and physical ids to resolve template values against."""

    template: Mapping[str, Any]
    parameters: dict[str, str]
    physical_ids: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def for_template(
        cls,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any] | None = None,
        *,
        physical_ids: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
        pseudo_parameters: Mapping[str, str] | None = None,
    ) -> Context:
        """A context with the template's parameter defaults overridden by ``parameters``.

        ``attributes`` maps "LogicalId.Attribute" to the value ``Fn::GetAtt`` returns.
        """
        declared = template.get("Parameters", {})
        values = {**DEFAULT_PSEUDO_PARAMETERS, **(pseudo_parameters or {})}
        values.update(parameter_defaults(template))
        for name, value in (parameters or {}).items():
            if name not in declared and name not in DEFAULT_PSEUDO_PARAMETERS:
                raise ResolveError(f"template has no parameter {name!r}")
            values[name] = _as_string(value)
        missing = [name for name in declared if name not in values]
        if missing:
            raise ResolveError(f"parameters without a default need a value: {missing}")
        context = cls(
            template=template,
            parameters=values,
            physical_ids=dict(physical_ids or {}),
            attributes=dict(attributes or {}),
        )
        context.conditions = {name: bool(context._evaluate(expression)) for name, expression in template.get("Conditions", {}).items()}
        return context

    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        try:
            return self.conditions[name]
        except KeyError:
            raise ResolveError(f"template has no condition {name!r}") from None

    def is_created(self, logical_id: str) -> bool:
        """Whether a resource exists for these parameter values (its Condition holds)."""
        name = resource(self.template, logical_id).get("Condition")
        return True if name is None else self.condition(name)

    def ref(self, name: str) -> str:
        """What ``Ref`` returns for a parameter, pseudo parameter or resource."""
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        definition = self.template.get("Resources", {}).get(name)
        if definition is None:
            raise ResolveError(f"Ref to unknown name {name!r}")
        if not self.is_created(name):
            raise ResolveError(f"Ref to {name!r}, which these parameter values do not create")
        value: Any = definition.get("Properties", {})
        for key in _REF_NAME_PROPERTY.get(definition["Type"], ("",)):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return str(self.resolve(value))
        raise ResolveError(f"no physical id given for resource {name!r} (pass it in physical_ids)")

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What ``Fn::GetAtt`` returns, from ``attributes`` (or an S3 bucket's Arn)."""
        key = f"{logical_id}.{attribute}"
        if key in self.attributes:
            return self.attributes[key]
        definition = self.template.get("Resources", {}).get(logical_id, {})
        if definition.get("Type") == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{self.parameters['AWS::Partition']}:s3:::{self.ref(logical_id)}"
        raise ResolveError(f"no value given for Fn::GetAtt {key} (pass it in attributes)")

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced by its result."""
        result = self._evaluate(value)
        return None if result is _NO_VALUE else result

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._evaluate(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, argument)
        resolved = {key: self._evaluate(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        return self.ref(name)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self._evaluate(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.get("Resources", {}):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        substituted = _SUB_VARIABLE.sub(replace, text)
        return substituted.replace("${!", "${")

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self._evaluate(when_true if self.condition(name) else when_false)

    def _get_att(self, argument: Any) -> str:
        if isinstance(argument, str):
            logical_id, attribute = argument.split(".", 1)
        else:
            logical_id, attribute = argument[0], self._evaluate(argument[1])
        return self.get_att(logical_id, attribute)

    def _condition_ref(self, name: str) -> bool:
        if name in self.conditions:
            return self.conditions[name]
        return bool(self._evaluate(self.template["Conditions"][name]))

    def _select(self, argument: list[Any]) -> Any:
        index, items = self._evaluate(argument[0]), self._evaluate(argument[1])
        return items[int(index)]


_FUNCTIONS: dict[str, Any] = {
    "Ref": Context._ref,
    "Fn::Sub": Context._sub,
    "Fn::If": Context._if,
    "Fn::GetAtt": Context._get_att,
    "Condition": Context._condition_ref,
    "Fn::Equals": lambda ctx, a: ctx._evaluate(a[0]) == ctx._evaluate(a[1]),
    "Fn::Not": lambda ctx, a: not ctx._evaluate(a[0]),
    "Fn::And": lambda ctx, a: all(ctx._evaluate(item) for item in a),
    "Fn::Or": lambda ctx, a: any(ctx._evaluate(item) for item in a),
    "Fn::Join": lambda ctx, a: str(a[0]).join(str(item) for item in ctx._evaluate(a[1])),
    "Fn::Select": Context._select,
}


# --- Convenience accessors used by the local stack and the tests -------------------------


def function_environment(context: Context, logical_id: str = "ArchiverFunction") -> dict[str, str]:
    """The function's resolved environment variables."""
    variables = resource(context.template, logical_id)["Properties"]["Environment"]["Variables"]
    return {name: str(value) for name, value in context.resolve(variables).items()}


def named_queries(context: Context) -> dict[str, str]:
    """Each Athena named query's resolved SQL, by its Name."""
    queries: dict[str, str] = {}
    for definition in resources_of_type(context.template, "AWS::Athena::NamedQuery").values():
        properties = definition["Properties"]
        queries[str(context.resolve(properties["Name"]))] = str(context.resolve(properties["QueryString"]))
    return queries


# --- SAM translation --------------------------------------------------------------------

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
    """The template as the SAM transform expands it (plain CloudFormation).

    Runs aws-sam-translator in this interpreter when it is installed; otherwise in the Python
    of the SAM CLI virtualenv (SAM_BIN, or .venv-sam that infra/template/check.sh creates).
    """
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
    """`python -m infra.template.load translate [TEMPLATE]`: print the translated template."""
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
