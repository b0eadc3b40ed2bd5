import subprocess
import sys

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
    pytest.importorskip("matplotlib")
    assert fig.stat().st_size > 1000


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
