"""`socfwd --check-config --config FILE` refuses bad configs and bad rules with
a precise error: non-zero exit (not a crash), and the output names the file,
a line number and the field. Expectations are loose about the format: the
file's name anywhere, a line number written as `FILE:N` or `line N` (give or
take one line), the field name anywhere (case-insensitive).

No namespaces and no root needed; only the socfwd binary."""
import re
from pathlib import Path

import pytest

from conftest import LABD, SOCFWD_BIN, run

pytestmark = pytest.mark.socfwd


def render(tmp: Path, rules_text=None, config_edit=None):
    """The lab's demo config and rules, rendered into tmp; returns (config, rules)."""
    rules = tmp / "rules.yaml"
    rules.write_text(rules_text if rules_text is not None else (LABD / "rules.yaml").read_text())
    text = (LABD / "socfwd.yaml.in").read_text()
    for k, v in {"@MODE@": "router", "@RULES@": str(rules), "@EVE@": str(tmp / "eve.json"),
                 "@STATE@": str(tmp), "@QUEUES@": "2", "@BYPASS@": "true", "@LOG_LEVEL@": "info"}.items():
        text = text.replace(k, v)
    if config_edit:
        text = config_edit(text)
    config = tmp / "socfwd.yaml"
    config.write_text(text)
    return config, rules


def check(config):
    return run([SOCFWD_BIN, "--check-config", "--config", config], timeout=30)


def line_of(text, needle, start=1):
    """1-based number of the first line at or after `start` that contains needle."""
    for i, ln in enumerate(text.splitlines(), 1):
        if i >= start and needle in ln:
            return i
    raise AssertionError(f"{needle!r} not in text")


def reported_lines(output, filename):
    pats = [rf"{re.escape(filename)}\"?'?\s*[:,(]\s*(?:line\s*)?(\d+)",
            r"\bline\s*[:=]?\s*(\d+)"]
    found = set()
    for p in pats:
        found.update(int(m) for m in re.findall(p, output, flags=re.I))
    return found


DEMO = (LABD / "rules.yaml").read_text()
RULE_9001 = line_of(DEMO, "name: drop-tcp-9001")
RULE_9002 = line_of(DEMO, "name: reject-tcp-9002")


def case_rules_bad_action():
    n = line_of(DEMO, "action: DROP", RULE_9001)
    lines = DEMO.splitlines(True)
    lines[n - 1] = lines[n - 1].replace("DROP", "DROPP")
    return dict(rules="".join(lines), file="rules.yaml", lines=(n, n), fields=("action",))


def case_rules_bad_port():
    n = line_of(DEMO, "value: 9001", RULE_9001)
    lines = DEMO.splitlines(True)
    lines[n - 1] = lines[n - 1].replace("9001", "70000")
    return dict(rules="".join(lines), file="rules.yaml", lines=(n, n), fields=("dst_port", "value", "port"))


def case_rules_missing_action():
    n = line_of(DEMO, "action: DROP", RULE_9001)
    lines = DEMO.splitlines(True)
    del lines[n - 1]
    # Reported at the rule (mapping start) or anywhere inside it.
    return dict(rules="".join(lines), file="rules.yaml", lines=(RULE_9001, RULE_9002 - 2), fields=("action",))


def case_rules_bad_operator():
    n = line_of(DEMO, "operator: eq", RULE_9001)
    lines = DEMO.splitlines(True)
    lines[n - 1] = lines[n - 1].replace("operator: eq", "operator: eqq", 1)
    return dict(rules="".join(lines), file="rules.yaml", lines=(n, n), fields=("operator",))


def case_rules_unknown_key():
    n = line_of(DEMO, "priority: 100", RULE_9001)
    lines = DEMO.splitlines(True)
    lines[n - 1] = lines[n - 1].replace("priority:", "priorty:")
    return dict(rules="".join(lines), file="rules.yaml", lines=(n, n), fields=("priorty",))


def case_rules_yaml_syntax():
    n = line_of(DEMO, "value: 9001", RULE_9001)
    lines = DEMO.splitlines(True)
    lines[n - 1] = lines[n - 1].replace("value: 9001 }", "value: 9001")   # unclosed flow mapping
    # A parser notices a little later than the damage: allow a few lines.
    return dict(rules="".join(lines), file="rules.yaml", lines=(n, n + 3), fields=())


def case_config_unknown_key():
    edit = lambda t: t.replace("default_action: ALLOW\n", "default_action: ALLOW\nbogus_option: 1\n")
    return dict(config_edit=edit, file="socfwd.yaml", needle="bogus_option:", fields=("bogus_option",))


def case_config_unknown_nested_key():
    edit = lambda t: t.replace("  first: 0\n", "  first: 0\n  cuont: 2\n")
    return dict(config_edit=edit, file="socfwd.yaml", needle="cuont:", fields=("cuont",))


def case_config_bad_mode():
    edit = lambda t: t.replace("mode: router\n", "mode: routr\n")
    return dict(config_edit=edit, file="socfwd.yaml", needle="mode: routr", fields=("mode",))


def case_config_bad_type():
    edit = lambda t: re.sub(r"(?m)^(\s*count:).*$", r"\1 two", t)
    return dict(config_edit=edit, file="socfwd.yaml", needle="count: two", fields=("count",))


CASES = {
    "rules-bad-action-DROPP": case_rules_bad_action,
    "rules-bad-port-70000": case_rules_bad_port,
    "rules-missing-action": case_rules_missing_action,
    "rules-bad-operator": case_rules_bad_operator,
    "rules-unknown-key": case_rules_unknown_key,
    "rules-yaml-syntax-error": case_rules_yaml_syntax,
    "config-unknown-key": case_config_unknown_key,
    "config-unknown-nested-key": case_config_unknown_nested_key,
    "config-bad-mode": case_config_bad_mode,
    "config-bad-type": case_config_bad_type,
}


def test_demo_config_is_accepted(tmp_path):
    """Positive control: the lab's own config and rules pass the check."""
    config, _ = render(tmp_path)
    p = check(config)
    assert p.returncode == 0, f"demo config refused:\n{p.stdout}\n{p.stderr}"


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_config_is_refused(tmp_path, case):
    c = CASES[case]()
    config, rules = render(tmp_path, rules_text=c.get("rules"), config_edit=c.get("config_edit"))
    bad = rules if c["file"] == "rules.yaml" else config
    text = bad.read_text()
    if "needle" in c:
        n = line_of(text, c["needle"])
        c["lines"] = (n, n)
    else:
        assert text != (LABD / "rules.yaml").read_text()
    p = check(config)
    out = p.stdout + p.stderr
    assert p.returncode > 0, f"exit {p.returncode} (expected a refusal, not success or a crash):\n{out}"
    assert p.returncode < 128, f"looks like a crash (exit {p.returncode}):\n{out}"
    assert bad.name in out, f"the error should name the file {bad.name}:\n{out}"
    lo, hi = c["lines"]
    got = reported_lines(out, bad.name)
    assert any(lo - 1 <= n <= hi + 1 for n in got), \
        f"the error should give a line number near {lo}..{hi} (found {sorted(got)}):\n{out}"
    if c["fields"]:
        assert any(f.lower() in out.lower() for f in c["fields"]), \
            f"the error should name the field ({' or '.join(c['fields'])}):\n{out}"
