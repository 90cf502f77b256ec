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
    """Downloads and unpacks the whole set once into `work` (cargo/, npm/, pypi/)."""
    done = os.path.join(work, ".complete")
    if os.path.exists(done) and open(done).read() == open(SOURCES).read() + open(
        os.path.join(ROOT, "Cargo.lock")
    ).read():
        return
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # Every locked crate, as published (cargo vendor needs no tool beyond cargo).
    subprocess.run(
        ["cargo", "vendor", "--locked", "--versioned-dirs", "-q", os.path.join(work, "cargo")],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads)
    for line in open(SOURCES):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, spec = line.split(None, 1)
        if kind == "npm":
            out = subprocess.run(
                ["npm", "pack", "--silent", "--pack-destination", downloads, spec],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout.strip().splitlines()[-1]
            name = spec.rsplit("@", 1)[0].replace("/", "-").lstrip("@")
            extract(os.path.join(downloads, out), os.path.join(work, "npm", f"{name}-{spec.rsplit('@', 1)[1]}"))
        elif kind == "pypi":
            # The source distribution itself, from the simple index (pip download would build
            # its metadata, which needs each package's build backend), checked against the
            # index's sha256.
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
            extract(archive, os.path.join(work, "pypi"))
        else:
            sys.exit(f"bench/noise: unknown source kind `{kind}` in {SOURCES}")
    shutil.rmtree(downloads)
    open(done, "w").write(open(SOURCES).read() + open(os.path.join(ROOT, "Cargo.lock")).read())


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
        report = scan(exe, ["cargo", "npm", "pypi"])
        os.chdir(cwd)
        shown = lambda p: p
        what = "every locked crate, and the npm and PyPI packages of bench/noise-sources.txt"

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
    print(f"findings: {len(report['findings'])} — {real} real (credentials in fixtures), {false} false, {len(unreviewed)} unreviewed")
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
