"""Loading specs: every bundled spec loads; bad specs name file, field, position and cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.spec import SpecError, load_spec, load_spec_text
from synth.spec.model import Spec

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))

GOOD = """\
spec: 1
name: tiny
category: test
parameters:
  n: {int: [2, 4]}
unknowns:
  x: {type: int, range: [0, n]}
query:
  kind: value
  ask: "x"
  text: "What is x?"
"""


def test_bundled_specs_exist_in_quantity() -> None:
    assert len(SPECS) >= 3


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_bundled_spec_loads(path: Path) -> None:
    spec, spec_hash = load_spec(path)
    assert spec.name == path.stem
    assert len(spec_hash) == 16
    assert set(spec.levels) >= {"easy", "medium", "hard"}


def test_hash_depends_on_bytes() -> None:
    _, h1 = load_spec_text(GOOD)
    _, h2 = load_spec_text(GOOD + "\n# comment\n")
    assert h1 != h2


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "bad.yaml")
    return info.value


def test_malformed_yaml_names_line() -> None:
    error = _error("spec: 1\nname: [oops\n")
    assert error.file == "bad.yaml"
    assert "malformed YAML" in str(error)
    assert error.line is not None


def test_unknown_field_is_named_with_position() -> None:
    error = _error(
        GOOD.replace(
            "  x: {type: int, range: [0, n]}", "  x: {type: int, range: [0, n], colour: red}"
        )
    )
    assert error.field == "unknowns.x.colour"
    assert "unknown field 'colour'" in str(error)
    assert error.line == 7


def test_parameter_errors_are_specific() -> None:
    error = _error(GOOD.replace("n: {int: [2, 4]}", "n: {itn: [2, 4]}"))
    assert str(error) == "bad.yaml:5:12: parameters.n.itn: unknown field 'itn'"
    error = _error(GOOD.replace("n: {int: [2, 4]}", "n: {int: [2, 4], choice: [1]}"))
    assert "exactly one of int, choice, sample, expr, value (got int, choice)" in str(error)


def test_missing_field() -> None:
    error = _error(GOOD.replace("category: test\n", ""))
    assert error.field == "category"
    assert "required field 'category' is missing" in str(error)


def test_wrong_type_and_enum_value() -> None:
    assert "query.kind" in str(_error(GOOD.replace("kind: value", "kind: guess")))
    assert _error(GOOD.replace("spec: 1", "spec: 7")).field == "spec"


def test_unsafe_expression_names_field_line_and_column() -> None:
    error = _error(GOOD.replace('ask: "x"', 'ask: "x.__class__"'))
    assert error.field == "query.ask"
    assert "attribute access" in str(error)
    assert error.line == 10
    assert str(error).startswith("bad.yaml:10:9:")  # the expression inside the quotes


def test_unsafe_call_in_parameters() -> None:
    error = _error(GOOD.replace("n: {int: [2, 4]}", "n: {expr: \"__import__('os').system('x')\"}"))
    assert error.field == "parameters.n.expr"


def test_cross_field_checks() -> None:
    assert "needs ask" in str(_error(GOOD.replace('  ask: "x"\n', "")))
    assert "is not an unknown" in str(_error(GOOD + "unique_over: [y]\n"))
    assert "default_level" in str(_error(GOOD + "default_level: hard\n"))


def test_not_a_mapping() -> None:
    assert "must be a YAML mapping" in str(_error("- 1\n- 2\n"))


def test_missing_file() -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_spec("/nonexistent/spec.yaml")


def test_json_schema_covers_the_format() -> None:
    schema = Spec.model_json_schema(by_alias=True)
    assert {"spec", "name", "unknowns", "query"} <= set(schema["required"])
    json.dumps(schema)
    assert "int" in schema["$defs"]["Param"]["properties"]


def test_shipped_json_schema_is_current() -> None:
    shipped = Path(__file__).resolve().parents[1] / "docs" / "spec.schema.json"
    assert json.loads(shipped.read_text()) == Spec.model_json_schema(by_alias=True), (
        "run: veriforge schema -o docs/spec.schema.json"
    )


def test_unknown_names_are_caught_at_load_time_with_position() -> None:
    error = _error(GOOD.replace('ask: "x"', 'ask: "x + m"'))
    assert error.field == "query.ask"
    assert "unknown name 'm'" in str(error) and "known here: level, n, x" in str(error)
    assert str(error).startswith("bad.yaml:10:13:")


def test_names_are_scoped_to_where_they_exist() -> None:
    # unknowns cannot shape parameters; a query's `x` exists only in `which` conditions
    assert "unknown name 'x'" in str(_error(GOOD.replace("n: {int: [2, 4]}", "n: {int: [2, x]}")))
    lets = GOOD.replace('  ask: "x"', '  let: {a: "b + 1", b: "1"}\n  ask: "x"')
    assert "unknown name 'b'" in str(_error(lets))
    ok = GOOD.replace('  ask: "x"', '  let: {b: "1", a: "b + x"}\n  ask: "x + a"')
    load_spec_text(ok)
