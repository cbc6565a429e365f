"""Gate 2 of session 37 H8: each fix reverted (mutated) alone must make its test fail."""
import subprocess
import sys
from pathlib import Path

PY = "/work/main/.venv/bin/python"
MUTS = [
 ("M1 dedupe", "mmnst_path/cli/_quantify.py",
  "if skipped is not None and key not in seen_skipped and not excluded(p):", "if skipped is not None and not excluded(p):",
  ["tests/cli/test_user_walk_s37.py", "-k", "subfolder"]),
 ("M2 dicom/qptiff as unread", "mmnst_path/cli/_quantify.py",
  "named = [p for p in skipped if p.name.lower().endswith(NAMED_ONLY_EXTENSIONS)]", "named: list[Path] = []",
  ["tests/cli/test_user_walk_s37.py", "-k", "dicom"]),
 ("M2b unread list keeps .dcm", "mmnst_path/cli/_quantify.py",
  'NAMED_ONLY_EXTENSIONS = (".dcm", ".qptiff")', 'NAMED_ONLY_EXTENSIONS = (".qptiff",)',
  ["tests/cli/test_user_walk_s37.py", "-k", "dicom"]),
 ("M3 message (cli)", "mmnst_path/pipeline/_train.py",
  "expected QuPath GeoJSON polygons (a .geojson or .json file); a \"\n               \"napari Shapes layer",
  "the command line reads QuPath GeoJSON polygons; a \"\n               \"napari Shapes layer",
  ["tests/cli/test_user_walk_s37.py", "-k", "napari_layer"]),
 ("M4 empty", "mmnst_path/classify/model.py",
  "        if not head:  # a copy", "        if False:  # a copy",
  ["tests/classify/test_model_file.py", "-k", "truncated"]),
 ("M5 resume hint", "mmnst_path/cli/__init__.py",
  'if not (Path(out) / "summary.csv").is_file():', "if False:",
  ["tests/cli/test_user_walk_s37.py", "-k", "before_any_input"]),
]
ok = True
for name, file, old, new, test in MUTS:
    p = Path(file)
    text = p.read_text()
    assert text.count(old) == 1, (name, "pattern not found once")
    p.write_text(text.replace(old, new))
    try:
        r = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *test], capture_output=True, text=True,
                           env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen", "HOME": "/root"})
    finally:
        p.write_text(text)
    last = r.stdout.strip().splitlines()[-1]
    caught = r.returncode != 0 and "failed" in last
    ok &= caught
    print(f"{name}: rc {r.returncode}, {last} -> {'CAUGHT' if caught else 'NOT CAUGHT'}")
# M6: the old licence line
old_json = subprocess.run(["git", "show", "0201637:mmnst_path/models/stains_he.json"], capture_output=True, text=True, check=True).stdout
p = Path("mmnst_path/models/stains_he.json")
text = p.read_text()
p.write_text(old_json)
try:
    r = subprocess.run([PY, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/stain/test_he_model.py", "-k", "attribution"],
                       capture_output=True, text=True, env={"PYTHONPATH": ".", "PATH": "/usr/bin:/bin", "HOME": "/root"})
finally:
    p.write_text(text)
last = r.stdout.strip().splitlines()[-1]
caught = r.returncode != 0 and "failed" in last
ok &= caught
print(f"M6 old licence line: rc {r.returncode}, {last} -> {'CAUGHT' if caught else 'NOT CAUGHT'}")
print("GATE 2", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
