#!/usr/bin/env python3
"""Makes the Yapily fixtures the facade's tests check every answer against.

openapi-subset.json: the operations BankHooks emulates, from yapily/yapily-openapi's openapi.json,
with every schema they reach (responses only), unchanged.
sdk-java-models.json: the members and enum values yapily/yapily-sdk-java's models know, for the
same schemas (its Jackson mapper fails on an unknown member, its enums on an unknown value).

Run: extract.py <yapily-openapi git dir> <yapily-sdk-java git dir>  (bare mirrors are fine).
"""
import json, re, subprocess, sys, os

OAS_COMMIT = "3f9441bee86c7c3ff94983f4fdeb5be36b6949dd"
SDK_COMMIT = "bdf34c1011c8f54fbdce8536f684a9fc35d4bd49"
OPERATIONS = [
    ("post", "/users"), ("get", "/users"), ("get", "/users/{userUuid}"), ("delete", "/users/{userUuid}"),
    ("get", "/institutions"), ("get", "/institutions/{institutionId}"),
    ("post", "/account-auth-requests"), ("patch", "/account-auth-requests"), ("post", "/payment-auth-requests"),
    ("post", "/consent-one-time-token"), ("post", "/consent-auth-code"),
    ("get", "/consents"), ("get", "/consents/{consentId}"), ("delete", "/consents/{consentId}"),
    ("get", "/accounts"), ("get", "/accounts/{accountId}/balances"), ("get", "/accounts/{accountId}/transactions"), ("get", "/identity"),
]

def git_show(repo, commit, path):
    return subprocess.run(["git", "--git-dir", repo, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout

def refs(node, found):
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/components/schemas/"):
            found.add(node["$ref"].split("/")[-1])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)

def main(oas_repo, sdk_repo):
    document = json.loads(git_show(oas_repo, OAS_COMMIT, "openapi.json"))
    schemas = document["components"]["schemas"]
    paths = {}
    wanted = set()
    for method, path in OPERATIONS:
        operation = document["paths"][path][method]
        kept = {"operationId": operation["operationId"], "responses": {}}
        for status, response in operation["responses"].items():
            content = {kind: {"schema": media["schema"]} for kind, media in response.get("content", {}).items() if "schema" in media}
            kept["responses"][status] = {"content": content}
            refs(content, wanted)
        paths.setdefault(path, {})[method] = kept
    closure = set()
    while wanted:
        name = wanted.pop()
        if name in closure:
            continue
        closure.add(name)
        refs(schemas[name], wanted)
    subset = {
        "x-source": {"repository": "yapily/yapily-openapi", "path": "openapi.json", "commit": OAS_COMMIT,
                     "version": document["info"]["version"], "openapi": document["openapi"]},
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(closure)}},
    }
    models, enums = {}, {}
    for name in sorted(closure):
        try:
            java = git_show(sdk_repo, SDK_COMMIT, f"sdk/src/main/java/yapily/sdk/models/{name}.java")
        except subprocess.CalledProcessError:
            continue
        members = re.findall(r'JSON_PROPERTY_\w+ = "([^"]+)"', java)
        if members:
            models[name] = members
        if re.search(rf"public enum {name}\b", java):
            enums[name] = re.findall(r'^\s+[A-Z0-9_]+\("([^"]+)"\)', java, re.M)
    sdk = {"x-source": {"repository": "yapily/yapily-sdk-java", "commit": SDK_COMMIT, "artifact": "yapily-sdk 2.13.1"},
           "models": models, "enums": enums}
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "openapi-subset.json"), "w") as f:
        json.dump(subset, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(here, "sdk-java-models.json"), "w") as f:
        json.dump(sdk, f, indent=1, sort_keys=True)
        f.write("\n")
    print(len(closure), "schemas;", len(models), "SDK models;", len(enums), "SDK enums")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
