"""The Debian package (Scripts/package-deb): what it installs (binaries,
systemd unit, sysusers groups, configuration as conffiles, socfwctl's shell
completions for bash, zsh and fish), its Depends, and that its binaries run
on a machine without the Swift toolchain (the toolchain hidden by a tmpfs
in a private mount namespace)."""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import IS_ROOT, NOT_ROOT_REASON, REPO, SOCFWD_BIN

BIN_DIR = Path(SOCFWD_BIN).parent


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    if not (BIN_DIR / "socfwctl").exists():
        pytest.skip(f"no release build in {BIN_DIR}")
    out = tmp_path_factory.mktemp("deb")
    p = subprocess.run([str(REPO / "Scripts" / "package-deb"), "--out", str(out), "--bin", str(BIN_DIR)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    deb = Path(p.stdout.strip().splitlines()[-1])
    assert deb.is_file() and deb.name.startswith("socfw_") and deb.name.endswith(".deb"), p.stdout
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=120)
    return deb, root


def test_the_package_installs_binaries_units_configuration_and_completions(package):
    deb, root = package
    for path in ("usr/sbin/socfwd", "usr/bin/socfwctl", "lib/systemd/system/socfwd.service",
                 "usr/lib/sysusers.d/socfw.conf", "usr/lib/sysusers.d/socfw-api.conf", "usr/sbin/socfw-api",
                 "lib/systemd/system/socfw-api.service", "etc/socfw/socfwd.yaml", "etc/socfw/socfw-api.yaml", "etc/socfw/rules.d/50-example.yaml",
                 "usr/share/bash-completion/completions/socfwctl", "usr/share/zsh/vendor-completions/_socfwctl",
                 "usr/share/fish/vendor_completions.d/socfwctl.fish", "usr/share/doc/socfw/README.md"):
        assert (root / path).exists(), f"{path} is not in the package"
    assert os.readlink(root / "usr/sbin/socfwd") == "../lib/socfw/bin/socfwd"
    # Every unit starts a program the package installs, and documents a file it installs.
    import re
    for unit in (root / "lib/systemd/system").glob("*.service"):
        text = unit.read_text()
        for program in re.findall(r"(?m)^Exec\w+=(/\S+)", text):
            assert (root / program.lstrip("/")).exists() or program == "/bin/kill", f"{unit.name}: {program} is not in the package"
        for doc in re.findall(r"(?m)^Documentation=file://(/\S+)", text):
            assert (root / doc.lstrip("/")).exists(), f"{unit.name}: {doc} is not in the package"
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True).stdout
    depends = next(line for line in info.splitlines() if line.strip().startswith("Depends:"))
    for lib in ("libnetfilter-queue1", "libmnl0", "libnftnl11", "libpcre2-8-0", "libhyperscan5", "libsqlite3-0"):
        assert lib in depends, depends
    name = subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], capture_output=True, text=True).stdout.strip()
    assert name == "socfw"
    ctl = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True).stdout
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(ctl)) as t:
        listed = t.extractfile("./conffiles").read().decode().split()
        postinst = t.extractfile("./postinst").read().decode()
    assert listed == ["/etc/socfw/rules.d/50-example.yaml", "/etc/socfw/socfw-api.yaml", "/etc/socfw/socfwd.yaml"], listed
    assert "systemd-sysusers" in postinst and "systemctl start" not in postinst


def test_bash_completion_completes_socfwctl_subcommands(package):
    _, root = package
    script = root / "usr/share/bash-completion/completions/socfwctl"
    # Ask the completion function what follows `socfwctl to`, as bash would on Tab.
    p = subprocess.run(["bash", "-c", f"""
        source {script}
        COMP_WORDS=(socfwctl to); COMP_CWORD=1; COMP_LINE='socfwctl to'; COMP_POINT=${{#COMP_LINE}}
        _socfwctl socfwctl to socfwctl
        printf '%s\\n' "${{COMPREPLY[@]}}"
        complete -p socfwctl
        """], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "tokens" in p.stdout.split() and "complete" in p.stdout and "_socfwctl socfwctl" in p.stdout, p.stdout
    zsh = (root / "usr/share/zsh/vendor-completions/_socfwctl").read_text()
    assert zsh.startswith("#compdef socfwctl") and "quarantine" in zsh and "alerts" in zsh


@pytest.mark.skipif(not IS_ROOT, reason=NOT_ROOT_REASON)
def test_the_packaged_binaries_run_without_the_swift_toolchain(package):
    _, root = package
    toolchain = "/opt/swift"
    if not os.path.isdir(toolchain):
        pytest.skip("no toolchain at /opt/swift to hide")
    script = (f"mount -t tmpfs none {toolchain} && "
              f"{root}/usr/sbin/socfwd --version && {root}/usr/bin/socfwctl --help >/dev/null && "
              f"{root}/usr/sbin/socfw-api --help >/dev/null && echo packaged-ok; "
              f"{BIN_DIR}/socfwctl --help >/dev/null 2>&1 || echo unpackaged-fails")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert "packaged-ok" in p.stdout, p.stdout + p.stderr
    # The check is real: the build tree's binary needs the toolchain.
    assert "unpackaged-fails" in p.stdout, p.stdout + p.stderr
