"""Check a `sam build` artifact of the archiver function.

Usage: python -m infra.template.verify_build BUILD_DIR/ArchiverFunction

The artifact must hold the handler module, the `archiver` package and exactly the runtime
dependencies of the pinned requirements, at the pinned versions, with native code built for
the function's architecture and Python version; nothing else (no tests, no dev tools).
Exits 1 listing every problem found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from infra.template.load import REPO_ROOT, load_template, resource

FUNCTION = "ArchiverFunction"

#: Distribution name -> the top-level modules or packages it installs.
EXPECTED_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "python_dateutil": ("dateutil",),
    "six": ("six.py",),
    "urllib3": ("urllib3",),
    "requests": ("requests",),
    "idna": ("idna",),
    "certifi": ("certifi",),
    "charset_normalizer": ("charset_normalizer",),
    "aws_lambda_powertools": ("aws_lambda_powertools",),
    "typing_extensions": ("typing_extensions.py",),
}

#: The function's own code, copied from CodeUri.
OWN_ENTRIES = ("app.py", "archiver")
#: Copied from CodeUri as well; harmless (it only points at the top-level requirements).
TOLERATED_ENTRIES = ("requirements.txt",)

_DIST_INFO = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-]+)\.(?P<kind>dist-info|data)$")
_PIN = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s;#]+)")


def canonical(name: str) -> str:
    """A distribution name normalised the way wheel directory names spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def pinned_requirements(path: Path = REPO_ROOT / "requirements.txt") -> dict[str, str]:
    """Name -> version of every `name==version` line of the top-level requirements."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def function_target() -> tuple[str, str]:
    """The function's (runtime, architecture) from template.yaml, e.g. ("python3.13", "arm64")."""
    properties = resource(load_template(), FUNCTION)["Properties"]
    return str(properties["Runtime"]), str(properties["Architectures"][0])


def own_modules() -> list[str]:
    """Every module of the function's `archiver` package, as paths inside it (the stage folders included)."""
    package = REPO_ROOT / "functions" / "archiver" / "archiver"
    return sorted(str(path.relative_to(package)) for path in package.rglob("*.py"))


def problems(artifact: Path) -> list[str]:
    """Everything wrong with the artifact (empty when it is as expected)."""
    found: list[str] = []
    if not artifact.is_dir():
        return [f"{artifact.name}: no such build directory"]
    entries = {entry.name for entry in artifact.iterdir()}

    app = artifact / "app.py"
    if not app.is_file() or "def lambda_handler" not in app.read_text(encoding="utf-8"):
        found.append("app.py with lambda_handler is missing")
    for module in own_modules():
        if not (artifact / "archiver" / module).is_file():
            found.append(f"archiver/{module} is missing")

    versions: dict[str, str] = {}
    for entry in entries:
        match = _DIST_INFO.match(entry)
        if match and match.group("kind") == "dist-info":
            versions[canonical(match.group("name"))] = match.group("version")
    expected_entries = set(OWN_ENTRIES) | set(TOLERATED_ENTRIES)
    for distribution, modules in EXPECTED_DISTRIBUTIONS.items():
        expected_entries.update(modules)
        if distribution not in versions:
            found.append(f"dependency {distribution} is missing (no dist-info)")
        for module in modules:
            if module not in entries:
                found.append(f"dependency module {module} is missing")
    for distribution in versions:
        if distribution not in EXPECTED_DISTRIBUTIONS:
            found.append(f"unexpected distribution {distribution} in the artifact")
    for entry in sorted(entries - expected_entries):
        match = _DIST_INFO.match(entry)
        if match and canonical(match.group("name")) in EXPECTED_DISTRIBUTIONS:
            continue
        found.append(f"unexpected entry {entry!r} in the artifact")

    for name, version in pinned_requirements().items():
        if name in versions and versions[name] != version:
            found.append(f"{name} is {versions[name]}, requirements.txt pins {version}")
        if name not in versions:
            found.append(f"pinned requirement {name} is not in the artifact")

    runtime, architecture = function_target()
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
    abi = "cpython-" + runtime.removeprefix("python").replace(".", "")
    for library in artifact.rglob("*.so"):
        name = library.name
        if machine not in name or abi not in name:
            found.append(f"native library {library.relative_to(artifact)} is not built for {abi} {machine}")

    for path in artifact.rglob("*"):
        relative = path.relative_to(artifact)
        if relative.parts[0] in OWN_ENTRIES and ("tests" in relative.parts or path.name == "conftest.py" or path.name.startswith("test_")):
            found.append(f"test file {relative} in the artifact")
    return found


def main(argv: list[str]) -> int:
    """Verify the artifact directory named on the command line."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    artifact = Path(argv[1])
    found = problems(artifact)
    for problem in found:
        print(f"build artifact: {problem}", file=sys.stderr)
    if found:
        return 1
    count = sum(1 for _ in artifact.rglob("*") if _.is_file())
    print(f"build artifact OK: app.py, archiver/ and {len(EXPECTED_DISTRIBUTIONS)} pinned dependencies ({count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
