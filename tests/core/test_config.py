
import pytest

from core.config import ConfigError, load_scoring, load_sources


def test_default_files_are_valid():
    assert load_scoring().score.weights.T == 0.30
    assert load_sources().sources[0].kind == "files"


def test_scoring_hash_is_stable():
    assert load_scoring().content_hash() == load_scoring().content_hash()


@pytest.mark.parametrize(
    "body, key",
    [
        ("sources: [{name: a, kind: ftp}]", "sources.0.kind"),
        ("sources: [{name: a, kind: sql, feed: transactions, url: x}]", "needs 'query'"),
        ("sources: [{name: a, kind: http, feed: nope, url: x}]", "unknown feed 'nope'"),
        ("sources: [{name: a, kind: files, options: {page_size: 0}}]", "sources.0.options.page_size"),
        ("sources: [{name: a, kind: files, options: {column_mapping: {transactions: {x: nope}}}}]", "'nope' is not a column"),
        ("sources: [{name: a, kind: files, colour: red}]", "sources.0.colour"),
        ("sources: [{name: a, kind: files}, {name: a, kind: files}]", "duplicate source name"),
        ("sources: [unclosed", "not valid YAML"),
    ],
)
def test_invalid_sources_name_the_key(tmp_path, body, key):
    f = tmp_path / "sources.yaml"
    f.write_text(body)
    with pytest.raises(ConfigError) as exc:
        load_sources(f)
    assert str(f) in str(exc.value)
    assert key in str(exc.value)


def test_invalid_scoring_weights(tmp_path):
    from core.config import DEFAULT_SCORING

    text = DEFAULT_SCORING.read_text().replace("R: 0.10", "R: 0.20")
    f = tmp_path / "scoring.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match="sum to 1.0"):
        load_scoring(f)
