"""The grader itself: stubs score 0, broken or hanging answers never stop it, exercises/ is generated."""

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from planted_answers import PLANTS, planted, rounds

ROOT = Path(__file__).resolve().parents[1]


def grade(folder, tmp_path, *extra, tests="tests/grading"):
    results = tmp_path / "results.json"
    tests = [tests] if isinstance(tests, str) else list(tests)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, f"--impl={folder}", f"--results-json={results}",
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



def _chapter_tests():
    """Chapter -> the names of its grading test functions."""
    return {path.stem.removeprefix("test_"): {line[4:].split("(")[0] for line in path.read_text().splitlines()
                                              if line.startswith("def test_")}
            for path in (ROOT / "tests" / "grading").glob("test_*.py")}


@pytest.mark.parametrize("plants", rounds(), ids=lambda group: "+".join(sorted({p.chapter[:4] for p in group})))
def test_planted_wrong_answers_lose_points_and_correct_alternatives_keep_them(tmp_path, plants):
    """tests/planted_answers.py: per exercise, the mistakes students make lose points (calling the
    routine being re-implemented, ignoring an argument); other correct formulations keep full marks;
    a plant in one exercise leaves the chapter's other exercises at full marks."""
    folder = tmp_path / "submission"
    folder.mkdir()
    for path in (ROOT / "solutions").glob("*.py"):
        (folder / path.name).write_text(path.read_text())
    for plant in plants:
        path = folder / f"{plant.chapter}.py"
        path.write_text(planted(path.read_text(), plant.function, plant.body))
    results, _ = grade(folder, tmp_path, tests=[f"tests/grading/test_{p.chapter}.py" for p in plants])
    scores, functions = by_name(results), _chapter_tests()
    for plant in plants:
        chapter = {name: s for name, s in scores.items() if name.split("[")[0] in functions[plant.chapter]}
        assert chapter, f"no grading tests ran for {plant.chapter}"
        label = f"{plant.chapter}.{plant.function} ({plant.why})"
        if plant.verdict == "right":
            lost = [name for name, s in chapter.items() if s == 0]
            assert not lost, f"{label} is correct but lost {lost}"
            continue
        hit = [s for name, s in chapter.items() if name.startswith(plant.exercise)]
        assert hit and min(hit) == 0, f"{label} kept full marks"
        others = [name for name, s in chapter.items() if s == 0 and not name.startswith(plant.scope)]
        assert not others, f"{label} also cost the chapter's other exercises: {others}"


def test_every_exercise_has_a_planted_wrong_answer_and_a_forbidden_or_varied_argument():
    planted_functions = {(p.chapter, p.function.split(".")[0]) for p in PLANTS if p.verdict == "wrong"}
    for path in (ROOT / "solutions").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and "### BEGIN SOLUTION" in ast.get_source_segment(
                    path.read_text(), node):
                assert (path.stem, node.name) in planted_functions, f"no planted wrong answer for {path.stem}.{node.name}"
