"""The reproduction report: every paper's claims against our results, from the result files.

    python -m benchmarks.report           # docs/reproduction.md, its plots, README's column
    python -m benchmarks.report --check   # validates only; exit 1, one line per problem

Reads the claims of `benchmarks/claims/` (one module per paper) and the JSON files of
`benchmarks/results/`, and writes `docs/reproduction.md` (one section per
paper: a table of its claims, each claim's numbers, what they are, the data,
budget, hardware and command, and its verdict), the plots `docs/*.png`
(matplotlib, Agg; a `Figure` is a PNG a benchmark wrote into the results,
linked as it is) and the "reproduction" column of README.md's model table.
The same inputs give the same bytes. `--check` fails when a claim cites a
missing result file or key, a claim has no verdict, or the report or README's
column is not what the results and claims give (run this module to update
them). No TensorFlow here: it runs in a second.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys

from benchmarks import claims as claims_module
from benchmarks.claims import (
    VERDICTS,
    Bars,
    Cumulative,
    Figure,
    Number,
    Points,
    Strip,
    Verdict,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "benchmarks", "results")
DOCS_DIR = os.path.join(ROOT, "docs")
README = os.path.join(ROOT, "README.md")
REPORT_NAME = "reproduction.md"
COMMAND = "python -m benchmarks.report"
# Links from the report (in docs/) to the result files, and from README to the report.
RESULTS_LINK = "../benchmarks/results"
REPORT_LINK = "docs/reproduction.md"
TABLE_NUMBERS = 4  # numbers of a claim shown in tables; its section shows all


class ReportError(Exception):
    pass


# Reading results.


def lookup(value, key):
    """The value at `key`: `/`-separated dict keys, list indices or `[name=value,...]` selectors."""
    for part in key.split("/"):
        if part.startswith("[") and part.endswith("]"):
            wanted = dict(item.split("=", 1) for item in part[1:-1].split(","))
            matches = [
                item
                for item in (value if isinstance(value, list) else [])
                if isinstance(item, dict) and all(str(item.get(k)) == v for k, v in wanted.items())
            ]
            if len(matches) != 1:
                raise KeyError(part)
            value = matches[0]
        elif isinstance(value, list):
            if not part.isdigit() or int(part) >= len(value):
                raise KeyError(part)
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(part)
    return value


def load_results(results_dir, files):
    """{file name: parsed JSON} of `files` that exist in `results_dir`."""
    out = {}
    for name in sorted(files):
        path = os.path.join(results_dir, name)
        if os.path.exists(path):
            with open(path) as f:
                out[name] = json.load(f)
    return out


def value_of(number, results):
    """A `Number`'s float (reduced and scaled), or a float given as such."""
    if not isinstance(number, Number):
        return float(number)
    value = lookup(results[number.file], number.key)
    if number.reduce:
        value = {"mean": statistics.fmean, "median": statistics.median}[number.reduce](value)
    return float(value) * number.scale


def values_of(number, results):
    """A list-valued `Number`'s floats (for strips and cumulative plots)."""
    return [float(v) * number.scale for v in lookup(results[number.file], number.key)]


def std_of(number, results):
    return float(lookup(results[number.file], number.std)) * number.scale


def format_number(number, results):
    value = value_of(number, results)
    if not math.isfinite(value):  # a run that diverged records NaN
        return f"{number.label}: not finite (diverged)" if number.label else "not finite (diverged)"
    text = f"{value:,.{number.digits}f}" if abs(value) >= 1e4 else f"{value:.{number.digits}f}"
    if number.std:
        text += f" ± {std_of(number, results):.{number.digits}f}"
    text += number.unit
    return f"{number.label}: {text}" if number.label else text


def verdict_of(claim, results):
    """The claim's `Verdict`: its own, or its rule applied to its numbers."""
    if isinstance(claim.verdict, Verdict):
        return claim.verdict
    values = [value_of(n, results) for n in claim.ours]
    return claim.verdict(claim.ours, values)


# What the inputs must satisfy.


