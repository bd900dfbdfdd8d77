import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from harvester.cli.main import cli
from harvester.config import load_config
from harvester.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "h.toml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_packaged_default_config_loads_with_mast_and_pds():
    config = load_config()
    assert set(config.sources) >= {"mast", "pds"}
    assert config.sources["mast"].base_url == "https://mast.stsci.edu"
    assert config.sources["pds"].base_url == "https://pds.nasa.gov/api/search/1"


def test_harvester_config_env_is_used_when_no_option(tmp_path, monkeypatch):
    path = write(tmp_path, '[catalog]\npath = "from-env.db"\n')
    monkeypatch.setenv("HARVESTER_CONFIG", path)
    assert load_config().catalog.path == "from-env.db"


def test_catalog_option_overrides_config(tmp_path):
    path = write(tmp_path, '[catalog]\npath = "a.db"\n')
    assert load_config(path, catalog_override="b.db").catalog.path == "b.db"


@pytest.mark.parametrize("text, expected", [
    ('[sources.mast]\nbase_url = "https://x"\npage_sise = 3\n', "[sources.mast] page_sise: unknown key"),
    ('[sources.mast]\nbase_url = "https://x"\npage_size = "big"\n',
     "[sources.mast] page_size: expected an integer"),
    ('[sources.pds]\nbase_url = "ftp://example.org"\n', "[sources.pds] base_url: not an http(s) URL"),
    ('[sources.eso]\nbase_url = "https://x"\n', "[sources.eso] kind: unknown source kind 'eso'"),
    ('[http]\nrate_limit = 0\n', "[http] rate_limit: must be greater than 0"),
    ('[catalogue]\npath = "x"\n', "[catalogue]: unknown table"),
    ('[target]\naliases = "3I"\n', "[target] aliases: expected a list of strings"),
    ('[catalog\n', "not valid TOML"),
])
def test_bad_config_names_file_key_and_problem(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert path in str(info.value)
    assert expected in str(info.value)


def test_bad_config_exits_2_with_one_line(tmp_path):
    path = write(tmp_path, '[sources.mast]\nbase_url = "https://x"\npage_size = "big"\n')
    result = CliRunner().invoke(cli, ["run", "--config", path, "--catalog", str(tmp_path / "c.db")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "page_size" in lines[0] and path in lines[0]
    assert not (tmp_path / "c.db").exists()


def test_missing_config_file_exits_2_without_traceback(tmp_path):
    missing = str(tmp_path / "nope.toml")
    proc = subprocess.run([sys.executable, "-m", "harvester.cli", "status", "--config", missing],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"Error: {missing}: config file not found"


def test_unknown_source_name_on_the_command_line_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["run", "--source", "hubble", "--catalog", str(tmp_path / "c.db")])
    assert result.exit_code == 2
    assert "no source named hubble" in result.output
