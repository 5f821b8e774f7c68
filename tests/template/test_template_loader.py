"""infra.template.load (reused by the local stack) and infra.template.verify_build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.template import verify_build
from infra.template.load import (
    Context,
    ResolveError,
    function_environment,
    named_queries,
    parse_template,
    resource,
)

SAMPLE = """
Parameters:
  Name: {Type: String, Default: base}
  Existing: {Type: String, Default: ""}
  Required: {Type: String}
Conditions:
  Create: !Equals [!Ref Existing, ""]
  Both: !And [!Condition Create, !Not [!Equals [!Ref Name, ""]]]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Condition: Create
  Database:
    Type: AWS::Glue::Database
    Properties:
      DatabaseInput: {Name: !Sub "${Name}_db"}
  Thing:
    Type: Custom::Thing
    Properties:
      Plain: !Sub "${AWS::Region}/${Name}/${!Literal}"
      Listed: !Sub ["${A}-${Name}", {A: !If [Create, !Ref Bucket, !Ref Existing]}]
      Arn: !GetAtt Bucket.Arn
      Joined: !Join ["-", [a, !Ref Name, !Select [1, [x, y]]]]
      Maybe: !If [Both, kept, !Ref AWS::NoValue]
      Db: !Ref Database
"""


@pytest.fixture
def sample() -> dict[str, Any]:
    return parse_template(SAMPLE)


def test_short_form_tags_become_long_form(sample: dict[str, Any]) -> None:
    thing = resource(sample, "Thing")["Properties"]
    assert thing["Arn"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert thing["Plain"] == {"Fn::Sub": "${AWS::Region}/${Name}/${!Literal}"}
    assert sample["Conditions"]["Both"]["Fn::And"][0] == {"Condition": "Create"}


def test_resolves_with_defaults_and_physical_ids(sample: dict[str, Any]) -> None:
    context = Context.for_template(sample, {"Required": "r"}, physical_ids={"Bucket": "my-bucket"})
    thing = context.resolve(resource(sample, "Thing")["Properties"])
    assert thing == {
        "Plain": "us-east-1/base/${Literal}",
        "Listed": "my-bucket-base",
        "Arn": "arn:aws:s3:::my-bucket",
        "Joined": "a-base-y",
        "Maybe": "kept",
        "Db": "base_db",
    }


def test_conditions_follow_parameters(sample: dict[str, Any]) -> None:
    context = Context.for_template(sample, {"Required": "r", "Existing": "theirs", "Name": ""})
    assert context.conditions == {"Create": False, "Both": False}
    assert not context.is_created("Bucket")
    properties = resource(sample, "Thing")["Properties"]
    thing = context.resolve({key: properties[key] for key in ("Listed", "Maybe")})
    assert thing == {"Listed": "theirs-"}
    with pytest.raises(ResolveError, match="do not create"):
        context.ref("Bucket")


def test_errors_name_what_is_missing(sample: dict[str, Any]) -> None:
    with pytest.raises(ResolveError, match="Required"):
        Context.for_template(sample, {})
    with pytest.raises(ResolveError, match="Unknown"):
        Context.for_template(sample, {"Required": "r", "Unknown": "x"})
    context = Context.for_template(sample, {"Required": "r"})
    with pytest.raises(ResolveError, match="physical_ids"):
        context.ref("Bucket")


def test_local_stack_can_resolve_what_it_provisions(template: dict[str, Any]) -> None:
    """The resources the local stack creates in moto resolve with just their names."""
    context = Context.for_template(
        template,
        {"ArchivePrefix": "appstore/"},
        physical_ids={"ArchiveBucket": "local-archive", "ArchiverSecret": "appstore/reporting-api"},
    )
    table = context.resolve(resource(template, "SalesTable")["Properties"])
    assert table["DatabaseName"] == "appstore_archive"
    assert table["TableInput"]["StorageDescriptor"]["Location"] == "s3://local-archive/appstore/sales/"
    database = context.resolve(resource(template, "GlueDatabase")["Properties"])
    assert database["DatabaseInput"]["Name"] == "appstore_archive"
    environment = function_environment(context)
    assert environment["ARCHIVE_BUCKET"] == "local-archive"
    assert environment["SECRET_ID"] == "appstore/reporting-api"
    assert all('"appstore_archive"."sales' in sql for sql in named_queries(context).values())


def make_artifact(root: Path, extra: tuple[str, ...] = ()) -> Path:
    artifact = root / "ArchiverFunction"
    (artifact / "archiver").mkdir(parents=True)
    (artifact / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    for module in verify_build.own_modules():
        (artifact / "archiver" / module).parent.mkdir(parents=True, exist_ok=True)
        (artifact / "archiver" / module).write_text("")
    pins = verify_build.pinned_requirements()
    for distribution, modules in verify_build.EXPECTED_DISTRIBUTIONS.items():
        version = pins.get(distribution, "1.0")
        (artifact / f"{distribution}-{version}.dist-info").mkdir()
        for module in modules:
            if module.endswith(".py"):
                (artifact / module).write_text("")
            else:
                (artifact / module).mkdir()
    for name in extra:
        path = artifact / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return artifact


def test_verify_build_accepts_the_expected_artifact(tmp_path: Path) -> None:
    assert verify_build.problems(make_artifact(tmp_path)) == []


def test_verify_build_rejects_extras_tests_and_foreign_binaries(tmp_path: Path) -> None:
    artifact = make_artifact(
        tmp_path,
        extra=(
            "pytest/__init__.py",
            "archiver/tests/test_x.py",
            "charset_normalizer/md.cpython-313-x86_64-linux-gnu.so",
        ),
    )
    found = verify_build.problems(artifact)
    assert any("'pytest'" in problem for problem in found)
    assert any("test file archiver/tests/test_x.py" in problem for problem in found)
    assert any("not built for cpython-313 aarch64" in problem for problem in found)


def test_verify_build_rejects_a_missing_dependency(tmp_path: Path) -> None:
    artifact = make_artifact(tmp_path)
    (artifact / "requests").rmdir()
    assert "dependency module requests is missing" in verify_build.problems(artifact)


def test_verify_build_rejects_a_missing_stage_module(tmp_path: Path) -> None:
    artifact = make_artifact(tmp_path)
    (artifact / "archiver" / "storage" / "lease.py").unlink()
    assert "archiver/storage/lease.py is missing" in verify_build.problems(artifact)