def plot_numbers(plot):
    if isinstance(plot, Strip):
        return list(plot.columns)
    if isinstance(plot, Bars):
        return [n for _, numbers in plot.panels for n in numbers]
    if isinstance(plot, Points):
        return [
            n
            for _, points in plot.series
            for point in points
            for n in point
            if isinstance(n, Number)
        ]
    if isinstance(plot, Cumulative):
        return list(plot.series)
    if isinstance(plot, Figure):
        return []
    raise ReportError(f"unknown plot kind {type(plot).__name__}")


def cited_files(claims, plots):
    files = {n.file for c in claims for n in c.ours}
    files |= {n.file for p in plots for n in plot_numbers(p)}
    return files


def validate(claims, plots, papers, headlines, results_dir):
    """Problems with the claims and results, one line each (empty: all fine)."""
    errors = []
    paper_keys = {p.key for p in papers}
    ids = [c.id for c in claims]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"claim {duplicate} is listed twice")
    for claim in claims:
        verdict = claim.verdict
        if verdict is None:
            errors.append(f"claim {claim.id} has no verdict")
        elif isinstance(verdict, Verdict):
            if verdict.verdict not in VERDICTS:
                errors.append(
                    f"claim {claim.id} has verdict {verdict.verdict!r}, not one of {VERDICTS}"
                )
            elif not verdict.reason.strip():
                errors.append(f"claim {claim.id}'s verdict {verdict.verdict!r} gives no reason")
            elif verdict.verdict in ("holds", "partly holds", "does not hold") and not claim.ours:
                errors.append(f"claim {claim.id} says {verdict.verdict!r} but cites no result")
        elif not callable(verdict):
            errors.append(f"claim {claim.id} has no verdict (neither a Verdict nor a rule)")
        elif not claim.ours:
            errors.append(f"claim {claim.id}'s verdict rule has no numbers to judge")
        if claim.paper not in paper_keys:
            errors.append(f"claim {claim.id} names unknown paper {claim.paper!r}")
    for model, claim_id in sorted(headlines.items()):
        if claim_id not in ids:
            errors.append(f"README headline of {model} names unknown claim {claim_id}")
    for plot in plots:
        if plot.paper not in paper_keys:
            errors.append(f"plot {plot.name} names unknown paper {plot.paper!r}")
        if isinstance(plot, Figure) and not os.path.exists(os.path.join(results_dir, plot.name)):
            errors.append(f"figure benchmarks/results/{plot.name} is missing")
    results = load_results(results_dir, cited_files(claims, plots))
    cited = [(f"claim {c.id}", n) for c in claims for n in c.ours]
    cited += [(f"plot {p.name}", n) for p in plots for n in plot_numbers(p)]
    for who, number in cited:
        if number.file not in results:
            errors.append(f"{who} cites missing result file benchmarks/results/{number.file}")
            continue
        for key in filter(None, (number.key, number.std)):
            try:
                lookup(results[number.file], key)
            except KeyError:
                errors.append(f"{who}: benchmarks/results/{number.file} has no key {key}")
    for name, data in sorted(results.items()):
        grid = _sample_grid(data)
        if grid and not os.path.exists(os.path.join(results_dir, grid)):
            errors.append(f"benchmarks/results/{name} names a missing sample grid {grid}")
    if not errors:
        for claim in claims:
            try:
                verdict = verdict_of(claim, results)
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
                errors.append(f"claim {claim.id}'s verdict rule failed: {error!r}")
                continue
            if verdict.verdict not in VERDICTS:
                errors.append(f"claim {claim.id}'s rule gave verdict {verdict.verdict!r}")
    # De-duplicated, in order.
    return list(dict.fromkeys(errors))


# The report.


def _sample_grid(data):
    result = data.get("result") if isinstance(data, dict) else None
    return result.get("sample_grid") if isinstance(result, dict) else None


