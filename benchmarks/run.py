"""Run every benchmark in this folder and print its figures: `./dev bench` or `python benchmarks/run.py`."""
import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
sys.path.insert(0, str(here.parent))
for script in sorted(here.glob("bench_*.py")):
    print(f"== {script.stem}")
    sys.argv = [str(script), *sys.argv[1:]]
    runpy.run_path(str(script), run_name="__main__")
    print()
