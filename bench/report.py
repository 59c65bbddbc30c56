"""The results as a Markdown table (seconds per engine, then corepy's ratio to each peer,
with geometric means) and a PNG chart of the same."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.data import scale_name
from bench.engines import COREPY_FORMS, label, split


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "—"
    if entry["status"] == "ok":
        return f"{entry['median']:.3f}" if "median" in entry else "ok"
    return str(entry["status"])


def _median(result: dict[str, Any], query: str, spec: str) -> float | None:
    entry = result["queries"][query].get(spec)
    if entry and entry["status"] == "ok" and "median" in entry:
        return float(entry["median"])
    return None


def geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def ratios(result: dict[str, Any], mine: str, peer: str) -> dict[str, float]:
    """Query → corepy's time / the peer's, for the queries both answered correctly."""
    out = {}
    for query in result["queries"]:
        a, b = _median(result, query, mine), _median(result, query, peer)
        if a is not None and b is not None and b > 0:
            out[query] = a / b
    return out


def markdown(result: dict[str, Any]) -> str:
    specs: list[str] = result["engines"]
    queries = list(result["queries"])
    title = f"{result['suite']} scale {scale_name(result['scale'])}"
    lines = [
        f"### {title}: median seconds of {result['runs']} runs, {result['threads']} threads",
        "",
        _provenance(result),
        "",
        "| query | " + " | ".join(map(label, specs)) + " |",
        "|---|" + "---:|" * len(specs),
    ]
    for query in queries:
        row = [_cell(result["queries"][query].get(spec)) for spec in specs]
        lines.append(f"| {query} | " + " | ".join(row) + " |")
    sums = []
    for spec in specs:
        values = [_median(result, q, spec) for q in queries]
        complete = all(v is not None for v in values)
        sums.append(f"{sum(v for v in values if v is not None):.2f}" if complete else "—")
    if not result["smoke"]:
        lines.append("| **sum** | " + " | ".join(sums) + " |")
    if not result["smoke"]:
        lines += ["", _ratio_table(result, queries, specs)]
    lines += ["", _notes(result)]
    return "\n".join(lines) + "\n"


def _provenance(result: dict[str, Any]) -> str:
    machine = result["machine"]
    memory = (machine.get("memory_bytes") or 0) / 2**30
    versions = ", ".join(f"{label(spec)} {v}" for spec, v in result["versions"].items())
    made = result.get("provenance", {})
    commit = (made.get("commit") or "?")[:10] + (
        " (with local changes)" if made.get("dirty") else ""
    )
    return (
        f"{result['date']}, {machine['cpu']}, {machine['cores']} cores, {memory:.0f} GiB; "
        f"corepy at {commit}; {versions}."
    )


def _ratio_table(result: dict[str, Any], queries: list[str], specs: list[str]) -> str:
    mine = [s for s in specs if s in COREPY_FORMS]
    peers = [s for s in specs if not split(s)[0].startswith("corepy")]
    others = [s for s in specs if split(s)[0].startswith("corepy") and s not in mine]
    if not mine:
        return ""
    pairs = [(m, p) for m in mine for p in peers + others]
    if len(mine) == 2:
        pairs.append((mine[1], mine[0]))
    if not pairs:
        return ""
    header = [f"{label(m)} / {label(p)}" for m, p in pairs]
    lines = [
        "Ratios: corepy's time / the peer's (below 1: corepy is faster).",
        "",
        "| query | " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(pairs),
    ]
    tables = {pair: ratios(result, *pair) for pair in pairs}
    for query in queries:
        cells = [f"{tables[p][query]:.2f}" if query in tables[p] else "—" for p in pairs]
        lines.append(f"| {query} | " + " | ".join(cells) + " |")
    means = []
    for pair in pairs:
        mean = geometric_mean(list(tables[pair].values()))
        count = len(tables[pair])
        means.append(f"**{mean:.2f}** ({count})" if mean is not None else "—")
    lines.append("| **geometric mean** (queries) | " + " | ".join(means) + " |")
    return "\n".join(lines) + "\n"


def _notes(result: dict[str, Any]) -> str:
    lines = []
    for query, entries in result["queries"].items():
        for spec, entry in entries.items():
            if entry["status"] != "ok":
                lines.append(f"- {query} {spec}: **{entry['status']}** — {entry.get('detail', '')}")
    compile_times = []
    for spec in result["engines"]:
        values = [
            e.get("compile_seconds")
            for e in (q.get(spec) for q in result["queries"].values())
            if e and e.get("compile_seconds") is not None
        ]
        if values:
            compile_times.append(f"{spec} {sum(values) * 1000:.1f} ms over {len(values)} queries")
    rss = ", ".join(
        f"{spec} {bytes_ / 2**30:.2f} GiB"
        for spec, bytes_ in result["peak_rss_bytes"].items()
        if bytes_
    )
    out = []
    if compile_times:
        out.append(
            "JIT compile time of each query's first run (the timed runs find their kernels in "
            "the process's cache): " + "; ".join(compile_times)
        )
    if rss:
        out.append(f"Peak RSS per engine process: {rss}.")
    for spec, why in result.get("not_run", {}).items():
        out.append(f"Not run: {spec} ({why}).")
    if lines:
        out.append("Answers not timed:\n\n" + "\n".join(lines))
    return "\n\n".join(out) + "\n"


def chart(result: dict[str, Any], path: Path) -> None:
    """A grouped bar chart of each engine's median per query (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs: list[str] = result["engines"]
    queries = list(result["queries"])
    width = 0.8 / max(len(specs), 1)
    figure, axes = plt.subplots(figsize=(max(8, len(queries) * 0.7), 4.5))
    for k, spec in enumerate(specs):
        xs, ys = [], []
        for i, query in enumerate(queries):
            value = _median(result, query, spec)
            if value is not None:
                xs.append(i + (k - (len(specs) - 1) / 2) * width)
                ys.append(value)
        axes.bar(xs, ys, width=width, label=label(spec))
    axes.set_xticks(range(len(queries)), queries, rotation=45 if len(queries) > 12 else 0)
    axes.set_yscale("log")
    axes.set_ylabel("median seconds (log scale)")
    axes.set_title(
        f"{result['suite']} scale {scale_name(result['scale'])}, {result['threads']} threads "
        f"({result['date'][:10]})"
    )
    axes.legend(fontsize="small", ncol=min(len(specs), 4))
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
