"""Score the extractor against hand-annotated gold facts.

    python -m shegong.extraction.evaluate GOLD.jsonl REPORT [REPORT ...] [--details] [--out PRED.jsonl]
    python -m shegong.extraction.evaluate GOLD.jsonl --pred PRED.jsonl      (score facts extracted earlier)

GOLD.jsonl has one document a line: {"doc": NAME, "facts": [{metric, value, adcode, year, ...}]}. A predicted
fact matches a gold fact of the same document when the metric is equal and the value is within 0.5% (each gold
fact used once) — the same matching as the project's scoring tool. Prints precision, recall, F1 and the
region (adcode) / year accuracy over matched pairs.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from .extract import extract_file
from .reading import ReportReadError


def load_gold(path: str | Path) -> dict[str, list[dict]]:
    gold: dict[str, list[dict]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                gold[Path(doc["doc"]).name] = doc.get("facts", [])
    return gold


def _close(a, b) -> bool:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return abs(a - b) <= 0.005 * abs(b) + 1e-9


def match(gold_facts: list[dict], pred_facts: list[dict]) -> list[tuple[dict, dict]]:
    used: set[int] = set()
    pairs = []
    for p in pred_facts:
        for i, g in enumerate(gold_facts):
            if i not in used and g["metric"] == p.get("metric") and _close(p.get("value"), g["value"]):
                used.add(i)
                pairs.append((g, p))
                break
    return pairs


def score(gold: dict[str, list[dict]], pred: dict[str, list[dict]], details: bool = False) -> dict:
    tp = n_gold = n_pred = region_ok = year_ok = 0
    lines: list[str] = []
    for doc, gfacts in sorted(gold.items()):
        pfacts = pred.get(doc, [])
        pairs = match(gfacts, pfacts)
        tp += len(pairs)
        n_gold += len(gfacts)
        n_pred += len(pfacts)
        for g, p in pairs:
            region_ok += (g.get("adcode") or None) == (p.get("adcode") or None)
            year_ok += g.get("year") == p.get("year")
        if details:
            mg = {id(g) for g, _ in pairs}
            mp = {id(p) for _, p in pairs}
            lines += [
                f"MISSED   {doc}: {g['metric']}={g['value']} «{g.get('quote', '')}»"
                for g in gfacts
                if id(g) not in mg
            ]
            lines += [
                f"SPURIOUS {doc}: {p['metric']}={p['value']} «{p.get('quote', '')}»"
                for p in pfacts
                if id(p) not in mp
            ]
            for g, p in pairs:
                if (g.get("adcode") or None) != (p.get("adcode") or None) or g.get("year") != p.get("year"):
                    lines.append(
                        f"CONTEXT  {doc}: {g['metric']}={g['value']} gold {g.get('adcode')}/{g.get('year')}"
                        f" got {p.get('adcode')}/{p.get('year')} «{p.get('quote', '')}»"
                    )
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "documents": len(gold),
        "gold": n_gold,
        "predicted": n_pred,
        "matched": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "region_accuracy": region_ok / tp if tp else 0.0,
        "year_accuracy": year_ok / tp if tp else 0.0,
        "details": lines,
    }


ERROR_KINDS = ("missed", "spurious", "wrong_year", "wrong_region")


def breakdown(gold: dict[str, list[dict]], pred: dict[str, list[dict]]) -> dict:
    """Per metric: gold, predicted, matched, P/R/F1 and errors by kind; and the error kinds over all metrics.

    missed = gold facts no prediction matched; spurious = predictions matching no gold fact; wrong_year /
    wrong_region = matched pairs whose year / adcode differ."""
    per: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("gold", "predicted", "matched", *ERROR_KINDS), 0)
    )
    for doc in sorted(set(gold) | set(pred)):
        gfacts, pfacts = gold.get(doc, []), pred.get(doc, []) if doc in gold else []
        pairs = match(gfacts, pfacts)
        matched_g = {id(g) for g, _ in pairs}
        matched_p = {id(p) for _, p in pairs}
        for g in gfacts:
            per[g["metric"]]["gold"] += 1
            per[g["metric"]]["missed"] += id(g) not in matched_g
        for p in pfacts:
            per[p["metric"]]["predicted"] += 1
            per[p["metric"]]["spurious"] += id(p) not in matched_p
        for g, p in pairs:
            row = per[g["metric"]]
            row["matched"] += 1
            row["wrong_year"] += g.get("year") != p.get("year")
            row["wrong_region"] += (g.get("adcode") or None) != (p.get("adcode") or None)
    metrics = {}
    for metric, row in sorted(per.items()):
        p = row["matched"] / row["predicted"] if row["predicted"] else 0.0
        r = row["matched"] / row["gold"] if row["gold"] else 0.0
        metrics[metric] = row | {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
    kinds = {kind: sum(row[kind] for row in per.values()) for kind in ERROR_KINDS}
    return {"metrics": metrics, "errors": kinds}


def format_breakdown(result: dict) -> list[str]:
    head = f"{'metric':<28}{'gold':>6}{'pred':>6}{'match':>6}{'P':>7}{'R':>7}{'F1':>7}"
    head += "".join(f"{k:>14}" for k in ERROR_KINDS)
    lines = [head, "-" * len(head)]
    for metric, row in result["metrics"].items():
        line = f"{metric:<28}{row['gold']:>6}{row['predicted']:>6}{row['matched']:>6}"
        line += f"{row['precision']:>7.2f}{row['recall']:>7.2f}{row['f1']:>7.2f}"
        line += "".join(f"{row[k]:>14}" for k in ERROR_KINDS)
        lines.append(line)
    lines.append("errors by kind: " + ", ".join(f"{k} {v}" for k, v in result["errors"].items()))
    return lines


def load_predicted(path: str | Path) -> dict[str, list[dict]]:
    pred: dict[str, list[dict]] = defaultdict(list)
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    fact = json.loads(line)
                    pred[Path(fact["doc"]).name].append(fact)
                except (ValueError, KeyError) as exc:
                    raise SystemExit(
                        f"{path}:{n}: not a fact with a 'doc' ({exc}); give `shegong extract` output"
                    ) from None
    return pred


def main(
    gold_path: str | Path, report_paths: list[str | Path], details: bool = False, out: str | None = None
) -> dict:
    gold = load_gold(gold_path)
    pred: dict[str, list[dict]] = defaultdict(list)
    rows: list[dict] = []
    started = time.perf_counter()
    for path in report_paths:
        try:
            result = extract_file(path)
        except ReportReadError as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        for fact in result.facts:
            row = fact.to_dict()
            pred[result.doc].append(row)
            rows.append(row)
    elapsed = time.perf_counter() - started
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    result = score(gold, pred, details=details)
    for line in result["details"]:
        print(line)
    print(
        f"documents {result['documents']}  gold facts {result['gold']}  predicted {result['predicted']}"
        f"  matched {result['matched']}  ({len(report_paths)} files in {elapsed:.2f}s)"
    )
    print(f"region accuracy {result['region_accuracy']:.3f}  year accuracy {result['year_accuracy']:.3f}")
    print(f"precision {result['precision']:.3f} recall {result['recall']:.3f} f1 {result['f1']:.3f}")
    return result


def _cli(argv: list[str]) -> int:
    if "--pred" in argv:
        i = argv.index("--pred")
        if i + 1 >= len(argv) or not argv[0:1] or argv[0].startswith("--"):
            print(__doc__, file=sys.stderr)
            return 2
        for line in format_breakdown(breakdown(load_gold(argv[0]), load_predicted(argv[i + 1]))):
            print(line)
        return 0
    args = [a for a in argv if not a.startswith("--")]
    out = None
    if "--out" in argv:
        i = argv.index("--out")
        out = argv[i + 1]
        args = [a for a in args if a != out]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    main(args[0], args[1:], details="--details" in argv, out=out)
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