def _machine(cpu):
    """'AMD EPYC (avx2), 1 of its 2 cores (taskset)' from a result's `cpu` record."""
    extensions = ", ".join(cpu.get("vector_extensions") or []) or "no AVX2"
    cores = f"{cpu.get('cores', 'not recorded')} cores"
    if cpu.get("cores_used") and cpu["cores_used"] != cpu.get("cores"):
        cores = f"{cpu['cores_used']} of its {cores} (taskset)"
    return f"{cpu.get('model') or 'CPU model not recorded'} ({extensions}), {cores}"


def hardware(data):
    """The machine a result file records, saying what it does not."""
    env = data.get("environment")
    if isinstance(env, dict):
        cpu = env.get("cpu") or {}
        machine = _machine(cpu)
        # Saved weights evaluated later: the training's CPU is the one saved beside them.
        result = data.get("result") if isinstance(data.get("result"), dict) else {}
        trained = result.get("train_cpu")
        if isinstance(trained, dict) and trained != cpu:
            machine = f"trained on {_machine(trained)}, evaluated on {machine}"
        versions = env.get("versions") or {}
        names = (
            ("tfflows", "tfflows"),
            ("tensorflow", "TF"),
            ("tensorflow-probability", "TFP"),
            ("keras", "Keras"),
        )
        listed = ", ".join(f"{label} {versions.get(key) or 'not recorded'}" for key, label in names)
        return f"{machine}; {listed}"
    parts = []
    if data.get("machine"):
        parts.append(f"{data['machine']} (CPU model not recorded)")
    elif data.get("cpus"):
        parts.append(f"{data['cpus']} CPUs (CPU model not recorded)")
    if data.get("tensorflow"):
        onednn = {"1": ", oneDNN on", "0": ", oneDNN off"}.get(str(data.get("onednn")), "")
        parts.append(f"TF {data['tensorflow']}{onednn}")
    if not parts:
        return "not recorded"
    return "; ".join(parts) + "; tfflows, TFP and Keras versions not recorded"


def command_of(data):
    env = data.get("environment")
    if isinstance(env, dict) and env.get("command"):
        return env["command"]
    return data.get("command") if isinstance(data.get("command"), str) else None


def _sentence(text):
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def ours_text(claim, results, limit=None):
    """Our numbers of `claim`, the first `limit` of them (and "..." for the rest)."""
    if not claim.ours:
        return "-"
    shown = claim.ours if limit is None else claim.ours[:limit]
    text = "; ".join(format_number(n, results) for n in shown)
    return text + ("; ..." if len(shown) < len(claim.ours) else "")


def headline_cell(claim, results):
    """README's cell for a model: the verdict, the claim and ours against the paper's."""
    verdict = verdict_of(claim, results).verdict
    text = f"**{verdict}**: {claim.short}"
    if claim.ours:
        text += f"; ours {ours_text(claim, results, limit=2)}"
    if not claim.paper_number.startswith("-"):
        text += f"; paper {claim.paper_number}"
    return f"{text} ([report]({REPORT_LINK}#{claim.id}))"


