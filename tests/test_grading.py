"""The grader itself: stubs score 0, broken or hanging answers never stop it, exercises/ is generated."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def grade(folder, tmp_path, *extra, tests="tests/grading"):
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", tests, f"--impl={folder}", f"--results-json={results}",
         "-q", "-p", "no:cacheprovider", "--tb=no", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 0 all passed, 1 some failed: never a crash
    return json.loads(results.read_text()), proc.stdout


def by_name(results):
    return {t["name"]: t["score"] for t in results["tests"]}


def test_solutions_get_full_marks_and_stubs_get_zero(tmp_path):
    full, out = grade("solutions", tmp_path)
    assert full["score"] == full["max_score"] > 0 and "TOTAL" in out
    stubs, out = grade("exercises", tmp_path)
    assert stubs["score"] == 0 and stubs["max_score"] == full["max_score"]
    assert all("NotImplementedError" in t["output"] for t in stubs["tests"])


def test_hanging_raising_and_unimportable_answers_score_zero_and_the_rest_is_graded(tmp_path):
    source = (ROOT / "solutions" / "convolution.py").read_text()
    broken = tmp_path / "broken"
    broken.mkdir()
    # conv2d_loops hangs; im2col raises; conv2d_im2col does not use im2col and stays correct.
    # (The timeout leaves room for a correct answer on a loaded machine: 1 s flaked in CI.)
    source = source.replace("def conv2d_loops(x, weight, bias=None, stride=1, padding=0):\n",
                            "def conv2d_loops(x, weight, bias=None, stride=1, padding=0):\n    while True:\n        pass\n", 1)
    source = source.replace("def im2col(x, kernel_size, stride=1):\n",
                            "def im2col(x, kernel_size, stride=1):\n    raise ValueError('oops')\n", 1)
    source = source.replace("cols = im2col(x, (kh, kw), stride)", "cols = F.unfold(x, (kh, kw), stride=stride)")
    (broken / "convolution.py").write_text(source)
    results, _ = grade(broken, tmp_path, "--exercise-timeout=3", tests="tests/grading/test_convolution.py")
    scores = by_name(results)
    assert all(s == 0 for name, s in scores.items() if "conv2d_loops" in name or "im2col_matches" in name)
    assert all(s > 0 for name, s in scores.items() if name.startswith("test_conv2d_im2col"))
    assert any("Timeout" in t["output"] for t in results["tests"])

    (broken / "convolution.py").write_text("def conv2d_loops(:\n")  # a syntax error
    results, _ = grade(broken, tmp_path)
    assert results["score"] == 0 and results["max_score"] > 0
    outputs = {t["name"].split("[")[0]: t["output"] for t in results["tests"]}
    assert all("could not import convolution.py" in out for name, out in outputs.items() if "conv2d" in name or "im2col" in name)
    assert "no pooling.py in" in outputs["test_max_pool2d_forward"]


def test_exercises_are_generated_from_solutions():
    spec = importlib.util.spec_from_file_location("generate_exercises", ROOT / "tools" / "generate_exercises.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.main(["--check"]) == 0, "exercises/ differs from solutions/: run `make exercises`"
    stub = generator.stub("def f(x):\n    '''Hint: add one.'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n", "f.py")
    assert "raise NotImplementedError('f: not implemented yet. Hint: add one.')" in stub and "x + 1" not in stub
    with pytest.raises(ValueError, match="without"):
        generator.stub("def f():\n    ### BEGIN SOLUTION\n    pass\n", "f.py")
