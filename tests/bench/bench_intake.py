"""Benchmark: intake of UWEC scaled 1x, 10x and 100x, beside Python's csv module reading the same bytes.

Run: .venv/bin/python tests/bench/bench_intake.py [--scales 1,10,100] [--runs 3] [--no-workbook]

The scaled copy repeats every UWEC row `scale` times, suffixing labels (" <copy>") and machine names ("_<copy>") so
that references still resolve within a copy and every defect repeats with it (100x: 96,600 records, 14.7 MB).
Large specs are read through the library here (limits lifted to fit the copy); uploads keep 2 MB per CSV file.

Printed, each as min / median / max of the runs, with its floor and the ratio of the medians:
- intake seconds beside the csv module's (decode + parse of the same files): goal at most 5x at the largest scale;
- cost per record at each scale against 1x: goal at most 1.15 (linear);
- peak memory (tracemalloc, one run) beside reading the files with the csv module into lists: goal at most 2x;
- the same spec as one .xlsx workbook (issue 11): intake time beside intake of the CSVs and beside calamine reading
  the workbook alone.
Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.intake import IntakeLimits, UploadedFile, intake_files  # noqa: E402  (needs the path above)
from app.intake.names import is_error_literal, split_list  # noqa: E402

UWEC_DIR = ROOT.parent / "shared" / "sample_data" / "uwec"
# Columns holding labels other files refer to (suffixed " <copy>") and machine names (suffixed "_<copy>").
LABELS = {
    "UWEC_Bundles.csv": ["Name"],
    "UWEC_Fields.csv": ["Bundle", "Ref. bundle"],
    "UWEC_CustomViews.csv": ["View name"],
    "UWEC_CustomViewsDisplays.csv": ["View"],
    "UWEC_CustomViewModes.csv": ["View Modes", "Entities Used On"],
    "UWEC_Imagestyles.csv": ["Style name"],
    "UWEC_ResponsiveImageStyles.csv": ["Responsive style", "Fallback Style", "Image Style Group(s)"],
    "UWEC_Userroles.csv": ["Name"],
    "UWEC_Workflows.csv": ["Label"],
    "UWEC_Workflowstates.csv": ["Workflow"],
    "UWEC_Workflowtransitions.csv": ["Workflow"],
}
MACHINE = {"Machine name", "Machine Name", "Bundle machine name", "View ID", "Fallback machine name"}
SCOPED = {"UWEC_CustomViewsDisplays.csv", "UWEC_Workflowstates.csv", "UWEC_Workflowtransitions.csv"}
LIBRARY = IntakeLimits(
    max_file_bytes=10**9, max_files=100, max_total_bytes=10**10, max_workbook_bytes=10**10, max_cells=10**9
)
GOAL_TIMES_CSV = 5.0
GOAL_LINEAR = 1.15
GOAL_MEMORY = 2.0
SMALL_REPEAT = 20  # 1x takes tens of milliseconds: each of its runs times this many intakes, for a steady figure


def _label(value: str, copy: int) -> str:
    parts = [re.sub(r"^(.*?)(\s*\([^()]*\))?$", lambda m: f"{m[1]} {copy}{m[2] or ''}", p) for p in split_list(value)]
    return ", ".join(parts)


def _machine(value: str, copy: int) -> str:
    return value if not value.strip() or value.strip() == "-" or is_error_literal(value) else f"{value}_{copy}"


def scaled_rows(scale: int) -> dict[str, list[list[str]]]:
    """File name -> header and rows of the scaled copy (scale 1 is UWEC itself)."""
    tables = {}
    for path in sorted(UWEC_DIR.glob("*.csv")):
        header, *rows = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
        labels = {header.index(c) for c in LABELS.get(path.name, []) if c in header}
        scoped = path.name in SCOPED
        machines = {i for i, h in enumerate(header) if h in MACHINE and not (scoped and h == "Machine name")}
        out = [header]
        for copy in range(scale):
            for row in rows:
                if scale == 1:
                    out.append(row)
                    continue
                out.append(
                    [
                        _label(c, copy) if i in labels and c.strip() else _machine(c, copy) if i in machines else c
                        for i, c in enumerate(row)
                    ]
                )
        tables[path.name] = out
    return tables


def as_csv_files(tables: dict[str, list[list[str]]]) -> list[UploadedFile]:
    files = []
    for name, rows in tables.items():
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows(rows)
        files.append(UploadedFile(name, out.getvalue().encode("utf-8")))
    return files


def as_workbook(tables: dict[str, list[list[str]]]) -> UploadedFile:
    import openpyxl  # the test extra; only the workbook figures need it

    book = openpyxl.Workbook(write_only=True)
    for name, rows in tables.items():
        sheet = book.create_sheet(Path(name).stem.removeprefix("UWEC_"))
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return UploadedFile("UWEC.xlsx", buffer.getvalue())


def csv_floor(files: list[UploadedFile]) -> list[list[list[str]]]:
    """What Python's csv module alone does with the same bytes: decode and split into records, kept in lists."""
    return [list(csv.reader(io.StringIO(f.data.decode("utf-8"), newline=""))) for f in files]


