#!/usr/bin/python3
"""The chart's and k8s/'s objects, side by side.

k8s/base is the chart rendered with its defaults (release `wsrouter`,
namespace `wsrouter`), with the two Helm-only labels changed; this script
writes it, and the tests check that `kubectl kustomize k8s/base` and each
overlay still equal the chart rendered with the overlay's chart-values.yaml.

    tests/deploy/k8s_render.py write-base     regenerate k8s/base after a chart change
"""

import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(ROOT, "helm", "wsrouter")
BASE = os.path.join(ROOT, "k8s", "base")
RELEASE = NAMESPACE = "wsrouter"
HELM = os.path.join(HERE, "helm.sh")
KUBECTL = os.path.join(HERE, "kubectl.sh")


def helm_template(values_files=(), release=RELEASE, namespace=NAMESPACE, extra=()):
    args = [HELM, "template", release, CHART, "--namespace", namespace]
    for f in values_files:
        args += ["-f", f]
    out = subprocess.run(args + list(extra), check=True, capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def kustomize(path):
    out = subprocess.run([KUBECTL, "kustomize", path], check=True, capture_output=True,
                         text=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def without_helm_labels(obj):
    """helm.sh/chart dropped and managed-by kustomize, wherever labels are."""
    def walk(node):
        if isinstance(node, dict):
            labels = node.get("labels")
            if isinstance(labels, dict) and "app.kubernetes.io/managed-by" in labels:
                labels.pop("helm.sh/chart", None)
                labels["app.kubernetes.io/managed-by"] = "kustomize"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(obj)
    return obj


def key(obj):
    return (obj["kind"], obj["metadata"]["name"])


def by_key(objects):
    return {key(o): o for o in objects}


class Literal(str):
    pass


def _literal(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(Literal, _literal)


def _literals(node):
    if isinstance(node, dict):
        return {k: _literals(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_literals(v) for v in node]
    if isinstance(node, str) and "\n" in node:
        return Literal(node)
    return node


def write_base():
    objects = [without_helm_labels(o) for o in helm_template()]
    files = {}
    for obj in objects:
        obj.setdefault("metadata", {})["namespace"] = NAMESPACE
        name = obj["kind"].lower()
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-dashboard"):
            name = "dashboard"
        files.setdefault(name + ".yaml", []).append(obj)
    os.makedirs(BASE, exist_ok=True)
    for old in os.listdir(BASE):
        if old.endswith(".yaml"):
            os.remove(os.path.join(BASE, old))
    header = ("# Generated from helm/wsrouter with its default values by\n"
              "# tests/deploy/k8s_render.py write-base: do not edit, change the chart and\n"
              "# regenerate (a test checks that the two agree).\n")
    for name, objs in sorted(files.items()):
        with open(os.path.join(BASE, name), "w") as f:
            f.write(header)
            f.write(yaml.safe_dump_all([_literals(o) for o in objs], sort_keys=False, width=1000))
    with open(os.path.join(BASE, "kustomization.yaml"), "w") as f:
        f.write(header)
        f.write(yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                "kind": "Kustomization", "namespace": NAMESPACE,
                                "resources": sorted(files)}, sort_keys=False))


if __name__ == "__main__":
    if sys.argv[1:] == ["write-base"]:
        write_base()
    else:
        sys.exit(__doc__)
