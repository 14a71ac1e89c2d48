"""The vocabulary of claims: result numbers, verdict rules, claims, papers and plots."""

import dataclasses
import math
import statistics

__all__ = [
    "AllOf",
    "AtLeast",
    "AtMost",
    "Bars",
    "Claim",
    "Close",
    "Cumulative",
    "Figure",
    "Higher",
    "IMAGES_PER_SECOND",
    "Lower",
    "Number",
    "Paper",
    "Points",
    "Strip",
    "VERDICTS",
    "Verdict",
    "not_measurable",
    "not_measured",
]

VERDICTS = ("holds", "partly holds", "does not hold", "not measurable here", "not measured yet")


@dataclasses.dataclass(frozen=True)
class Number:
    """One of our numbers: `key` of the result file `file` (a name in `benchmarks/results/`).

    `std`: key of its standard deviation (shown as `value ± std`). `reduce`:
    "mean" or "median" of a list-valued key. `scale` multiplies it (1/60:
    seconds to minutes). `digits` after the point.
    """

    file: str
    key: str
    label: str = ""
    std: str | None = None
    reduce: str | None = None
    scale: float = 1.0
    digits: int = 2
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str


def not_measured(how):
    """The verdict of a claim no result measures yet; `how` says what would measure it."""
    return Verdict("not measured yet", how)


def not_measurable(why):
    return Verdict("not measurable here", why)


def _mean(values):
    return statistics.fmean(values)


@dataclasses.dataclass(frozen=True)
class AtMost:
    """Holds when the mean of the claim's numbers is at most `limit` (`why` says where from)."""

    limit: float
    why: str = ""

    def __call__(self, numbers, values):
        value = _mean(values)
        what = "The mean of ours" if len(values) > 1 else "Ours"
        ok = value <= self.limit
        relation = "<=" if ok else ">"
        reason = f"{what}, {value:.2f}, {relation} {self.limit:g}"
        return Verdict("holds" if ok else "does not hold", _why(reason, self.why))


@dataclasses.dataclass(frozen=True)
class Lower:
    """Holds when number `a` is below number `b` (indices into the claim's numbers).

    A non-finite number is a run that diverged (a NaN loss or FID): a finite `a`
    is below it, and a non-finite `a` is below nothing.
    """

    a: int = 0
    b: int = 1
    why: str = ""

    def __call__(self, numbers, values):
        if not (math.isfinite(values[self.a]) and math.isfinite(values[self.b])):
            ok = math.isfinite(values[self.a])
            diverged = numbers[self.b if ok else self.a].label
            reason = f"{diverged} is not finite (diverged)"
            return Verdict("holds" if ok else "does not hold", _why(reason, self.why))
        ok = values[self.a] < values[self.b]
        relation = "below" if ok else "not below"
        reason = (
            f"{numbers[self.a].label} {values[self.a]:.{numbers[self.a].digits}f} is {relation} "
            f"{numbers[self.b].label} {values[self.b]:.{numbers[self.b].digits}f}"
        )
        return Verdict("holds" if ok else "does not hold", _why(reason, self.why))


@dataclasses.dataclass(frozen=True)
class Higher:
    """Holds when number `a` is above `factor` times number `b` (indices into the numbers)."""

    a: int = 0
    b: int = 1
    why: str = ""
    factor: float = 1.0

    def __call__(self, numbers, values):
        ok = values[self.a] > self.factor * values[self.b]
        relation = "above" if ok else "not above"
        if self.factor != 1.0:
            relation += f" {self.factor:g} x"
        ratio = f" ({values[self.a] / values[self.b]:.2f}x)" if values[self.b] else ""
        reason = (
            f"{numbers[self.a].label} {values[self.a]:.{numbers[self.a].digits}f} is {relation} "
            f"{numbers[self.b].label} {values[self.b]:.{numbers[self.b].digits}f}{ratio}"
        )
        return Verdict("holds" if ok else "does not hold", _why(reason, self.why))


