"""bench/noise: false findings of `greenlight scan` on pinned real source trees (see bench/noise)."""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REVIEWED = os.path.join(ROOT, "bench", "noise-reviewed.tsv")
SOURCES = os.path.join(ROOT, "bench", "noise-sources.txt")
GOAL_PER_100MB = 5.0
# Debian's stable release the `deb` lines of bench/noise-sources.txt are pinned in.
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SUITE = "bookworm"


def cargo_home():
    return os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))


def locked_crates():
    """(name, version) of every crates.io package of Cargo.lock."""
    text = open(os.path.join(ROOT, "Cargo.lock")).read()
    return re.findall(
        r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry\+https://github.com/rust-lang/crates.io-index"',
        text,
    )


def unpacked_crates():
    """{crate dir name: path} of the locked crates cargo has unpacked for the build."""
    found = {}
    src = os.path.join(cargo_home(), "registry", "src")
    if not os.path.isdir(src):
        return found
    wanted = {f"{n}-{v}" for n, v in locked_crates()}
    for index in os.listdir(src):
        for name in os.listdir(os.path.join(src, index)):
            if name in wanted:
                found[name] = os.path.join(src, index, name)
    return found


def extract(archive, into):
    os.makedirs(into, exist_ok=True)
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
    else:
        with tarfile.open(archive) as t:
            t.extractall(into, filter="data")


def fetch_all(work):
    """Downloads and unpacks the whole set once into `work`: cargo/, npm/, pypi/, debian/. Each
    part is fetched again only when its pins change (a marker file holds what it was made from)."""
    os.makedirs(work, exist_ok=True)
    entries = []
    for line in open(SOURCES):
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append(line.split(None, 1))
    unknown = {k for k, _ in entries} - {"npm", "pypi", "deb"}
    if unknown:
        sys.exit(f"bench/noise: unknown source kind {sorted(unknown)} in {SOURCES}")

    def part(name, pins, fetch):
        marker = os.path.join(work, f".complete-{name}")
        if os.path.exists(marker) and open(marker).read() == pins:
            return
        shutil.rmtree(os.path.join(work, name), ignore_errors=True)
        downloads = os.path.join(work, "downloads")
        shutil.rmtree(downloads, ignore_errors=True)
        os.makedirs(downloads)
        fetch(os.path.join(work, name), downloads)
        shutil.rmtree(downloads)
        open(marker, "w").write(pins)

    # Every locked crate, as published (cargo vendor needs no tool beyond cargo).
    part(
        "cargo",
        open(os.path.join(ROOT, "Cargo.lock")).read(),
        lambda into, _: subprocess.run(
            ["cargo", "vendor", "--locked", "--versioned-dirs", "-q", into],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        ),
    )
    for kind, fetch in (("npm", fetch_npm), ("pypi", fetch_pypi), ("deb", fetch_debian)):
        specs = [spec for k, spec in entries if k == kind]
        part("debian" if kind == "deb" else kind, "\n".join(specs), lambda into, d: fetch(into, d, specs))


def fetch_npm(into, downloads, specs):
    """The published packages, by npm pack."""
    for spec in specs:
        out = subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", downloads, spec],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip().splitlines()[-1]
        name = spec.rsplit("@", 1)[0].replace("/", "-").lstrip("@")
        extract(os.path.join(downloads, out), os.path.join(into, f"{name}-{spec.rsplit('@', 1)[1]}"))


def fetch_pypi(into, downloads, specs):
    """The source distributions themselves, from the simple index (pip download would build
    their metadata, which needs each package's build backend), checked against its sha256."""
    for spec in specs:
        name, version = spec.split("==")
        index = urllib.request.urlopen(f"https://pypi.org/simple/{name}/", timeout=60).read().decode()
        links = [
            l for l in re.findall(r'href="([^"]+)"', index)
            if re.search(rf"/{re.escape(name)}-{re.escape(version)}\.(tar\.gz|zip)#", l, re.I)
            or re.search(rf"/{re.escape(name.replace('-', '_'))}-{re.escape(version)}\.(tar\.gz|zip)#", l, re.I)
        ]
        if not links:
            sys.exit(f"bench/noise: no source distribution of {spec} on PyPI")
        url, digest = links[0].split("#sha256=")
        data = urllib.request.urlopen(url, timeout=300).read()
        if hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"bench/noise: {spec}: sha256 mismatch")
        archive = os.path.join(downloads, url.rsplit("/", 1)[1])
        open(archive, "wb").write(data)
        extract(archive, into)


