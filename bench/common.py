"""Shared helpers for the benchmarks: machine description and table writers."""

from __future__ import annotations

import csv
import os
import platform
import sys
from pathlib import Path
from typing import Any, Sequence

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"


def machine_info() -> dict[str, str]:
    """CPU model, core count, RAM, OS, Python and torch versions, GPU if any."""
    import torch

    from singlehdr.infer.device import cpu_available_memory_bytes, cpu_model_name

    info = {
        "cpu": cpu_model_name(),
        "cpu_cores": str(os.cpu_count()),
        "ram_available_gb": f"{cpu_available_memory_bytes() / 2**30:.1f}",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": str(torch.get_num_threads()),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = str(torch.version.cuda)
    return info


def write_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], md_path: Path, csv_path: Path, *, title: str, preamble: str = "") -> str:
    """Write rows as a Markdown table (returned too) and a CSV, atomically (temp + os.replace)."""
    md_path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", ""]
    if preamble:
        lines += [preamble.rstrip(), ""]
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |")
    text = "\n".join(lines) + "\n"
    tmp = md_path.with_suffix(md_path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, md_path)
    tmp = csv_path.with_suffix(csv_path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    os.replace(tmp, csv_path)
    return text


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)
