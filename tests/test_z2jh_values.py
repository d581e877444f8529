"""hub/z2jh-values.yaml, the Kubernetes path on paper (issue 20): what can be checked without a cluster."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COURSE_ID = "transformer-course"


def values() -> dict:
    return yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())


def test_values_name_the_course_services_groups_and_images():
    v = values()
    assert COURSE_ID in v["hub"]["services"]  # the formgrader service is named after the course id
    assert set(v["hub"]["loadGroups"]) == {f"formgrade-{COURSE_ID}", f"nbgrader-{COURSE_ID}"}
    assert v["singleuser"]["image"]["name"] == "transformer-course/student"
    assert v["custom"]["formgrader"]["image"].startswith("transformer-course/grader:")
    version = (ROOT / "pyproject.toml").read_text().split('version = "')[1].split('"')[0]
    assert v["singleuser"]["image"]["tag"] == version and v["custom"]["formgrader"]["image"].endswith(version)


def test_values_cull_limit_and_share_the_exchange_and_gradebook():
    v = values()
    assert v["cull"]["enabled"] and v["cull"]["timeout"] > 0
    assert v["singleuser"]["memory"]["limit"] and v["singleuser"]["cpu"]["limit"]
    mounts = {m["mountPath"] for m in v["singleuser"]["storage"]["extraVolumeMounts"]}
    assert v["singleuser"]["extraEnv"]["NBGRADER_EXCHANGE"] in mounts
    assert v["custom"]["formgrader"]["env"]["NBGRADER_DB_URL"].startswith("postgresql+psycopg2://")
    # the student image's nbgrader config is the one the single-server hub uses
    assert (ROOT / "hub" / "jupyter-student" / "nbgrader_config.py").is_file()


def test_the_readme_shows_this_values_file():
    assert "hub/z2jh-values.yaml" in (ROOT / "README.md").read_text()


def test_the_grading_sandbox_pod_keeps_the_sandboxs_promises():
    """hub/k8s/grading-sandbox.yaml: the bubblewrap sandbox as a pod, its limits the same as nbgrader_config.py's."""
    import re

    pod, policy = yaml.safe_load_all((ROOT / "hub" / "k8s" / "grading-sandbox.yaml").read_text())
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert spec["automountServiceAccountToken"] is False and not spec["hostNetwork"] and not spec["hostPID"]
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] >= 3_100_000
    context = container["securityContext"]
    assert context["capabilities"]["drop"] == ["ALL"] and context["readOnlyRootFilesystem"]
    assert context["allowPrivilegeEscalation"] is False and "grader" not in container["image"]
    assert {v["name"] for v in spec["volumes"]} == {"sub", "tmp"}  # nothing of the course folder
    config = (ROOT / "nbgrader_config.py").read_text()
    setting = lambda name: float(re.search(rf"c\.TrustedExecute\.{name} = (\d+)", config).group(1))  # noqa: E731
    assert spec["activeDeadlineSeconds"] == setting("submission_seconds")
    assert container["resources"]["limits"]["memory"] == f"{int(setting('memory_mb') / 1024)}Gi"
    assert all(v["emptyDir"]["sizeLimit"] == f"{int(setting('disk_mb'))}Mi" for v in spec["volumes"])
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
