import subprocess
import sys

import numpy as np
import pytest

from skmtl.__main__ import main


def test_demo_quick_prints_every_task_and_model(capsys, tmp_path):
    fig = tmp_path / "demo.png"
    main(["demo", "--quick", "--figure", str(fig)])
    out = capsys.readouterr().out
    for task in ("house", "apartment"):
        assert f"R2 {task}" in out and f"MAE {task}" in out
    for model in (
        "independent ridge",
        "pooled ridge",
        "MultiTaskRidge",
        "MultiTaskLasso",
        "graph penalty",
    ):
        assert out.count(model) >= 3  # progress line, table row, transfer gain
    assert "Transfer gain" in out
    assert "SYNTHETIC data" in out
    # the conclusion is a paired comparison printed with its uncertainty
    assert "Paired comparison, declared in advance" in out
    for task in ("house", "apartment"):
        line = next(s for s in out.splitlines() if s.strip().startswith(f"{task}: "))
        assert "95% CI [" in line and "of 4 splits" in line and "$" in line
    pytest.importorskip("matplotlib")
    assert fig.stat().st_size > 1000


def test_paired_interval_matches_a_t_test():
    from scipy import stats

    from skmtl._demo import _paired

    d = np.array([-3.0, -1.0, -2.5, 0.5, -1.5, -2.0])
    mean, (lo, hi), wins, n = _paired(d)
    res = stats.ttest_1samp(d, 0.0)
    ci = res.confidence_interval(0.95)
    assert mean == pytest.approx(d.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))
    assert (wins, n) == (5, 6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--school", "no/such/school.mat"], "no such file"),
        (["--figure", "no_such_folder/demo.png"], "does not exist"),
        (["--figure", "demo.txt"], "unknown image type"),
    ],
)
def test_bad_paths_fail_before_the_run(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--quick", *args])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "GridSearchCV" not in captured.out  # nothing was fitted


def test_version():
    import skmtl

    res = subprocess.run(
        [sys.executable, "-m", "skmtl", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.strip() == f"skmtl {skmtl.__version__}"


def test_demo_school_quick(shared_data, capsys):
    main(
        ["demo", "--quick", "--school", str(shared_data / "school.mat"), "--figure", ""]
    )
    out = capsys.readouterr().out
    assert "School: 20 schools" in out
    assert "mean R2" in out


def test_module_entry_point_runs():
    res = subprocess.run(
        [sys.executable, "-m", "skmtl", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in res.stdout


def test_demo_runs_without_pandas(tmp_path):
    # the README's first command installs only the plot extra: no pandas
    code = (
        "import sys\n"
        "class NoPandas:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas':\n"
        "            raise ModuleNotFoundError(\"No module named 'pandas'\")\n"
        "sys.meta_path.insert(0, NoPandas())\n"
        "from skmtl.__main__ import main\n"
        "main(['demo', '--quick', '--figure', ''])\n"
        "assert 'pandas' not in sys.modules\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "R2 apartment" in res.stdout
