"""Score the extractor against hand-annotated gold facts.

    python -m shegong.extraction.evaluate GOLD.jsonl REPORT [REPORT ...] [--details] [--out PRED.jsonl]

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
