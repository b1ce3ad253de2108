"""Check that infra/template.yaml agrees with the Rust code it deploys.

The template repeats names that the code fixes. They are the table's key attributes and
sweep index, the `kind` of DEP server items (used by the stream filter), the `purpose`
values of the KMS encryption contexts, and the environment variables. This script reads
those names from the Rust sources and compares them with the template, so a rename on one
side fails CI instead of failing in AWS.

Usage: python infra/tests/template_matches_code.py   (from the repository root)
Prints one "ok - ..." or "not ok - ..." line per check; exits 1 when a check fails.
Needs aws-sam-cli's samtranslator (installed by scripts/check-infra.sh) to read the
CloudFormation short tags (!Ref, !Sub, ...).
"""

import json
import re
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

results: list[tuple[bool, str]] = []


def check(passed: bool, label: str) -> None:
    results.append((passed, label))


def rust_str_const(path: str, name: str) -> str:
    """Returns the value of `const NAME: &str = "...";` in a Rust source file."""
    text = (ROOT / path).read_text()
    match = re.search(rf'const {name}: &str = "([^"]*)";', text)
    if match is None:
        raise SystemExit(f"not ok - constant {name} not found in {path}; update this script")
    return match.group(1)


def main() -> int:
    template = yaml_parse(TEMPLATE.read_text())
    resources = template["Resources"]

    # The table layout (adapters/aws/src/dynamo/keys.rs and table.rs).
    keys_rs = "adapters/aws/src/dynamo/keys.rs"
    pk = rust_str_const(keys_rs, "PK")
    sk = rust_str_const(keys_rs, "SK")
    shard = rust_str_const(keys_rs, "SWEEP_SHARD")
    index = rust_str_const(keys_rs, "SWEEP_INDEX")
    table = resources["Table"]["Properties"]

    key_schema = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
    check(key_schema == [(pk, "HASH"), (sk, "RANGE")], f"table key is {pk}/{sk}")
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    check(types == {pk: "S", sk: "S", shard: "N"}, f"attribute types {pk}=S {sk}=S {shard}=N")
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    check(list(indexes) == [index], f"one global secondary index named {index!r}")
    if index in indexes:
        gsi = indexes[index]
        gsi_keys = [(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]]
        check(gsi_keys == [(shard, "HASH"), (pk, "RANGE")], f"index {index} key is {shard}/{pk}")
        check(gsi["Projection"]["ProjectionType"] == "ALL", f"index {index} projects all attributes")

    # The stream filter selects DEP server items by `kind` and their `stage` attribute.
    server_kind = rust_str_const("adapters/aws/src/dynamo/items.rs", "SERVER_KIND")
    pattern = json.loads(resources["NotifierStreamMapping"]["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    new_image = pattern["dynamodb"]["NewImage"]
    check(new_image.get("kind") == {"S": [server_kind]}, f"stream filter selects kind {server_kind!r}")
    model = (ROOT / "shared/src/model.rs").read_text()
    check(re.search(r"pub stage: Option<Stage>", model) is not None and "stage" in new_image,
          "stream filter reads ServerRecord.stage")

    # The purposes in the KMS encryption contexts (adapters/aws/src/kms).
    key_purpose = rust_str_const("adapters/aws/src/kms/key_vault.rs", "PURPOSE")
    credential_purpose = rust_str_const("adapters/aws/src/kms/sealer.rs", "PURPOSE")
    template_text = TEMPLATE.read_text()
    purposes = set(re.findall(r"kms:EncryptionContext:purpose: (\S+)", template_text))
    check(purposes == {key_purpose, credential_purpose},
          f"KMS purposes are {key_purpose!r} and {credential_purpose!r} (template has {sorted(purposes)})")

    # Every variable that AwsConfig and the topic lookup require is set for every function
    # (through Globals), because every function reads them at cold start.
    config_rs = (ROOT / "adapters/aws/src/config.rs").read_text()
    required = re.findall(r'const (?:TABLE|KEYS_KMS_KEY|CREDENTIALS_KMS_KEY)_VAR: &str = "([^"]+)";', config_rs)
    required.append(rust_str_const("adapters/aws/src/sns/mod.rs", "TOPIC_ARN_VAR"))
    global_vars = template["Globals"]["Function"]["Environment"]["Variables"]
    for name in required:
        check(name in global_vars, f"{name} is set for every function")

    # Every DEPTOKEN_ variable in the template is read by some Rust code.
    read_by_code = set()
    for source in ROOT.glob("*/**/src/**/*.rs"):
        if "target" not in source.parts:
            read_by_code.update(re.findall(r'"(DEPTOKEN_[A-Z_]+)"', source.read_text()))

    # Every DEPTOKEN_ variable in the template is documented in docs/deploy.md.
    documented = set(re.findall(r"`(DEPTOKEN_[A-Z_]+)`", DEPLOY_DOC.read_text())) if DEPLOY_DOC.exists() else set()
    in_template = set(re.findall(r"\b(DEPTOKEN_[A-Z_]+):", template_text))
    for name in sorted(in_template):
        check(name in read_by_code, f"{name} is read by the Rust code")
        check(name in documented, f"{name} is documented in docs/deploy.md")

    for passed, label in results:
        print(f"{'ok' if passed else 'not ok'} - {label}")
    return 0 if all(passed for passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
