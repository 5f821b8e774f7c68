"""Resolve template values (the intrinsic functions the template uses) for given parameter values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.template.parse import resource

# Resolved: Ref, Fn::Sub, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Join, Fn::Select,
# Fn::GetAtt (through the ``attributes`` mapping) and Condition. Resources have no physical
# names until deployed, so the caller names them in ``physical_ids`` (logical id -> the value
# ``Ref`` returns); a Glue database or table defaults to the name in its own input.

#: Values used for the pseudo parameters unless the caller overrides them.
DEFAULT_PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "appstore-sales-archive",
    "AWS::StackId": ("arn:aws:cloudformation:us-east-1:123456789012:stack/appstore-sales-archive/00000000-0000-0000-0000-000000000000"),
    "AWS::URLSuffix": "amazonaws.com",
}

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


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
        """A context with the template's parameter defaults overridden by ``parameters``."""
        # ``attributes`` maps "LogicalId.Attribute" to the value ``Fn::GetAtt`` returns.
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