def calamine_floor(workbook: UploadedFile) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(workbook.data))
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def timed(work: Callable[[], object], repeat: int = 1) -> float:
    # CPU seconds of this process: on a shared machine (helpers, CI) wall time mostly measures the neighbours. The
    # collector is paused as the intake pauses it, so the floor does not pay for collections the intake skips.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        for _ in range(repeat):
            work()
        return (time.process_time() - start) / repeat
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def spread(values: list[float]) -> str:
    return f"{min(values):8.3f} {statistics.median(values):8.3f} {max(values):8.3f}"


def peak_bytes(work: Callable[[], object]) -> int:
    tracemalloc.start()
    kept = work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-workbook", action="store_true")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    print("CPU seconds of this process as min / median / max of", args.runs, "runs; ratio = median / median")
    print(f"{'scale':>6} {'records':>8} {'MB':>6} | {'intake s':^26} | {'csv module s (floor)':^26} | x floor  rec/s")
    per_record: dict[int, float] = {}
    times_floor: dict[int, float] = {}
    verdicts: list[bool] = []
    tables: dict[str, list[list[str]]] = {}
    files: list[UploadedFile] = []
    for scale in scales:
        tables = scaled_rows(scale)
        files = as_csv_files(tables)
        records = sum(len(rows) - 1 for rows in tables.values())
        repeat = SMALL_REPEAT if records < 10_000 else 1
        intake_runs, floor_runs = [], []
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            intake_runs.append(timed(lambda files=files: intake_files(files, limits=LIBRARY), repeat))
            floor_runs.append(timed(lambda files=files: csv_floor(files), repeat))
        ratio = times_floor[scale] = _ratio(intake_runs, floor_runs)
        per_record[scale] = statistics.median(intake_runs) / records
        size = sum(len(f.data) for f in files) / 1e6
        print(
            f"{scale:>5}x {records:8d} {size:6.2f} | {spread(intake_runs)} | {spread(floor_runs)} | {ratio:6.1f} "
            f"{records / statistics.median(intake_runs):7.0f}"
        )
    top = scales[-1]
    times_csv = times_floor[top]
    verdicts.append(times_csv <= GOAL_TIMES_CSV)
    print(
        f"intake at {top}x: {times_csv:.1f} times the csv module (goal <= {GOAL_TIMES_CSV}): {_verdict(verdicts[-1])}"
    )
    for scale in scales[1:]:
        linear = per_record[scale] / per_record[scales[0]]
        verdicts.append(linear <= GOAL_LINEAR)
        print(
            f"cost per record {scale}x / {scales[0]}x: {linear:.2f} (1.00 = linear; goal <= {GOAL_LINEAR}): "
            f"{_verdict(verdicts[-1])}"
        )
    intake_peak = peak_bytes(lambda: intake_files(files, limits=LIBRARY))
    floor_peak = peak_bytes(lambda: csv_floor(files))
    memory = intake_peak / floor_peak
    verdicts.append(memory <= GOAL_MEMORY)
    print(
        f"peak memory at {top}x (one run): intake {intake_peak / 2**20:.0f} MiB, csv module {floor_peak / 2**20:.0f} "
        f"MiB: {memory:.2f}x (goal <= {GOAL_MEMORY}): {_verdict(verdicts[-1])}"
    )
    if not args.no_workbook:
        workbook = as_workbook(tables)
        book_runs, csv_runs, calamine_runs = [], [], []
        for _ in range(args.runs):
            book_runs.append(timed(lambda: intake_files([workbook], limits=LIBRARY)))
            csv_runs.append(timed(lambda: intake_files(files, limits=LIBRARY)))
            calamine_runs.append(timed(lambda: calamine_floor(workbook)))
        print(f"{top}x as one workbook ({len(workbook.data) / 1e6:.1f} MB .xlsx):")
        print(f"  intake of the workbook   {spread(book_runs)}")
        print(f"  intake of the CSV files  {spread(csv_runs)}  workbook / CSV: {_ratio(book_runs, csv_runs):.2f}")
        floor_ratio = _ratio(book_runs, calamine_runs)
        print(f"  calamine reading (floor) {spread(calamine_runs)}  workbook / floor: {floor_ratio:.2f}")
    sys.exit(0 if all(verdicts) else 1)


def _ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    main()
