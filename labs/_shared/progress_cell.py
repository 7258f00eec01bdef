# Record this lab's key outputs in capstone-progress.csv (one row per lab: re-running replaces the row).
from common.progress import record_progress

row = record_progress(
    LAB,
    [f"{name}: {value}" for name, value in KEY_OUTPUTS.items()],
    status="in-progress" if OPEN_ITEMS else "done",
)
print(f"{row.lab} is {row.status} ({row.date}): {row.outputs}")
for item in OPEN_ITEMS:
    print(f"  still open: {item}")
