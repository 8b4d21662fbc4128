#!/usr/bin/env python3
"""Turns deploy/kubernetes/ into YAML that `podman kube play` (podman 4.3, Debian 12) runs, for deploy/test-kube.sh.

podman 4.3's kube play knows Pods, Deployments, PersistentVolumeClaims and ConfigMaps only, so this changes the
objects around the pod specs and nothing inside them (image, args, probes, security context and mounts are kept):
  - StatefulSet dstar-ps  -> Pod dstar-ps (restartPolicy Always) + a PersistentVolumeClaim per volumeClaimTemplate,
                             named <template>-<set>-0 as Kubernetes names it;
  - Indexed Job           -> one Pod <job>-<i> per completion index i, with JOB_COMPLETION_INDEX=i set as the Job
                             controller sets it;
  - Secret                -> a ConfigMap of the decoded data, and `secret:` volumes -> `configMap:` volumes
                             (files world-readable: podman applies no fsGroup, and the pods run as uid 10001);
  - Service               -> dropped: on a podman network a pod is reached by its name, which is the Service's.

Usage: kube-play.py MANIFEST.yaml... > play.yaml
"""
import base64
import copy
import sys

import yaml


def convert(documents):
    secrets = {}
    out = []
    for doc in documents:
        kind = doc.get("kind")
        if kind == "Secret":
            name = doc["metadata"]["name"]
            data = {k: base64.b64decode(v).decode("utf-8") for k, v in (doc.get("data") or {}).items()}
            data.update(doc.get("stringData") or {})
            secrets[name] = data
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
        elif kind == "ConfigMap":
            out.append(doc)
        elif kind == "StatefulSet":
            name = doc["metadata"]["name"]
            spec = copy.deepcopy(doc["spec"]["template"]["spec"])
            spec["restartPolicy"] = "Always"
            for template in doc["spec"].get("volumeClaimTemplates", []):
                claim = f'{template["metadata"]["name"]}-{name}-0'
                out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
                            "spec": template["spec"]})
                spec.setdefault("volumes", []).append(
                    {"name": template["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
            out.append(pod(name, doc["spec"]["template"], spec))
        elif kind == "Job":
            if doc["spec"].get("completionMode") != "Indexed":
                sys.exit(f'kube-play.py: Job {doc["metadata"]["name"]} is not Indexed')
            for index in range(int(doc["spec"]["completions"])):
                spec = copy.deepcopy(doc["spec"]["template"]["spec"])
                for container in spec["containers"]:
                    container.setdefault("env", []).append({"name": "JOB_COMPLETION_INDEX", "value": str(index)})
                out.append(pod(f'{doc["metadata"]["name"]}-{index}', doc["spec"]["template"], spec))
        elif kind == "Service":
            continue
        else:
            sys.exit(f"kube-play.py: no podman equivalent for kind {kind}")

    for doc in out:
        if doc["kind"] != "Pod":
            continue
        for volume in doc["spec"].get("volumes", []):
            if "secret" in volume:
                secret = volume.pop("secret")
                if secret["secretName"] not in secrets:
                    sys.exit(f'kube-play.py: Secret {secret["secretName"]} is not among the inputs (make-secrets.sh output)')
                volume["configMap"] = {"name": secret["secretName"], "defaultMode": 0o444}
    return out


def pod(name, template, spec):
    metadata = {"name": name, "labels": dict(template.get("metadata", {}).get("labels", {}))}
    if template.get("metadata", {}).get("annotations"):
        metadata["annotations"] = dict(template["metadata"]["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def main():
    documents = []
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            documents.extend(d for d in yaml.safe_load_all(f) if d)
    if not documents:
        sys.exit("usage: kube-play.py MANIFEST.yaml... > play.yaml")
    yaml.safe_dump_all(convert(documents), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
