"""What runs inside the grading sandbox (:mod:`course_grader.grading.sandbox`).

This package is bound read-only into every sandbox as the top-level package ``grading_runtime``, so it
imports nothing of ``course_grader`` (relative imports only): the kernel's sandbox holds the student
package and this runtime, never the grader. Outside the sandbox the same modules are
``course_grader.grading.runtime.*``, which is how the tests reach them.

* :mod:`.server` — the warm fork server each sandbox runs; every job runs in a child forked from it;
* :mod:`.notebook` — the kernel run: a notebook executed top to bottom for the feedback's outputs;
* :mod:`.kernel` — kernels forked from the warm server for that run;
* :mod:`.agent` — the graded run's student side: the answer cells, then the judge's requests (the judge, with
  every test cell and check, runs outside: :mod:`course_grader.grading.judge`);
* :mod:`.wire` — the data-only channel between them (JSON and safetensors, nothing unpickled);
* :mod:`.watch` — the library functions the checks rely on, watched while the student's code runs.
"""
