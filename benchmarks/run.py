"""Run the benchmarks in this folder and print their figures.

`./dev bench` runs every `bench_*.py`; `./dev bench scheduling offers` runs only
bench_scheduling.py and bench_offers.py. Options (`--quick`, ...) go to each script.
"""
import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
sys.path.insert(0, str(here.parent))
args = sys.argv[1:]
names = [a for a in args if not a.startswith("-")]  # benchmark names; options go to every script
rest = [a for a in args if a.startswith("-")]
scripts = sorted(here.glob("bench_*.py"))
if names:
    unknown = [n for n in names if not (here / f"bench_{n}.py").exists()]
    if unknown:
        known = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
        sys.exit(f"Okänd benchmark: {', '.join(unknown)} (finns: {known})")
    scripts = [here / f"bench_{n}.py" for n in names]
for script in scripts:
    print(f"== {script.stem}", flush=True)
    sys.argv = [str(script), *rest]
    runpy.run_path(str(script), run_name="__main__")
    print(flush=True)
