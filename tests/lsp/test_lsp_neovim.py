"""`vaultsync lsp` driven by Neovim's built-in LSP client (`nvim --headless`): a client
nobody on this project wrote. Diagnostics arrive and go-to-definition lands on the file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_vault

REPO = Path(__file__).resolve().parents[2]
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="Neovim is not installed (`apt-get install neovim`; .ci/run installs it as root)",
)

# Neovim 0.7 (Debian 12) has no `vim.lsp.start` yet: start_client + buf_attach_client.
SCRIPT = r"""
local out = {}
local function finish(ok)
  local file = io.open(OUTPUT, "w")
  file:write(vim.fn.json_encode(out))
  file:close()
  vim.cmd(ok and "qa!" or "cquit!")
end
local ok, err = pcall(function()
  local client = vim.lsp.start_client({
    name = "vaultsync",
    cmd = {PYTHON, "-m", "vaultsync", "lsp"},
    cmd_cwd = REPO,
    root_dir = VAULT,
    workspace_folders = {{uri = vim.uri_from_fname(VAULT), name = "vault"}},
  })
  assert(client, "the server did not start")
  vim.cmd("edit " .. vim.fn.fnameescape(VAULT .. "/Home.md"))
  local buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf, client)
  out.diagnostics_arrived = vim.wait(60000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 50)
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, {code = d.code, lnum = d.lnum, col = d.col, source = d.source})
  end
  -- On the link `[[Target note]]` (line 3), then go to its definition.
  vim.api.nvim_win_set_cursor(0, {3, 8})
  vim.lsp.buf.definition()
  out.jumped = vim.wait(30000, function()
    return vim.api.nvim_buf_get_name(0):match("Target note%.md$") ~= nil
  end, 50)
  out.landed = vim.api.nvim_buf_get_name(0)
  out.cursor = vim.api.nvim_win_get_cursor(0)
  vim.lsp.stop_client(client)
end)
out.error = ok and vim.NIL or tostring(err)
finish(ok)
"""


def test_neovim_gets_diagnostics_and_goes_to_definition(tmp_path: Path) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {
            ".vaultsync.toml": "[backlinks]\nenabled = false\n",
            "Home.md": "# Home\n\nSee [[Target note#Details]] and [[Missing]].\n",
            "sub/Target note.md": "# Target note\n\nIntro.\n\n## Details\nHere.\n",
        },
    )
    output = tmp_path / "out.json"
    prelude = (
        f"local OUTPUT = {json.dumps(str(output))}\n"
        f"local PYTHON = {json.dumps(sys.executable)}\n"
        f"local REPO = {json.dumps(str(REPO))}\n"
        f"local VAULT = {json.dumps(str(vault))}\n"
    )
    script = tmp_path / "drive.lua"
    script.write_text(prelude + SCRIPT, encoding="utf-8")
    assert NVIM is not None
    run = subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"luafile {script}"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert output.exists(), f"nvim exited {run.returncode}: {run.stdout}\n{run.stderr}"
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["error"] is None, result
    assert result["diagnostics_arrived"] is True
    assert result["diagnostics"] == [{"code": "L001", "lnum": 2, "col": 32, "source": "vaultsync"}]
    assert result["jumped"] is True
    assert Path(result["landed"]) == vault / "sub/Target note.md"
    assert result["cursor"] == [5, 0]  # on `## Details` (1-based line, 0-based column)
    assert run.returncode == 0
