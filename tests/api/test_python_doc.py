"""docs/python.md runs as written: every ```python block, in order, in one namespace (as in
a notebook), in a fresh folder. A block that raises, or an assert in it that fails, fails
this test."""

from __future__ import annotations

import re

from conftest import ROOT

DOC = ROOT / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_python_walkthrough_runs(tmp_path, monkeypatch, capsys):
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} block {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "'tiny'" in out and "my_market" in out
    assert "platform.take_rat" in out  # the misspelt key is reported by its path
    assert "| metric (95% CI over 2 seeds) | lax | strict |" in out
    market = namespace["market"]
    assert market.day == 10 and not market.running
