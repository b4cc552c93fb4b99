"""The results of a run as a Markdown table (printed, and pasted into docs/performance.md), JSON and an SVG bar
chart (hand-written: no script, no web font, readable in any browser or on GitHub)."""

from __future__ import annotations

import html
import json
import os
import time

import scenarios as sc

COLOURS = {"node-oidc-provider": "#8c6d31", "portcullis/sqlite": "#3465a4", "portcullis/postgres": "#204a87",
           "nginx": "#888a85", "argon2id": "#c17d11"}


def colour(server: str) -> str:
    return next((value for key, value in COLOURS.items() if server.startswith(key)), "#555753")


def ratio(row: dict, rows: list[dict]) -> str:
    """Portcullis's rate over the peer's in the same scenario."""
    if not row["server"].startswith("portcullis") or "na" in row:
        return ""
    peer = next((r for r in rows if r["scenario"] == row["scenario"] and r["server"] == "node-oidc-provider"), None)
    if not peer or "na" in peer or not peer["rate"]:
        return "n/a"
    return f"{row['rate'] / peer['rate']:.2f}×"


def notes(row: dict, rows: list[dict]) -> str:
    if "na" in row:
        return row["na"]
    said = []
    same = [r for r in rows if r["scenario"] == row["scenario"] and "na" not in r]
    baseline = next((r for r in same if r.get("baseline") or r["server"].startswith("nginx")), None)
    if baseline and baseline is not row and not row.get("baseline") and baseline["rate"]:
        name = "the argon2id limit" if baseline["server"].startswith("argon2") else "nginx"
        said.append(f"{100 * row['rate'] / baseline['rate']:.0f}% of {name}")
    if row.get("exhausted_rounds"):
        said.append(f"pool exhausted in {row['exhausted_rounds']} of {len(row['rounds'])} rounds (rate over the "
                    "time it lasted)")
    if row.get("logged_errors"):
        said.append("logged: " + ", ".join(f"{code} ×{n}" for code, n in row["logged_errors"].items()))
    if row.get("other_cores", 0) >= 0.25:
        said.append(f"other load on the machine up to {row['other_cores']:.2f} cores")
    return "; ".join(said)


def mib(kib: int | None) -> str:
    return f"{kib / 1024:.0f}" if kib else ""


def table(rows: list[dict]) -> str:
    lines = ["| scenario | server | req/s | p50 ms | p99 ms | errors | Portcullis/peer | RSS MiB (end/peak) | "
             "server CPU (cores) | notes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    previous = None
    for row in rows:
        scenario = row["scenario"] if row["scenario"] != previous else ""
        previous = row["scenario"]
        if "na" in row:
            lines.append(f"| {scenario} | {row['server']} | n/a | | | | | | | {notes(row, rows)} |")
            continue
        if row.get("baseline"):
            lines.append(f"| {scenario} | {row['server']} | {row['rate']:.1f} | | | | | | | measured in the same "
                         "run |")
            continue
        memory = f"{mib(row['rss_kib'])} / {mib(row['hwm_kib'])}"
        cpu = f"{row['server_cores']:.2f}"
        if "postgres" in row["server"]:
            cpu += f" + {row['postgres_cores']:.2f} PostgreSQL"
        lines.append(f"| {scenario} | {row['server']} | {row['rate']:.0f} | {row['p50_ms']:.2f} | "
                     f"{row['p99_ms']:.2f} | {row['errors']} | {ratio(row, rows)} | {memory} | "
                     f"{cpu} | {notes(row, rows)} |")
    return "\n".join(lines)


def scenario_notes() -> str:
    return "\n".join(f"- **{s.id}**: {s.title}. {s.notes}." for s in sc.SCENARIOS)


def markdown(meta: dict, rows: list[dict]) -> str:
    machine = meta["machine"]
    head = (f"{meta['mode']} run of {meta['started']} (commit {meta['commit']}, {meta['profile']} build): "
            f"{meta['rounds']} rounds × {meta['duration_s']} s per scenario and server, {meta['connections']} "
            f"connections, {meta['wrk_threads']} wrk threads; {machine['cores']} cores ({machine['cpu']}), "
            f"{machine['memory_gib']} GiB; Node {machine['node']}, {machine['wrk']}, nginx {machine['nginx']}, "
            f"PostgreSQL {machine['postgres']}. argon2id limit: {meta['argon2']['per_second']:.1f} checks/s "
            f"({meta['argon2']['params']}, {meta['argon2']['threads']} threads). Took {meta['elapsed_s']} s.")
    return f"{head}\n\n{table(rows)}\n\n{scenario_notes()}\n"


def svg(meta: dict, rows: list[dict]) -> str:
    """One group of bars per scenario, each bar scaled to the fastest server of its scenario (the rates of the
    scenarios differ by three orders of magnitude)."""
    order = list(dict.fromkeys(r["scenario"] for r in rows))
    width, label_w, bar_w, bar_h, gap = 900, 230, 520, 16, 4
    y = 50
    parts = []
    for scenario in order:
        group = [r for r in rows if r["scenario"] == scenario]
        title = group[0]["title"]
        parts.append(f'<text x="10" y="{y + 12}" font-weight="bold">{html.escape(scenario)}: '
                     f'{html.escape(title)}</text>')
        y += 18
        top = max((r["rate"] for r in group if "na" not in r), default=0) or 1
        for row in group:
            if "na" in row:
                parts.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{html.escape(row["server"])}'
                             f'</text><text x="{label_w}" y="{y + 12}" fill="#888a85">n/a</text>')
                y += bar_h + gap
                continue
            length = max(1.0, bar_w * row["rate"] / top)
            parts.append(f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{html.escape(row["server"])}'
                         '</text>')
            parts.append(f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
                         f'fill="{colour(row["server"])}"/>')
            parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 12}">{row["rate"]:,.0f} req/s</text>')
            y += bar_h + gap
        y += 10
    header = (f'<text x="10" y="20" font-size="15" font-weight="bold">Portcullis and node-oidc-provider: requests '
              f'per second ({meta["mode"]} run, {html.escape(meta["started"])})</text>'
              f'<text x="10" y="38" fill="#555753">{meta["rounds"]} round(s) × {meta["duration_s"]} s, '
              f'{meta["connections"]} connections, median of the rounds; bars scaled per scenario</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y + 10}" '
            f'viewBox="0 0 {width} {y + 10}" font-family="sans-serif" font-size="12">'
            f'<rect width="100%" height="100%" fill="white"/>{header}{"".join(parts)}</svg>\n')


def write(directory: str, meta: dict, rows: list[dict]) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    document = {"meta": meta, "scenarios": [vars(s) for s in sc.SCENARIOS], "results": rows}
    written = []
    for name in (stamp, "latest"):
        for suffix, text in (("json", json.dumps(document, indent=1) + "\n"), ("md", markdown(meta, rows)),
                             ("svg", svg(meta, rows))):
            path = os.path.join(directory, f"{name}.{suffix}")
            with open(path, "w") as out:
                out.write(text)
            written.append(path)
    return written