def fetch_debian(into, downloads, packages):
    """Debian source packages (NAME=VERSION), by apt-get source with a deb-src list of our own.

    The machine's apt configuration is left alone: the index goes into the download folder; apt checks
    every downloaded file against the signed Sources index. dpkg-source then unpacks each package
    with its Debian patches applied, as `apt-get source` would.
    """
    apt = os.path.join(downloads, "apt")
    os.makedirs(os.path.join(apt, "lists", "partial"))
    with open(os.path.join(apt, "sources.list"), "w") as f:
        f.write(f"deb-src {DEBIAN_MIRROR} {DEBIAN_SUITE} main\n")
    options = [
        "-q",
        "-o", f"Dir::Etc::SourceList={apt}/sources.list",
        "-o", "Dir::Etc::SourceParts=/dev/null",
        "-o", f"Dir::State::Lists={apt}/lists",
        # The download folder is ours, not the unprivileged `_apt` user's.
        "-o", "APT::Sandbox::User=root",
    ]
    subprocess.run(["apt-get", *options, "update"], check=True, stdout=subprocess.DEVNULL)
    os.makedirs(into)
    for spec in packages:
        name, version = spec.split("=", 1)
        fetched = os.path.join(downloads, name)
        os.makedirs(fetched)
        subprocess.run(
            ["apt-get", *options, "source", "--download-only", spec],
            cwd=fetched,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (dsc,) = [f for f in os.listdir(fetched) if f.endswith(".dsc")]
        upstream = version.split(":")[-1].rsplit("-", 1)[0]
        subprocess.run(
            ["dpkg-source", "--no-check", "-x", dsc, os.path.join(into, f"{name}-{upstream}")],
            cwd=fetched,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def load_reviewed():
    reviewed = {}
    if not os.path.exists(REVIEWED):
        return reviewed
    with open(REVIEWED, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            path, line, rule, verdict, why = (row + [""] * 5)[:5]
            reviewed[(path, int(line), rule)] = (verdict, why)
    return reviewed


def scan(exe, paths):
    out = subprocess.run(
        [exe, "scan", *paths, "--no-ignore", "--max-file-size", str(64 * 1024 * 1024), "--format", "json"],
        stdout=subprocess.PIPE,
        check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"bench/noise: greenlight exited {out.returncode}")
    return json.loads(out.stdout)


def main():
    exe = os.path.abspath(sys.argv[1])
    fast = "--fast" in sys.argv
    write = "--write" in sys.argv
    if fast:
        crates = unpacked_crates()
        if not crates:
            print("bench/noise --fast: no locked crate is unpacked under CARGO_HOME; nothing to scan")
            return 0
        report = scan(exe, sorted(crates.values()))
        # The paths the full run uses: cargo/<crate>/<file>.
        prefix = {os.path.abspath(p): f"cargo/{name}" for name, p in crates.items()}
        def shown(path):
            for p, short in prefix.items():
                if path.startswith(p + "/"):
                    return short + path[len(p):]
            return path
        what = f"{len(crates)} of {len(locked_crates())} locked crates (already unpacked)"
    else:
        work = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "noise")
        fetch_all(work)
        cwd = os.getcwd()
        os.chdir(work)
        report = scan(exe, [d for d in ("cargo", "npm", "pypi", "debian") if os.path.isdir(d)])
        os.chdir(cwd)
        # Kept for reading the findings (jq, a script) while reviewing them.
        with open(os.path.join(work, "..", "noise-report.json"), "w") as f:
            json.dump(report, f)
        shown = lambda p: p
        what = "every locked crate, and the npm, PyPI and Debian source packages of bench/noise-sources.txt"

    reviewed = load_reviewed()
    mb = report["scan"]["bytes_scanned"] / 1e6
    real = false = 0
    unreviewed = []
    for f in report["findings"]:
        loc = f["location"]
        key = (shown(loc["path"]), loc["line"], f["rule"])
        verdict = reviewed.get(key, (None, None))[0]
        if verdict == "real":
            real += 1
        elif verdict == "false":
            false += 1
        else:
            unreviewed.append(key)
    per_100mb = false / mb * 100 if mb else 0.0
    print(f"scanned: {what}")
    print(f"         {report['scan']['files_scanned']} files, {mb:.0f} MB, {len(report['scan']['skipped'])} skipped")
    print(f"findings: {len(report['findings'])} — {real} real (credentials by shape: fixtures, samples), {false} false, {len(unreviewed)} unreviewed")
    print(f"false findings per 100 MB: {per_100mb:.2f} (goal: at most {GOAL_PER_100MB})")
    for key in unreviewed:
        print(f"  unreviewed: {key[0]}:{key[1]} {key[2]}")
    if write and unreviewed:
        with open(REVIEWED, "a", newline="") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            for path, line, rule in unreviewed:
                w.writerow([path, line, rule, "todo", ""])
    if unreviewed:
        print("bench/noise: review the findings above and record them in bench/noise-reviewed.tsv")
        return 1
    if per_100mb > GOAL_PER_100MB:
        print("bench/noise: more false findings than the goal")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
