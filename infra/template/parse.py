"""Parse template.yaml (CloudFormation short tags to long form) and look up its resources."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# PyYAML (typed as Any here: its stubs are not a dependency of the project).
yaml: Any = importlib.import_module("yaml")

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

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


# A safe YAML loader that turns CloudFormation short-form tags into long-form dicts
# (libyaml's parser when PyYAML has it: about ten times faster on template.yaml).
_TemplateLoader: Any = type("_TemplateLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
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