def render(claims, plots, papers, results):
    """docs/reproduction.md's text."""
    numbering = {}
    for paper in papers:
        own = [c for c in claims if c.paper == paper.key]
        for index, claim in enumerate(own, 1):
            numbering[claim.id] = f"{paper.tag} {index}"
    counts = {v: 0 for v in VERDICTS}
    for claim in claims:
        counts[verdict_of(claim, results).verdict] += 1
    lines = [
        "# Reproduction report",
        "",
        f"<!-- Generated by `{COMMAND}`; do not edit by hand. -->",
        "",
        f"Generated by `{COMMAND}` from the claims in `benchmarks/claims/` and the result "
        "files in `benchmarks/results/`: do not edit it by hand. "
        f"`{COMMAND} --check` (run by the tests) fails when a claim cites a missing result "
        "file or key, has no verdict, or this file is not what its inputs give.",
        "",
        "For each paper: its claims, the paper's number and ours, and a verdict: **holds**, "
        "**partly holds**, **does not hold**, **not measurable here** (and why) or **not "
        "measured yet** (and what would measure it). Every number says what it is. Where a "
        "result file predates the recording of the machine and versions, the report says "
        '"not recorded". The commands write their data paths as `/path/to/...`.',
        "",
        "Verdicts: "
        + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
        + f" ({len(claims)} claims).",
        "",
        "## Summary",
        "",
        "| claim | paper | ours | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for paper in papers:
        for claim in (c for c in claims if c.paper == paper.key):
            lines.append(_row(claim, results, f"[{numbering[claim.id]}](#{claim.id}): "))
    for paper in papers:
        lines += _render_paper(paper, claims, plots, results, numbering)
    return "\n".join(lines) + "\n"


def _row(claim, results, first):
    ours = ours_text(claim, results, limit=TABLE_NUMBERS)
    return (
        f"| {first}{_cell(claim.short)} | {_cell(claim.paper_number)} | {_cell(ours)} | "
        f"**{verdict_of(claim, results).verdict}** |"
    )


def _render_paper(paper, claims, plots, results, numbering):
    own = [c for c in claims if c.paper == paper.key]
    lines = [
        "",
        f'<a id="{paper.key}"></a>',
        "",
        f"## {paper.title}",
        "",
        f"Source: {paper.source}. Models: " + ", ".join(f"`{m}`" for m in paper.models) + ".",
        "",
        "| # | claim | paper | ours | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for claim in own:
        lines.append(_row(claim, results, f"[{numbering[claim.id]}](#{claim.id}) | "))
    for claim in own:
        lines += _render_claim(claim, results, numbering)
    own_plots = [p for p in plots if p.paper == paper.key]
    grids = sorted(
        {n.file for c in own for n in c.ours if n.file in results and _sample_grid(results[n.file])}
    )
    if own_plots or grids:
        lines += ["", "### Plots", ""]
    for plot in own_plots:
        path = f"{RESULTS_LINK}/{plot.name}" if isinstance(plot, Figure) else plot.name
        lines += [f"![{plot.title}]({path})", ""]
        if plot.caption:
            lines += [f"*{plot.title}.* {plot.caption}", ""]
    for name in grids:
        result = results[name]["result"]
        temperatures = ", ".join(f"{t:g}" for t in result.get("sample_grid_temperatures") or [])
        lines += [
            f"![samples of {result.get('model')}]({RESULTS_LINK}/{result['sample_grid']})",
            "",
            f"*Samples of `{result.get('model')}` from `{name}`, one row per temperature "
            f"({temperatures}).*",
            "",
        ]
    if paper.pending:
        lines += ["", "### Not recorded yet", ""]
        lines += [f"- {item}" for item in paper.pending]
    return lines


def _render_claim(claim, results, numbering):
    verdict = verdict_of(claim, results)
    lines = [
        "",
        f'<a id="{claim.id}"></a>',
        "",
        f"### {numbering[claim.id]}. {claim.short}",
        "",
        f"- **The claim:** {claim.statement}"
        + (f" The paper's number: {claim.paper_number}." if claim.paper_number != "-" else ""),
    ]
    if claim.ours:
        lines.append(f"- **Ours:** {ours_text(claim, results)}.")
    if claim.measure:
        lines.append(f"- **What the numbers are:** {claim.measure}")
    if claim.data:
        lines.append(f"- **Data:** {claim.data}.")
    if claim.budget:
        lines.append(f"- **Budget:** {claim.budget}.")
    files = sorted({n.file for n in claim.ours})
    if files:
        machines = sorted({hardware(results[f]) for f in files})
        lines.append("- **Hardware:** " + " / ".join(machines) + ".")
        commands = sorted({c for c in (command_of(results[f]) for f in files) if c})
        lines += [f"- **Command:** `{c}`" for c in commands]
        if any(command_of(results[f]) is None for f in files):
            documented = claim.command or "not recorded"
            if claim.command and not claim.command.startswith("as "):
                documented = f"`{claim.command}`"
            lines.append(
                f"- **Command (not recorded in the result file, as documented):** {documented}"
            )
        lines.append(
            "- **Result files:** " + ", ".join(f"[`{f}`]({RESULTS_LINK}/{f})" for f in files)
        )
    if claim.notes:
        lines.append(f"- **Notes:** {claim.notes}")
    lines.append(f"- **Verdict: {verdict.verdict}.** {_sentence(verdict.reason)}")
    return lines


# README's model table.

_ROW = re.compile(r"^\| `(?P<model>[a-z_]+)` \| ")
COLUMN = "reproduction (generated by `python -m benchmarks.report`)"


def update_readme(text, claims, headlines, results):
    """README's text with the model table's last column set to each model's headline claim."""
    by_id = {c.id: c for c in claims}
    out, in_table, seen = [], False, set()
    for line in text.split("\n"):
        if line.startswith("| name | model | `log_prob` is |"):
            in_table = True
            line = f"| name | model | `log_prob` is | {COLUMN} |"
        elif in_table and re.fullmatch(r"\|( ?-+ ?\|){3,4}", line):
            line = "| --- | --- | --- | --- |"
        elif in_table and _ROW.match(line):
            model = _ROW.match(line).group("model")
            cells = line[2:-2].split(" | ")
            if model in headlines:
                cell = _cell(headline_cell(by_id[headlines[model]], results))
                seen.add(model)
            else:
                cell = "-"
            line = "| " + " | ".join([*cells[:3], cell]) + " |"
        elif in_table and not line.startswith("|"):
            in_table = False
        out.append(line)
    missing = sorted(set(headlines) - seen)
    if missing:
        raise ReportError(f"README.md's model table has no row for {', '.join(missing)}")
    return "\n".join(out)


# Plots.


def write_plots(plots, results, docs_dir):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
    for plot in plots:
        if isinstance(plot, Figure):  # drawn by its benchmark, linked from the results
            continue
        if isinstance(plot, Bars):
            fig, axes = plt.subplots(1, len(plot.panels), figsize=(4.2 * len(plot.panels), 3.6))
            axes = [axes] if len(plot.panels) == 1 else list(axes)
            for ax, (ylabel, numbers) in zip(axes, plot.panels):
                values = [value_of(n, results) for n in numbers]
                labels = [n.label for n in numbers]
                ax.bar(range(len(values)), values, color=[f"C{i}" for i in range(len(values))])
                ax.set_xticks(range(len(values)), labels, rotation=30, ha="right")
                ax.set_ylabel(ylabel)
                for i, v in enumerate(values):
                    ax.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=7)
        else:
            fig, ax = plt.subplots(figsize=(7, 4))
            if isinstance(plot, Strip):
                for i, number in enumerate(plot.columns):
                    ys = values_of(number, results)
                    xs = [
                        i + 0.1 * (j - (len(ys) - 1) / 2) / max(len(ys), 1) for j in range(len(ys))
                    ]
                    ax.plot(xs, ys, "o", color=f"C{i}", alpha=0.8)
                    centre = {"mean": statistics.fmean, "median": statistics.median}[plot.centre]
                    ax.plot([i - 0.2, i + 0.2], [centre(ys)] * 2, "-", color=f"C{i}")
                ax.set_xticks(range(len(plot.columns)), [n.label for n in plot.columns])
                ax.set_ylabel(plot.ylabel)
            elif isinstance(plot, Points):
                for i, (label, points) in enumerate(plot.series):
                    xs = [value_of(x, results) for x, _ in points]
                    ys = [value_of(y, results) for _, y in points]
                    ax.plot(xs, ys, "o-" if len(points) > 1 else "o", color=f"C{i}", label=label)
                ax.set_xlabel(plot.xlabel)
                ax.set_ylabel(plot.ylabel)
            elif isinstance(plot, Cumulative):
                for i, number in enumerate(plot.series):
                    seconds = values_of(number, results)
                    minutes, total = [], 0.0
                    for s in seconds:
                        total += s
                        minutes.append(total / 60)
                    ax.plot(minutes, range(1, len(minutes) + 1), color=f"C{i}", label=number.label)
                ax.set_xlabel("training minutes")
                ax.set_ylabel("epochs")
            band = getattr(plot, "band", None)
            if band:
                centre, half, label = band
                ax.axhspan(centre - half, centre + half, color="0.5", alpha=0.25, label=label)
            if isinstance(plot, Points | Cumulative) or band:
                ax.legend(fontsize=7)
        fig.suptitle(plot.title, fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(docs_dir, plot.name), dpi=100, metadata={"Software": None})
        plt.close(fig)


# Entry points.


def build(claims, plots, papers, headlines, results_dir, readme_text):
    """(report text, README text) from the inputs; raises ReportError on invalid inputs."""
    errors = validate(claims, plots, papers, headlines, results_dir)
    if errors:
        raise ReportError("\n".join(errors))
    results = load_results(results_dir, cited_files(claims, plots))
    report = render(claims, plots, papers, results)
    readme = update_readme(readme_text, claims, headlines, results) if readme_text else None
    return report, readme, results


def check(
    claims=None,
    plots=None,
    papers=None,
    headlines=None,
    results_dir=RESULTS_DIR,
    docs_dir=DOCS_DIR,
    readme=README,
):
    """Problems, one line each: invalid claims or results, or a stale report or README."""
    claims, plots, papers, headlines = _defaults(claims, plots, papers, headlines)
    readme_text = _read(readme) if readme else None
    try:
        report, new_readme, _ = build(claims, plots, papers, headlines, results_dir, readme_text)
    except ReportError as error:
        return str(error).split("\n")
    errors = []
    report_path = os.path.join(docs_dir, REPORT_NAME)
    if _read(report_path) != report:
        errors.append(f"docs/{REPORT_NAME} is not what the claims and results give: run {COMMAND}")
    for plot in plots:
        if not isinstance(plot, Figure) and not os.path.exists(os.path.join(docs_dir, plot.name)):
            errors.append(f"docs/{plot.name} is missing: run {COMMAND}")
    if readme and new_readme != readme_text:
        errors.append(f"README.md's model table is not what the claims give: run {COMMAND}")
    return errors


def write(
    claims=None,
    plots=None,
    papers=None,
    headlines=None,
    results_dir=RESULTS_DIR,
    docs_dir=DOCS_DIR,
    readme=README,
    with_plots=True,
):
    claims, plots, papers, headlines = _defaults(claims, plots, papers, headlines)
    readme_text = _read(readme) if readme else None
    report, new_readme, results = build(claims, plots, papers, headlines, results_dir, readme_text)
    os.makedirs(docs_dir, exist_ok=True)
    with open(os.path.join(docs_dir, REPORT_NAME), "w") as f:
        f.write(report)
    if readme and new_readme != readme_text:
        with open(readme, "w") as f:
            f.write(new_readme)
    if with_plots:
        write_plots(plots, results, docs_dir)


def _defaults(claims, plots, papers, headlines):
    return (
        claims_module.CLAIMS if claims is None else claims,
        claims_module.PLOTS if plots is None else plots,
        claims_module.PAPERS if papers is None else papers,
        claims_module.HEADLINES if headlines is None else headlines,
    )


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="validate only; exit 1 on a problem")
    p.add_argument("--results_dir", default=RESULTS_DIR)
    p.add_argument("--docs_dir", default=DOCS_DIR)
    p.add_argument("--readme", default=README, help="README.md to update ('' for none)")
    p.add_argument("--no_plots", action="store_true", help="write the text only")
    args = p.parse_args(argv)
    readme = args.readme or None
    if args.check:
        errors = check(results_dir=args.results_dir, docs_dir=args.docs_dir, readme=readme)
        for error in errors:
            print(f"report check failed: {error}", file=sys.stderr)
        if not errors:
            print(f"report check passed: {len(claims_module.CLAIMS)} claims")
        return 1 if errors else 0
    try:
        write(
            results_dir=args.results_dir,
            docs_dir=args.docs_dir,
            readme=readme,
            with_plots=not args.no_plots,
        )
    except ReportError as error:
        for line in str(error).split("\n"):
            print(f"report failed: {line}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.relpath(os.path.join(args.docs_dir, REPORT_NAME), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
