"""The pipeline run's report: per-step latencies, lag and resources over time, with plots.

Writes `summary.json`, `report.md`, `latency.png`, `lag.png` and `cpu.png` to the output
directory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.pipeline.checker import Accepted, smtp_log
from benchmarks.pipeline.workload import signup_person


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")


def stats(values: list[float]) -> dict[str, float]:
    return {f"p{p}_ms": round(percentile(values, p) * 1000, 1) for p in (50, 95, 99)} | {
        "max_ms": round(max(values, default=float("nan")) * 1000, 1),
        "count": len(values),
    }


def steps(run_id: str, accepted: Accepted, observed: Path) -> dict[str, list[tuple[float, float]]]:
    """(accepted at, seconds) per new person for accepted → matched and accepted → email."""
    first: dict[str, float] = {}
    for i, at in accepted.signups.items():
        email = signup_person(run_id, i).email
        first[email] = min(at, first.get(email, at))
    lead_of: dict[str, str] = {}
    matched_at: dict[str, float] = {}
    for line in (observed / "events.tsv").read_text().splitlines():
        at, subject, lead_id, email = line.split("\t")
        if subject.startswith("intake.") and email:
            lead_of.setdefault(email, lead_id)
        elif lead_id not in matched_at:
            matched_at[lead_id] = float(at)
    emailed = {r: at for at, r, kind in smtp_log(observed / "smtp-accepted.tsv") if kind == "races_near_you"}
    to_match, to_email = [], []
    for email, at in first.items():
        lead = lead_of.get(email)
        if lead in matched_at:
            to_match.append((at, matched_at[lead] - at))  # type: ignore[index]
        if email in emailed:
            to_email.append((at, emailed[email] - at))
    return {"accepted_to_matched": to_match, "accepted_to_email": to_email}


def series(
    points: list[tuple[float, float]], start: float, bucket: float
) -> tuple[list[float], list[float], list[float]]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for at, value in points:
        buckets[int((at - start) // bucket)].append(value)
    keys = sorted(buckets)
    return (
        [(k + 0.5) * bucket for k in keys],
        [percentile(buckets[k], 50) * 1000 for k in keys],
        [percentile(buckets[k], 99) * 1000 for k in keys],
    )


def read_tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []


def write(
    out: Path, run_id: str, began: float, accepted: Accepted, observed: Path, summary: dict[str, Any]
) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = steps(run_id, accepted, observed)
    latency = {name: stats([v for _, v in points]) for name, points in measured.items()}
    lag: dict[float, int] = defaultdict(int)
    for row in read_tsv(observed / "lag.tsv"):
        if row[1] != "-":
            lag[float(row[0])] += int(row[2])
    cpu: dict[str, list[tuple[float, float]]] = defaultdict(list)
    rss: dict[str, float] = defaultdict(float)
    for at, name, percent, resident in read_tsv(observed / "resources.tsv"):
        cpu[name].append((float(at) - began, float(percent)))
        rss[name] = max(rss[name], int(resident) / 2**20)
    lag_times = sorted(lag)
    load_seconds = float(summary["seconds"])
    during = [lag[t] for t in lag_times if t - began <= load_seconds]
    half = len(during) // 2
    growing = (
        bool(during)
        and (sum(during[half:]) / max(1, len(during) - half)) > 2 * (sum(during[:half]) / max(1, half)) + 100
    )
    fault_log = [[round(float(at) - began, 1), what] for at, what in read_tsv(observed / "faults.tsv")]
    result = {
        "fault_log": fault_log,
        "latency": latency,
        "lag": {
            "max": max(during, default=0),
            "last_during_load": during[-1] if during else 0,
            "growing": growing,
        },
        "cpu_percent_mean": {n: round(sum(p for _, p in v) / len(v), 1) for n, v in cpu.items() if v},
        "rss_mb_max": {n: round(v, 1) for n, v in rss.items()},
    }

    figure, axis = plt.subplots(figsize=(9, 4))
    for name, points in measured.items():
        x, p50, p99 = series(points, began, bucket=max(1.0, load_seconds / 60))
        axis.plot(x, p99, label=f"{name.replace('_', ' ')} p99")
        axis.plot(x, p50, linestyle="--", label=f"{name.replace('_', ' ')} p50")
    axis.set(
        xlabel="seconds since load began (by acceptance)",
        ylabel="ms",
        yscale="log",
        title="Sign-up accepted → matched → email accepted by SMTP",
    )
    mark_faults(axis, fault_log)
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / "latency.png", dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(9, 3))
    axis.plot([t - began for t in lag_times], [lag[t] for t in lag_times])
    axis.set(xlabel="seconds since load began", ylabel="messages", title="Consumer backlog (all durables)")
    mark_faults(axis, fault_log)
    figure.tight_layout()
    figure.savefig(out / "lag.png", dpi=100)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(9, 3))
    for name, points in sorted(cpu.items()):
        axis.plot([t for t, _ in points], [p for _, p in points], label=name)
    axis.set(xlabel="seconds since load began", ylabel="% of one core", title="CPU by process")
    axis.legend(ncol=3, fontsize="small")
    figure.tight_layout()
    figure.savefig(out / "cpu.png", dpi=100)
    plt.close(figure)

    full = summary | result
    (out / "summary.json").write_text(json.dumps(full, indent=2, default=str) + "\n")
    (out / "report.md").write_text(markdown(full))
    return result


def markdown(s: dict[str, Any]) -> str:
    load, check = s["load"], s["check"]
    lines = [
        f"# Pipeline run: {s['backend']}, {s['rate']:g} sign-ups/s for {s['seconds']:g} s",
        "",
        f"Command: `{s['command']}`  ",
        f"Started {s['when']} on {s['machine']}; {s['workers']} serving process(es) per service.",
        "",
        f"Fault: **{s['fault']['name']}** ({s['fault']['description']}).",
        "",
        f"**{check['verdict']}**",
        "",
        "| step | count | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for name, key in (
        ("sign-up accepted (HTTP)", "signups"),
        ("race lookup (HTTP)", "lookups"),
        ("webhook accepted (HTTP; Stripe and ActBlue)", "webhooks"),
    ):
        r = load[key]
        lines.append(
            f"| {name} | {r['accepted']} ({r['per_second']}/s) | {r['p50_ms']} ms | – | {r['p99_ms']} ms | {r['max_ms']} ms |"
        )
    for name, r in s["latency"].items():
        lines.append(
            f"| {name.replace('_', ' ')} | {r['count']} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms |"
        )
    lines += [
        "",
        f"Consumer backlog: max {s['lag']['max']}, at the end of the load {s['lag']['last_during_load']}, "
        f"growing: {s['lag']['growing']}. Settled {s['settled_after_seconds']} s after the load.",
        "",
        "Mean CPU (% of one core): "
        + ", ".join(f"{k} {v}" for k, v in s["cpu_percent_mean"].items())
        + ".  ",
        "Max RSS (MB): " + ", ".join(f"{k} {v}" for k, v in s["rss_mb_max"].items()) + ".",
        "",
        *instance_lines(s.get("handled_by_instance")),
        *fault_lines(s.get("fault_log", [])),
        "![latency](latency.png)",
        "![lag](lag.png)",
        "![cpu](cpu.png)",
        "",
    ]
    return "\n".join(lines)


def mark_faults(axis: Any, fault_log: list[list[Any]]) -> None:
    """A dotted line where each fault began or ended."""
    for at, _what in fault_log:
        axis.axvline(at, color="grey", linestyle=":", linewidth=1)


def instance_lines(split: dict[str, dict[str, int]] | None) -> list[str]:
    if not split:
        return []
    lines = ["Events handled per instance (from each one's /metrics):", ""]
    for service, counts in split.items():
        lines.append(f"- {service}: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return [*lines, ""]


def fault_lines(log: list[list[object]]) -> list[str]:
    if not log:
        return []
    lines = ["What the fault schedule did (seconds since the load began):", ""]
    lines += [f"- {at:.1f} s: {what}" for at, what in log]
    return [*lines, ""]