@dataclasses.dataclass(frozen=True)
class AtLeast:
    """Holds when number `a` is at least number `b` minus `margin` (numbers of any sign)."""

    a: int = 0
    b: int = 1
    margin: float = 0.0
    why: str = ""

    def __call__(self, numbers, values):
        gap = values[self.a] - values[self.b]
        ok = gap >= -self.margin
        first = f"{numbers[self.a].label} {values[self.a]:.{numbers[self.a].digits}f}"
        second = f"{numbers[self.b].label} {values[self.b]:.{numbers[self.b].digits}f}"
        if self.margin:
            within = "within" if ok else "beyond"
            reason = f"{first} is {gap:+.{numbers[self.a].digits}f} from {second}, {within} "
            reason += f"the margin of {self.margin:g}"
        else:
            reason = f"{first} is {'at least' if ok else 'below'} {second}"
        return Verdict("holds" if ok else "does not hold", _why(reason, self.why))


@dataclasses.dataclass(frozen=True)
class AllOf:
    """Every rule of `rules` on the same numbers: holds if all hold, partly if some do."""

    rules: tuple

    def __call__(self, numbers, values):
        verdicts = [rule(numbers, values) for rule in self.rules]
        held = sum(v.verdict == "holds" for v in verdicts)
        verdict = "holds" if held == len(verdicts) else "partly holds" if held else "does not hold"
        return Verdict(verdict, "; ".join(v.reason for v in verdicts))


@dataclasses.dataclass(frozen=True)
class Close:
    """Holds when numbers `a` and `b` differ by at most `tolerance`."""

    tolerance: float
    a: int = 0
    b: int = 1
    why: str = ""

    def __call__(self, numbers, values):
        gap = abs(values[self.a] - values[self.b])
        ok = gap <= self.tolerance
        relation = "<=" if ok else ">"
        reason = (
            f"{numbers[self.a].label} and {numbers[self.b].label} differ by {gap:.2f} "
            f"{relation} {self.tolerance:g}"
        )
        return Verdict("holds" if ok else "does not hold", _why(reason, self.why))


def _why(reason, why):
    return f"{reason} ({why})" if why else reason


@dataclasses.dataclass(frozen=True)
class Claim:
    """A paper's claim and ours.

    `statement`: the paper's words (where it says it); `paper_number`: its
    number, or "-" for a claim without one; `short`: a few words for tables;
    `measure`: what our numbers are (FID of how many samples against what,
    which bound for bits/dim, over which pixels); `command`: the command that
    produced the cited files, for files that do not record it.
    """

    id: str
    paper: str
    short: str
    statement: str
    paper_number: str
    verdict: object
    ours: tuple = ()
    measure: str = ""
    data: str = ""
    budget: str = ""
    command: str = ""
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class Paper:
    key: str
    tag: str  # numbers its claims: "GLF 1", ...
    title: str
    source: str
    models: tuple
    pending: tuple = ()  # plots and measurements not recorded yet


@dataclasses.dataclass(frozen=True)
class Strip:
    """Each number a list of values (one column of points each), with an optional band."""

    name: str
    paper: str
    title: str
    ylabel: str
    columns: tuple
    band: tuple | None = None  # (centre, half-width, label)
    caption: str = ""
    centre: str = "mean"  # the line drawn across each column: "mean" or "median"


@dataclasses.dataclass(frozen=True)
class Bars:
    """Panels of bars: `panels` is a tuple of (y label, numbers)."""

    name: str
    paper: str
    title: str
    panels: tuple
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Points:
    """Series of (x, y) points: `series` is a tuple of (label, ((x, y), ...)).

    x and y are `Number`s or plain floats.
    """

    name: str
    paper: str
    title: str
    xlabel: str
    ylabel: str
    series: tuple
    band: tuple | None = None
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Cumulative:
    """Epochs against wall time: each number a list of per-epoch seconds."""

    name: str
    paper: str
    title: str
    series: tuple
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Figure:
    """A PNG a benchmark wrote into `benchmarks/results/` (`name`), shown as it is.

    For pictures no result number can redraw (densities, samples); the report
    links it from the results and checks that it exists.
    """

    name: str
    paper: str
    title: str
    caption: str = ""


#: Number options of a throughput in images/s.
IMAGES_PER_SECOND = dict(digits=1, unit=" img/s")
